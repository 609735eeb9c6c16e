use super::{Elementwise, ElementwiseDerivative};
use crate::Float;
use crate::float::c;

/// The hyperbolic tangent, a zero-centred sigmoid.
///
/// `phi(x) = (e^x - e^-x) / (e^x + e^-x)`, `phi'(x) = 1 - phi(x)^2`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tanh;

impl<F: Float> Elementwise<F> for Tanh {
    const NAME: &'static str = "tanh";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        x.vtanh()
    }
    fn saturated(&self, _x: F, fx: F) -> bool {
        fx.abs() > c(0.99)
    }
}

impl<F: Float> ElementwiseDerivative<F> for Tanh {
    #[inline(always)]
    fn dphi(&self, _x: F, fx: F) -> F {
        F::one() - fx * fx
    }
}
