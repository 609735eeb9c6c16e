use super::{DeltaFor, Loss, LossFor};
use crate::activation::Softmax;
use crate::float::c;
use crate::{Error, Float, Result};

/// Categorical cross-entropy, for softmax outputs over mutually exclusive classes.
///
/// `L = -sum_k y_k ln h_k` with `h = softmax(a)`. Evaluated from the logits as
/// `sum_k y_k (logsumexp(a) - a_k)`, finite for any `a`. Through the softmax
/// Jacobian the output delta becomes `delta_k = h_k sum_j y_j - y_k`, which is
/// the familiar `h_k - y_k` for one-hot (or any probability-vector) targets.
/// Build one-hot targets from class labels with
/// [`one_hot`](crate::data::one_hot).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CrossEntropy;

impl<F: Float> Loss<F> for CrossEntropy {
    const NAME: &'static str = "cross_entropy";
    fn check_targets(&self, y: &[F], width: usize) -> Result<()> {
        for (row, y) in y.chunks_exact(width).enumerate() {
            let sum: F = y.iter().copied().sum();
            if y.iter().any(|&v| v.is_nan() || v < F::zero()) || (sum - F::one()).abs() > c(1e-3) {
                return Err(Error::InvalidTarget {
                    row,
                    reason: "cross-entropy targets must be probabilities that sum to 1 \
                             (one-hot rows; see data::one_hot)"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

impl<F: Float> LossFor<F, Softmax> for CrossEntropy {
    fn total(&self, _act: &Softmax, a: &[F], _h: &[F], y: &[F], width: usize) -> F {
        let mut total = F::zero();
        for (a, y) in a.chunks_exact(width).zip(y.chunks_exact(width)) {
            let max = a.iter().copied().fold(F::neg_infinity(), F::max);
            let lse = max + a.iter().map(|&a| (a - max).vexp()).sum::<F>().ln();
            total += a.iter().zip(y).map(|(&a, &y)| y * (lse - a)).sum::<F>();
        }
        total
    }
}

impl<F: Float> DeltaFor<F, Softmax> for CrossEntropy {
    fn delta(
        &self,
        _act: &Softmax,
        _a: &[F],
        h: &[F],
        y: &[F],
        _g: &mut [F],
        delta: &mut [F],
        width: usize,
    ) {
        let rows = h.chunks_exact(width).zip(y.chunks_exact(width));
        for ((h, y), d) in rows.zip(delta.chunks_exact_mut(width)) {
            let mass: F = y.iter().copied().sum();
            for ((d, &h), &y) in d.iter_mut().zip(h).zip(y) {
                *d = h * mass - y;
            }
        }
    }
}
