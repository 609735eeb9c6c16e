use super::{Elementwise, ElementwiseDerivative};
use crate::Float;

/// The rectified linear unit (Nair & Hinton 2010).
///
/// `phi(x) = max(0, x)`, `phi'(x) = 1` if `x > 0`, else `0` (the
/// subgradient at `0` is taken as `0`, as PyTorch does).
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
}

impl<F: Float> ElementwiseDerivative<F> for Relu {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        if x > F::zero() { F::one() } else { F::zero() }
    }
}
