use super::{Elementwise, ElementwiseDerivative};
use crate::Float;

/// The identity (linear) activation, for regression outputs.
///
/// `phi(x) = x`, `phi'(x) = 1`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Identity;

impl<F: Float> Elementwise<F> for Identity {
    const NAME: &'static str = "identity";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        x
    }
}

impl<F: Float> ElementwiseDerivative<F> for Identity {
    #[inline(always)]
    fn dphi(&self, _x: F, _fx: F) -> F {
        F::one()
    }
}
