use super::{Elementwise, ElementwiseDerivative, logistic};
use crate::Float;

/// Softplus, a smooth ReLU (Dugas et al. 2001).
///
/// `phi(x) = ln(1 + e^x)`, `phi'(x) = 1 / (1 + e^-x)` (the sigmoid).
/// Computed as `max(x, 0) + ln(1 + e^-|x|)`, which never overflows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Softplus;

impl<F: Float> Elementwise<F> for Softplus {
    const NAME: &'static str = "softplus";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        super::softplus(x)
    }
}

impl<F: Float> ElementwiseDerivative<F> for Softplus {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        logistic(x)
    }
}
