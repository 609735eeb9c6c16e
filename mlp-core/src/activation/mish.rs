use super::{Elementwise, ElementwiseDerivative, logistic, softplus};
use crate::Float;

/// Mish (Misra 2019).
///
/// `phi(x) = x tanh(softplus(x))`,
/// `phi'(x) = tanh(softplus(x)) + x sigma(x) (1 - tanh^2(softplus(x)))`,
/// using `d softplus(x) / dx = sigma(x)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mish;

impl<F: Float> Elementwise<F> for Mish {
    const NAME: &'static str = "mish";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        x * softplus(x).vtanh()
    }
}

impl<F: Float> ElementwiseDerivative<F> for Mish {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        let t = softplus(x).vtanh();
        t + x * logistic(x) * (F::one() - t * t)
    }
}
