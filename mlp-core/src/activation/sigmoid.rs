use super::{Elementwise, ElementwiseDerivative, logistic};
use crate::Float;
use crate::float::c;

/// The logistic sigmoid, for binary and multi-label outputs.
///
/// `phi(x) = 1 / (1 + e^-x)`, `phi'(x) = phi(x) (1 - phi(x))`.
/// Computed without overflow for large `|x|`. Paired with
/// [`Bce`](crate::loss::Bce), the output delta is the fused `y_hat - y`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sigmoid;

impl<F: Float> Elementwise<F> for Sigmoid {
    const NAME: &'static str = "sigmoid";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        logistic(x)
    }
    fn saturated(&self, _x: F, fx: F) -> bool {
        fx < c(0.01) || fx > c(0.99)
    }
}

// ANCHOR: dphi
impl<F: Float> ElementwiseDerivative<F> for Sigmoid {
    #[inline(always)]
    fn dphi(&self, _x: F, fx: F) -> F {
        fx * (F::one() - fx)
    }
}
// ANCHOR_END: dphi
