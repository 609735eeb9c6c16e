//! Loss functions `L(y_hat, y)` and the output-layer error they start backprop with.
//!
//! Per sample, the output error is `delta_m = phi_m'(a_m) (.) dL/dh_m`
//! (lecture notes eq. 8a). Losses that act element by element implement
//! [`ElementLoss`] (the value and `dL/dh` of one output) and then pair with
//! any differentiable output activation. Two losses are defined only for the
//! output they belong with, because there the product collapses to the fused,
//! numerically stable `delta = y_hat - y`:
//! binary cross-entropy after [`Sigmoid`](crate::activation::Sigmoid) and
//! categorical cross-entropy after [`Softmax`](crate::activation::Softmax).
//!
//! Every loss is a sum over the outputs of one sample; training averages it
//! over the samples of a batch.
//!
//! # Against PyTorch
//!
//! PyTorch's losses (with their default `reduction="mean"`) average over
//! every element of the batch, samples *and* outputs; `mlp` sums over the
//! `K` outputs of a sample and averages over the samples. For a network
//! with `K` outputs:
//!
//! | `mlp` | PyTorch | relation |
//! |---|---|---|
//! | `mse` (`1/2 sum_k r_k^2`) | `nn.MSELoss()` | `mse = K/2 x MSELoss` |
//! | `mae` | `nn.L1Loss()` | `mae = K x L1Loss` |
//! | `huber(d)` | `nn.HuberLoss(delta=d)` | `huber = K x HuberLoss` |
//! | `bce` (after sigmoid) | `nn.BCEWithLogitsLoss()` on the logits `a` | `bce = K x BCEWithLogitsLoss` |
//! | `cross_entropy` (after softmax) | `nn.CrossEntropyLoss()` on the logits `a`, with class-probability targets | equal |
//! | `hinge` | none: the perceptron criterion `max(0, -y h)` | not `nn.HingeEmbeddingLoss`, and not the SVM hinge `max(0, 1 - y h)` |
//!
//! Gradients scale the same way, so with plain SGD a learning rate `eta`
//! here is `eta x K/2` (mse) or `eta x K` (mae, huber, bce) in PyTorch.
//!
//! Around the loss, [`TrainConfig`](crate::TrainConfig) differs from
//! `torch.optim` in two places:
//! - `l1` and `l2` penalise weights only, never biases, and their
//!   gradients (`l1 sign(w) + l2 w`) are added *before* clipping; PyTorch's
//!   `weight_decay = l2` covers every parameter it is given and is added
//!   inside `step()`, after `clip_grad_norm_`.
//! - `Clip::Norm(c)` scales the gradients by `c / ||g||` when `||g|| > c`;
//!   `clip_grad_norm_` by `c / (||g|| + 1e-6)`.

mod bce;
mod cross_entropy;
mod hinge;
mod huber;
mod mae;
mod mse;

pub use bce::Bce;
pub use cross_entropy::CrossEntropy;
pub use hinge::Hinge;
pub use huber::Huber;
pub use mae::Mae;
pub use mse::Mse;

use crate::activation::{Activation, Derivative};
use crate::{Float, Result};
use std::fmt::Debug;

/// `sum_k term(a_k, y_k)`, added in order from `-0.0` exactly as
/// [`Iterator::sum`] would, with the terms computed four at a time into a
/// buffer so the compiler can vectorise them (a last, partial group is
/// padded with zeros, whose terms are computed and then ignored).
#[inline(always)]
pub(crate) fn sum_terms<F: Float>(a: &[F], y: &[F], term: impl Fn(F, F) -> F) -> F {
    const LANES: usize = 4;
    debug_assert_eq!(a.len(), y.len());
    let mut total = F::neg_zero();
    let mut terms = [F::zero(); LANES];
    let (ac, ar) = a.as_chunks::<LANES>();
    let (yc, yr) = y.as_chunks::<LANES>();
    for (a, y) in ac.iter().zip(yc) {
        for k in 0..LANES {
            terms[k] = term(a[k], y[k]);
        }
        for &t in &terms {
            total += t;
        }
    }
    let n = ar.len();
    if n > 0 {
        let (mut a, mut y) = ([F::zero(); LANES], [F::zero(); LANES]);
        // Element by element: `copy_from_slice` of a variable length is a call.
        for k in 0..n {
            (a[k], y[k]) = (ar[k], yr[k]);
        }
        for k in 0..LANES {
            terms[k] = term(a[k], y[k]);
        }
        for &t in &terms[..n] {
            total += t;
        }
    }
    total
}

/// A loss function, independent of the output layer it follows.
pub trait Loss<F: Float>: Copy + Debug + Send + Sync + 'static {
    /// The DSL name, e.g. `"bce"`.
    const NAME: &'static str;

    /// The name with parameters, e.g. `huber(1)`.
    fn describe(&self) -> String {
        Self::NAME.to_string()
    }

    /// Checks that targets (row-major, rows `width` long) lie in the loss's
    /// domain, e.g. `0 <= y <= 1` for BCE.
    ///
    /// # Errors
    /// [`Error::InvalidTarget`](crate::Error::InvalidTarget) naming the first bad row.
    fn check_targets(&self, _y: &[F], _width: usize) -> Result<()> {
        Ok(())
    }

    /// Checks the loss's parameters (Huber's threshold, say); training
    /// refuses a loss that fails, naming the reason.
    ///
    /// # Errors
    /// Why the parameters are invalid.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// A loss that can follow an output layer with activation `A`: it can be
/// evaluated from that layer's `a` and `h`.
#[diagnostic::on_unimplemented(
    message = "loss `{Self}` cannot follow a `{A}` output layer",
    label = "this loss does not pair with the output activation",
    note = "`bce` needs a `sigmoid` output and `cross_entropy` a `softmax` output: only with that pairing \
            is the output error the exact, numerically stable `delta = y_hat - y`; \
            for other outputs use `mse`, `mae` or `huber`"
)]
pub trait LossFor<F: Float, A: Activation<F>>: Loss<F> {
    /// The loss summed over the samples of a batch (not yet averaged).
    fn total(&self, act: &A, a: &[F], h: &[F], y: &[F], width: usize) -> F;
}

/// A loss whose output error `delta_m = dL/da_m` can be computed after an
/// output layer with activation `A`.
pub trait DeltaFor<F: Float, A: Derivative<F>>: LossFor<F, A> {
    /// Writes `delta_m = dL/da_m` for every sample (not averaged); `grad_h`
    /// is scratch space of the same size for `dL/dh_m`.
    // Each argument is one symbol of the formula; grouping them would hide that.
    #[allow(clippy::too_many_arguments)]
    fn delta(
        &self,
        act: &A,
        a: &[F],
        h: &[F],
        y: &[F],
        grad_h: &mut [F],
        delta: &mut [F],
        width: usize,
    );
}

/// A loss that is a sum over outputs of a function of `(h, y)`.
pub trait ElementLoss<F: Float>: Loss<F> {
    /// The loss of one output `h` against its target `y`.
    fn value(&self, h: F, y: F) -> F;
    /// `dL/dh` for that output.
    fn grad(&self, h: F, y: F) -> F;
}

/// Implements [`LossFor`] and [`DeltaFor`] for every output activation, for
/// types that implement [`ElementLoss`]: the output error is
/// `delta_m = phi_m'(a_m) (.) dL/dh_m`.
#[macro_export]
macro_rules! element_loss {
    ($($t:ty),+ $(,)?) => {$(
        impl<F: $crate::Float, A: $crate::Activation<F>> $crate::LossFor<F, A> for $t {
            fn total(&self, _act: &A, _a: &[F], h: &[F], y: &[F], _width: usize) -> F {
                h.iter().zip(y).map(|(&h, &y)| $crate::ElementLoss::<F>::value(self, h, y)).sum()
            }
        }
        // ANCHOR: element_delta
        impl<F: $crate::Float, A: $crate::Derivative<F>> $crate::DeltaFor<F, A> for $t {
            fn delta(&self, act: &A, a: &[F], h: &[F], y: &[F], grad_h: &mut [F], delta: &mut [F], width: usize) {
                // dL/dh for each output, then delta = phi'(a) (.) dL/dh.
                for ((g, &h), &y) in grad_h.iter_mut().zip(h).zip(y) {
                    *g = $crate::ElementLoss::<F>::grad(self, h, y);
                }
                act.backward(a, h, grad_h, delta, width);
            }
        }
        // ANCHOR_END: element_delta
    )+};
}

element_loss!(Mse, Mae, Huber, Hinge);

/// The first row (of rows `width` long) holding a value for which `bad` is true.
pub(crate) fn first_bad_row<F: Copy>(
    y: &[F],
    width: usize,
    bad: impl Fn(F) -> bool,
) -> Option<usize> {
    y.iter().position(|&v| bad(v)).map(|i| i / width.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Identity, Sigmoid, Softmax, Tanh};

    /// Loss values and output errors stay finite at logits of +-1e4, in f32 and f64.
    fn finite_at_extremes<F: Float>() {
        let a = [F::from_f64(1e4), F::from_f64(-1e4)];
        let y = [F::zero(), F::one()];
        let mut h = [F::zero(); 2];
        let (mut g, mut d) = ([F::zero(); 2], [F::zero(); 2]);

        Sigmoid.forward(&a, &mut h, 2);
        let l = Bce.total(&Sigmoid, &a, &h, &y, 2);
        Bce.delta(&Sigmoid, &a, &h, &y, &mut g, &mut d, 2);
        assert!(l.is_finite() && (l.as_f64() - 2e4).abs() < 1.0, "bce {l}");
        assert!(d.iter().all(|v| v.is_finite()));

        Softmax.forward(&a, &mut h, 2);
        let l = CrossEntropy.total(&Softmax, &a, &h, &y, 2);
        CrossEntropy.delta(&Softmax, &a, &h, &y, &mut g, &mut d, 2);
        assert!(
            l.is_finite() && (l.as_f64() - 2e4).abs() < 1.0,
            "cross-entropy {l}"
        );
        assert!(d.iter().all(|v| v.is_finite()));

        let mut h = [F::zero(); 2];
        Identity.forward(&a, &mut h, 2);
        for l in [
            Mse.total(&Identity, &a, &h, &y, 2),
            Mae.total(&Identity, &a, &h, &y, 2),
            Huber::new(1.0).total(&Identity, &a, &h, &y, 2),
        ] {
            assert!(l.is_finite());
        }
        Tanh.forward(&a, &mut h, 2);
        Mse.delta(&Tanh, &a, &h, &y, &mut g, &mut d, 2);
        assert!(d.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn finite_at_extreme_logits() {
        finite_at_extremes::<f32>();
        finite_at_extremes::<f64>();
    }

    #[test]
    fn target_domains_are_checked() {
        assert!(Loss::<f64>::check_targets(&Bce, &[0.0, 1.0, 0.5], 1).is_ok());
        assert!(Loss::<f64>::check_targets(&Bce, &[0.0, 1.5], 1).is_err());
        assert!(Loss::<f64>::check_targets(&CrossEntropy, &[0.0, 1.0, 0.3, 0.7], 2).is_ok());
        assert!(Loss::<f64>::check_targets(&CrossEntropy, &[0.0, 1.0, 1.0, 1.0], 2).is_err());
        assert!(Loss::<f64>::check_targets(&Hinge, &[1.0, -1.0], 1).is_ok());
        assert!(Loss::<f64>::check_targets(&Hinge, &[0.0], 1).is_err());
    }
}
