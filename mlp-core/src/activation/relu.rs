use super::{Elementwise, ElementwiseDerivative};
use crate::Float;

/// The rectified linear unit (Nair & Hinton 2010).
///
/// `phi(x) = max(0, x)`, `phi'(x) = 1` if `x > 0`, else `0` (the
/// subgradient at `0` is taken as `0`, as PyTorch does).
///
/// A unit passes gradient only where it is active (`x > 0`). With zero
/// biases and inputs of `0` and `1`, every unit is inactive at the origin
/// and a unit whose weights are all negative is inactive everywhere: it never
/// learns. So a ReLU layer's biases start at `0.1`, "so that the rectified
/// linear units will be initially active for most inputs in the training
/// set and allow the derivatives to pass through" (Goodfellow, Bengio &
/// Courville 2016, *Deep Learning*, section 6.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Relu;

impl<F: Float> Elementwise<F> for Relu {
    const NAME: &'static str = "relu";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        if x > F::zero() { x } else { F::zero() }
    }
    fn saturated(&self, x: F, _fx: F) -> bool {
        x <= F::zero()
    }
    fn initial_bias(&self) -> f64 {
        0.1
    }
}

impl<F: Float> ElementwiseDerivative<F> for Relu {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        if x > F::zero() { F::one() } else { F::zero() }
    }
}
