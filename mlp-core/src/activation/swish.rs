use super::{Elementwise, ElementwiseDerivative, logistic};
use crate::Float;

/// Swish / SiLU (Ramachandran, Zoph & Le 2017; Elfwing et al. 2018), `beta = 1`.
///
/// `phi(x) = x sigma(x)`, `phi'(x) = sigma(x) + x sigma(x) (1 - sigma(x))`
/// `= phi(x) + sigma(x) (1 - phi(x))`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Swish;

impl<F: Float> Elementwise<F> for Swish {
    const NAME: &'static str = "swish";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        x * logistic(x)
    }
}

impl<F: Float> ElementwiseDerivative<F> for Swish {
    #[inline(always)]
    fn dphi(&self, x: F, fx: F) -> F {
        fx + logistic(x) * (F::one() - fx)
    }
}
