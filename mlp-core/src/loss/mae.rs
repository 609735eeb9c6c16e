use super::{ElementLoss, Loss};
use crate::Float;

/// Absolute error: `L = sum_k |h_k - y_k|`, `dL/dh_k = sign(h_k - y_k)`
/// (`0` where `h_k = y_k`, the subgradient PyTorch uses).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mae;

impl<F: Float> Loss<F> for Mae {
    const NAME: &'static str = "mae";
}

impl<F: Float> ElementLoss<F> for Mae {
    #[inline(always)]
    fn value(&self, h: F, y: F) -> F {
        (h - y).abs()
    }
    #[inline(always)]
    fn grad(&self, h: F, y: F) -> F {
        let r = h - y;
        if r > F::zero() {
            F::one()
        } else if r < F::zero() {
            -F::one()
        } else {
            F::zero()
        }
    }
}
