use super::{DeltaFor, Loss, LossFor, first_bad_row, sum_terms};
use crate::activation::Sigmoid;
use crate::{Error, Float, Result};

/// Binary cross-entropy, for sigmoid outputs (binary or multi-label).
///
/// `L = -sum_k [y_k ln h_k + (1 - y_k) ln(1 - h_k)]` with `h = sigmoid(a)`.
/// Evaluated from the logits as `sum_k max(a_k, 0) - a_k y_k + ln(1 + e^-|a_k|)`,
/// which is finite for any `a`. The sigmoid's derivative `h (1 - h)` cancels
/// the loss's `1 / (h (1 - h))`, leaving the fused output delta
/// `delta_k = h_k - y_k`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bce;

impl<F: Float> Loss<F> for Bce {
    const NAME: &'static str = "bce";
    fn check_targets(&self, y: &[F], width: usize) -> Result<()> {
        match first_bad_row(y, width, |v| !(v >= F::zero() && v <= F::one())) {
            Some(row) => Err(Error::InvalidTarget {
                row,
                reason: "binary cross-entropy targets must lie in [0, 1]".into(),
            }),
            None => Ok(()),
        }
    }
}

impl<F: Float> LossFor<F, Sigmoid> for Bce {
    #[inline]
    fn total(&self, _act: &Sigmoid, a: &[F], _h: &[F], y: &[F], _width: usize) -> F {
        sum_terms(a, y, |a, y| {
            a.max(F::zero()) - a * y + (-a.abs()).vexp().vln1p()
        })
    }
}

impl<F: Float> DeltaFor<F, Sigmoid> for Bce {
    fn delta(
        &self,
        _act: &Sigmoid,
        _a: &[F],
        h: &[F],
        y: &[F],
        _g: &mut [F],
        delta: &mut [F],
        _w: usize,
    ) {
        for ((d, &h), &y) in delta.iter_mut().zip(h).zip(y) {
            *d = h - y;
        }
    }
}
