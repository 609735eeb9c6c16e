use super::{Elementwise, ElementwiseDerivative};
use crate::Float;
use crate::float::c;

/// The leaky ReLU (Maas et al. 2013): a small slope `beta` for negative inputs
/// keeps units from dying.
///
/// `phi(x) = x` if `x > 0`, else `beta x`; `phi'(x) = 1` if `x > 0`, else `beta`.
/// The default `beta` is `0.01`, as in PyTorch and the lecture notes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    /// The slope for `x <= 0`.
    pub beta: f64,
}

impl LeakyRelu {
    /// A leaky ReLU with negative slope `beta`.
    pub const fn new(beta: f64) -> Self {
        Self { beta }
    }
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<F: Float> Elementwise<F> for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        if x > F::zero() {
            x
        } else {
            c::<F>(self.beta) * x
        }
    }
    fn describe(&self) -> String {
        format!("leaky_relu({})", self.beta)
    }
    fn validate(&self) -> Result<(), String> {
        crate::float::finite_param("leaky_relu slope beta", self.beta)
    }
}

impl<F: Float> ElementwiseDerivative<F> for LeakyRelu {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        if x > F::zero() {
            F::one()
        } else {
            c(self.beta)
        }
    }
}
