use super::{Elementwise, ElementwiseDerivative};
use crate::Float;
use crate::float::c;

/// The exponential linear unit (Clevert, Unterthiner & Hochreiter 2016).
///
/// `phi(x) = x` if `x > 0`, else `alpha (e^x - 1)`;
/// `phi'(x) = 1` if `x > 0`, else `alpha e^x`. The default `alpha` is `1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// The saturation level `-alpha` for large negative inputs.
    pub alpha: f64,
}

impl Elu {
    /// An ELU with parameter `alpha`.
    pub const fn new(alpha: f64) -> Self {
        Self { alpha }
    }
}

impl Default for Elu {
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl<F: Float> Elementwise<F> for Elu {
    const NAME: &'static str = "elu";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        if x > F::zero() {
            x
        } else {
            c::<F>(self.alpha) * x.exp_m1()
        }
    }
    fn describe(&self) -> String {
        format!("elu({})", self.alpha)
    }
    fn validate(&self) -> Result<(), String> {
        crate::float::finite_param("elu alpha", self.alpha)
    }
}

impl<F: Float> ElementwiseDerivative<F> for Elu {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        if x > F::zero() {
            F::one()
        } else {
            c::<F>(self.alpha) * x.vexp()
        }
    }
}
