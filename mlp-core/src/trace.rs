//! Worked examples and gradient checks: backprop laid open.

use crate::activation::Derivative;
use crate::layer::{Backward, LayerView, OutputLayer, Takes};
use crate::loss::DeltaFor;
use crate::network::Network;
use crate::{Float, Result};
use ndarray::{Array1, Array2, ArrayView2};

/// One dense layer of a [`Trace`]: everything backprop computed there.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTrace<F> {
    /// The activation, with parameters.
    pub activation: String,
    /// Weights `W` (`out x in`) at the time of the trace.
    pub w: Array2<F>,
    /// Biases `b`.
    pub b: Array1<F>,
    /// The layer's input `h_prev` (the network input for the first layer).
    pub input: Array2<F>,
    /// Pre-activations `a = h_prev W^T + b`.
    pub a: Array2<F>,
    /// Outputs `h = phi(a)`.
    pub h: Array2<F>,
    /// Errors `delta = dL/da`, per sample.
    pub delta: Array2<F>,
    /// `dL/dW = delta^T h_prev / rows`.
    pub grad_w: Array2<F>,
    /// `dL/db = mean of delta over the rows`.
    pub grad_b: Array1<F>,
}

/// A forward and backward pass over one batch, layer by layer, without an update.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace<F> {
    /// The dense layers, first to last.
    pub layers: Vec<LayerTrace<F>>,
    /// The mean loss over the batch.
    pub loss: F,
}

/// The gradient of the mean loss over one batch, from
/// [`Network::gradients`]: before any penalty, clipping or update.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients<F> {
    /// The mean loss over the batch.
    pub loss: F,
    /// `(dL/dW, dL/db)` per dense layer, first layer first; `dL/dW` is
    /// `out x in`, laid out as the weights.
    pub layers: Vec<(Array2<F>, Array1<F>)>,
}

/// The result of [`Network::grad_check`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheck {
    /// The largest relative error `|g_bp - g_fd| / max(|g_bp|, |g_fd|, floor)`,
    /// `floor` being [`GRAD_CHECK_FLOOR`] `* max(1, |L|)`.
    pub max_rel_error: f64,
    /// The largest absolute error `|g_bp - g_fd|`.
    pub max_abs_error: f64,
    /// How many parameters were checked.
    pub checked: usize,
}

/// The smallest magnitude used as the denominator of a relative error, for
/// a loss of size 1 or less; [`Network::grad_check`] scales it by the
/// loss's magnitude `max(1, |L|)`.
///
/// The finite difference is itself only accurate to a few `1e-12` in `f64`
/// for a loss of size 1 (measured: up to `4e-12` on the test suite's
/// networks with `e = 1e-4`, rounding in the forward pass), so a gradient
/// of size `1e-6` cannot be resolved to a relative `1e-6` by any difference
/// quotient. Components smaller than `1e-5` are therefore compared on an
/// absolute scale of `1e-5 * tolerance`. The rounding error of the
/// quotient is about `u |L| / e` (`u` the float's unit roundoff), so it
/// grows with the loss: measured on a 16-16-16-16 network whose mean loss
/// is 12.5, the absolute disagreement falls from `3.6e-10` at `e = 1e-5`
/// to `4.0e-11` at `1e-4` and `3.7e-12` at `1e-3`, as rounding (not a
/// wrong gradient) predicts, hence the scaling.
pub const GRAD_CHECK_FLOOR: f64 = 1e-5;

impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Backward<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: DeltaFor<F, O::Act>,
    O::Act: Derivative<F>,
{
    /// Runs forward and backward on `(x, y)` with dropout off and returns, per
    /// dense layer, `a`, `h`, `delta`, `grad_w` and `grad_b`, for worked
    /// examples. The weights do not change.
    ///
    /// # Errors
    /// As [`Network::check_data`] and [`Network::validate`].
    pub fn trace(&mut self, x: ArrayView2<'_, F>, y: ArrayView2<'_, F>) -> Result<Trace<F>> {
        self.validate()?;
        self.check_data(x, y)?;
        let rows = self.gather(x, y, 0..x.nrows());
        let loss = self.backprop(rows, false) / F::from_f64(rows as f64);
        let mut layers = Vec::new();
        let mut input = x.to_owned();
        self.visit_layers(rows, &mut |layer| {
            if let LayerView::Dense(d) = layer {
                let h = d.h.to_owned();
                layers.push(LayerTrace {
                    activation: d.activation,
                    w: d.w.to_owned(),
                    b: d.b.to_owned(),
                    input: std::mem::replace(&mut input, h.clone()),
                    a: d.a.to_owned(),
                    h,
                    delta: d.delta.to_owned(),
                    grad_w: d.grad_w.to_owned(),
                    grad_b: d.grad_b.to_owned(),
                });
            }
        });
        Ok(Trace { layers, loss })
    }

    /// The gradient of the mean loss on `(x, y)` with respect to every weight
    /// and bias, as backprop computes it, with dropout and noise off: the
    /// gradient of the loss plus the hidden layers' activity penalties
    /// (see [`Penalty`](crate::Penalty), part of the network), before the
    /// L1/L2 weight penalties of a [`TrainConfig`](crate::TrainConfig) and
    /// clipping, and without a step (what `loss.backward()` leaves in
    /// PyTorch's `.grad`). `loss` is that objective's mean. The weights,
    /// the optimiser state and the random stream do not change.
    ///
    /// # Errors
    /// As [`Network::check_data`] and [`Network::validate`].
    pub fn gradients(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
    ) -> Result<Gradients<F>> {
        self.validate()?;
        self.check_data(x, y)?;
        let rows = self.gather(x, y, 0..x.nrows());
        let loss = self.backprop(rows, false) / F::from_f64(rows as f64);
        let mut layers = Vec::new();
        self.visit_layers(rows, &mut |layer| {
            if let LayerView::Dense(d) = layer {
                layers.push((d.grad_w.to_owned(), d.grad_b.to_owned()));
            }
        });
        Ok(Gradients { loss, layers })
    }

    /// Compares backprop's gradient of the mean loss on `(x, y)` with central
    /// finite differences, parameter by parameter, with dropout off.
    ///
    /// The difference quotient is the fourth-order central stencil
    /// `(8 (L(w+e) - L(w-e)) - (L(w+2e) - L(w-2e))) / 12e`, whose truncation
    /// error is `O(e^4)`: with `f64` and `e = 1e-4` both truncation and
    /// rounding (about `1e-16 / e`) stay near `1e-12`, so gradients are
    /// resolved to a relative `1e-6` down to magnitudes of about `1e-5`
    /// for a loss of size 1, and `1e-5 |L|` for a larger loss `L` (see
    /// [`GRAD_CHECK_FLOOR`]).
    /// (The two-point quotient `(L(w+e) - L(w-e)) / 2e` needs `e ~ 1e-6` to
    /// keep its `O(e^2)` truncation small, and then rounding alone is `1e-10`.)
    /// The weights are restored exactly afterwards.
    ///
    /// # Errors
    /// As [`Network::check_data`] and [`Network::validate`], and
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `eps` is
    /// positive and finite.
    pub fn grad_check(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        eps: f64,
    ) -> Result<GradCheck> {
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(crate::Error::InvalidConfig(format!(
                "the finite-difference step eps must be positive and finite, got {eps}"
            )));
        }
        self.validate()?;
        self.check_data(x, y)?;
        let rows = self.gather(x, y, 0..x.nrows());
        let loss = self.backprop(rows, false).as_f64() / rows as f64;
        // Rounding in the difference of two losses grows with their size.
        let floor = GRAD_CHECK_FLOOR * loss.abs().max(1.0);
        let mut backprop = Vec::new();
        let mut sizes = Vec::new();
        self.visit_params(&mut |p| {
            backprop.extend(p.grad.iter().map(|g| g.as_f64()));
            sizes.push(p.value.len());
        });
        let mut report = GradCheck {
            max_rel_error: 0.0,
            max_abs_error: 0.0,
            checked: 0,
        };
        let mut k = 0;
        for (tensor, &len) in sizes.iter().enumerate() {
            for i in 0..len {
                let original = self.nudge(tensor, i, None);
                let mut loss_at = |offset: f64| {
                    self.nudge(tensor, i, Some(original + F::from_f64(offset)));
                    self.forward_loss(rows, false).as_f64() / rows as f64
                };
                let (p2, p1, m1, m2) = (
                    loss_at(2.0 * eps),
                    loss_at(eps),
                    loss_at(-eps),
                    loss_at(-2.0 * eps),
                );
                self.nudge(tensor, i, Some(original));
                let numeric = (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * eps);
                let analytic = backprop[k];
                let abs = (numeric - analytic).abs();
                let rel = abs / numeric.abs().max(analytic.abs()).max(floor);
                report.max_abs_error = report.max_abs_error.max(abs);
                report.max_rel_error = report.max_rel_error.max(rel);
                report.checked += 1;
                k += 1;
            }
        }
        Ok(report)
    }

    /// Reads element `i` of parameter tensor `tensor`, and sets it to `value` if given.
    fn nudge(&mut self, tensor: usize, i: usize, value: Option<F>) -> F {
        let (mut t, mut old) = (0, F::zero());
        self.visit_params(&mut |p| {
            if t == tensor {
                old = p.value[i];
                if let Some(v) = value {
                    p.value[i] = v;
                }
            }
            t += 1;
        });
        old
    }
}
