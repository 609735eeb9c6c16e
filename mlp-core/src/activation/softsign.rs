use super::{Elementwise, ElementwiseDerivative};
use crate::Float;
use crate::float::c;

/// Softsign, a sigmoid with polynomial tails (Bergstra et al. 2009).
///
/// `phi(x) = x / (1 + |x|)`, `phi'(x) = 1 / (1 + |x|)^2`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Softsign;

impl<F: Float> Elementwise<F> for Softsign {
    const NAME: &'static str = "softsign";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        x / (F::one() + x.abs())
    }
    fn saturated(&self, _x: F, fx: F) -> bool {
        fx.abs() > c(0.9)
    }
}

impl<F: Float> ElementwiseDerivative<F> for Softsign {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        let d = F::one() + x.abs();
        F::one() / (d * d)
    }
}
