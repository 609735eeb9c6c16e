use super::{ElementLoss, Loss};
use crate::Float;
use crate::float::c;

/// Squared error, halved: `L = 1/2 sum_k (h_k - y_k)^2`, `dL/dh_k = h_k - y_k`.
///
/// The half is the textbook convention (the lecture notes; Nielsen's
/// quadratic cost), which makes the output delta `(h - y) (.) phi'(a)`.
/// PyTorch's `MSELoss()` averages over the `K` outputs instead and has no
/// half: it equals `2 / K` times this loss.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mse;

impl<F: Float> Loss<F> for Mse {
    const NAME: &'static str = "mse";
}

impl<F: Float> ElementLoss<F> for Mse {
    #[inline(always)]
    fn value(&self, h: F, y: F) -> F {
        let r = h - y;
        c::<F>(0.5) * r * r
    }
    #[inline(always)]
    fn grad(&self, h: F, y: F) -> F {
        h - y
    }
}
