//! The single-layer rules the book starts from: Rosenblatt's perceptron rule
//! (with Novikoff's convergence bound) and the Widrow-Hoff delta rule.
//!
//! Both use the bias trick: a sample `x` becomes `[1, x_1, ..., x_d]` and the
//! weight vector `[w_0, w_1, ..., w_d]` carries the bias as `w_0`.

use crate::dense::check_finite;
use crate::{Error, Float, Result};
use ndarray::{Array1, ArrayView1, ArrayView2};

/// `w . [1, x]`.
fn activation<F: Float>(w: &Array1<F>, x: ArrayView1<'_, F>) -> F {
    w[0] + w.slice(ndarray::s![1..]).dot(&x)
}

/// Validates a data set for the single-layer rules.
fn check<F: Float>(x: ArrayView2<'_, F>, y: &[F]) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::EmptyData { what: "inputs" });
    }
    if x.nrows() != y.len() {
        return Err(Error::RowMismatch {
            inputs: x.nrows(),
            targets: y.len(),
        });
    }
    check_finite("inputs", x)
}

/// A learning rate must be positive and finite.
fn check_eta(eta: f64) -> Result<()> {
    if eta > 0.0 && eta.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "learning rate must be positive and finite, got {eta}"
        )))
    }
}

/// The number of inputs a weight vector `[w_0, w_1, ..., w_d]` takes, `d`.
fn inputs<F: Float>(w: &Array1<F>) -> Result<usize> {
    w.len().checked_sub(1).ok_or_else(|| {
        Error::InvalidConfig("the weight vector is empty: it needs at least the bias w_0".into())
    })
}

/// Labels must be `-1` or `+1`.
fn check_signs<F: Float>(y: &[F]) -> Result<()> {
    match y.iter().position(|&v| v != F::one() && v != -F::one()) {
        Some(row) => Err(Error::InvalidTarget {
            row,
            reason: "perceptron labels must be -1 or +1".into(),
        }),
        None => Ok(()),
    }
}

/// Rosenblatt's perceptron (1958): `y_hat = +1` if `w . [1, x] > 0`, else `-1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Perceptron<F: Float = f64> {
    /// `[w_0 (bias), w_1, ..., w_d]`.
    pub w: Array1<F>,
}

/// What a run of the perceptron rule did.
#[derive(Debug, Clone, PartialEq)]
pub struct PerceptronRun {
    /// Epochs run (the last one had no mistakes if `converged`).
    pub epochs: usize,
    /// Total weight updates (mistakes) over all epochs.
    pub updates: usize,
    /// Whether an epoch passed without a mistake.
    pub converged: bool,
    /// Mistakes in each epoch.
    pub errors_per_epoch: Vec<usize>,
}

impl<F: Float> Perceptron<F> {
    /// A perceptron for `d` inputs with all weights zero.
    pub fn new(d: usize) -> Self {
        Perceptron {
            w: Array1::zeros(d + 1),
        }
    }

    /// `+1` or `-1` for one sample.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not have `w.len() - 1` values.
    pub fn predict(&self, x: ArrayView1<'_, F>) -> Result<F> {
        crate::dense::check_shape("input values", inputs(&self.w)?, x.len())?;
        Ok(if activation(&self.w, x) > F::zero() {
            F::one()
        } else {
            -F::one()
        })
    }

    /// `+1` or `-1` for each row of `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not have `w.len() - 1` columns.
    pub fn predict_batch(&self, x: ArrayView2<'_, F>) -> Result<Vec<F>> {
        crate::dense::check_shape("input columns", inputs(&self.w)?, x.ncols())?;
        x.rows().into_iter().map(|r| self.predict(r)).collect()
    }

    /// The perceptron rule: for each sample in turn, if `y w . [1, x] <= 0`
    /// (a mistake, or on the boundary) then `w <- w + eta y [1, x]`. Stops after
    /// the first epoch without a mistake or after `max_epochs`.
    ///
    /// # Errors
    /// Empty data, mismatched rows, a width that is not `w.len() - 1`,
    /// non-finite inputs or weights, labels other than `-1`/`+1`, or a
    /// learning rate that is not positive and finite; [`Error::NonFiniteLoss`]
    /// if an update would overflow a weight (the weights stay finite).
    pub fn train(
        &mut self,
        x: ArrayView2<'_, F>,
        y: &[F],
        eta: f64,
        max_epochs: usize,
    ) -> Result<PerceptronRun> {
        check(x, y)?;
        check_signs(y)?;
        check_eta(eta)?;
        crate::dense::check_shape("input columns", inputs(&self.w)?, x.ncols())?;
        crate::dense::check_finite("weights", self.w.view().insert_axis(ndarray::Axis(0)))?;
        let eta = F::from_f64(eta);
        let mut run = PerceptronRun {
            epochs: 0,
            updates: 0,
            converged: false,
            errors_per_epoch: Vec::new(),
        };
        while run.epochs < max_epochs && !run.converged {
            let mut errors = 0;
            for (step, (x, &y)) in x.rows().into_iter().zip(y).enumerate() {
                if y * activation(&self.w, x) <= F::zero() {
                    let finite = (self.w[0] + eta * y).is_finite()
                        && self
                            .w
                            .iter()
                            .skip(1)
                            .zip(&x)
                            .all(|(&w, &x)| (w + eta * y * x).is_finite());
                    if !finite {
                        return Err(Error::NonFiniteLoss {
                            epoch: run.epochs + 1,
                            step: step + 1,
                            history: Box::default(),
                        });
                    }
                    self.w[0] += eta * y;
                    self.w.slice_mut(ndarray::s![1..]).scaled_add(eta * y, &x);
                    errors += 1;
                }
            }
            run.epochs += 1;
            run.updates += errors;
            run.errors_per_epoch.push(errors);
            run.converged = errors == 0;
        }
        Ok(run)
    }
}

/// Novikoff's bound (1962) for a linearly separable set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Novikoff {
    /// `D = max_i ||[1, x_i]||`.
    pub radius: f64,
    /// `gamma = min_i y_i w* . [1, x_i] / ||w*||`, the margin of the separator.
    pub margin: f64,
    /// `(D / gamma)^2`: the perceptron rule, started from zero, makes at most
    /// this many updates on the set, whatever the order and learning rate.
    pub bound: f64,
}

/// Computes Novikoff's bound for `(x, y)` from a separating weight vector
/// `w_star = [w_0, w_1, ..., w_d]`.
///
/// # Errors
/// As [`Perceptron::train`], plus [`Error::InvalidConfig`] if `w_star` does
/// not separate the set with a positive margin.
pub fn novikoff_bound<F: Float>(
    x: ArrayView2<'_, F>,
    y: &[F],
    w_star: ArrayView1<'_, F>,
) -> Result<Novikoff> {
    check(x, y)?;
    check_signs(y)?;
    crate::dense::check_shape("separator length", x.ncols() + 1, w_star.len())?;
    let w = w_star.mapv(|v| v.as_f64());
    let norm = w.dot(&w).sqrt();
    let mut radius: f64 = 0.0;
    let mut margin = f64::INFINITY;
    for (x, &y) in x.rows().into_iter().zip(y) {
        let x: Vec<f64> = std::iter::once(1.0)
            .chain(x.iter().map(|v| v.as_f64()))
            .collect();
        radius = radius.max(x.iter().map(|v| v * v).sum::<f64>().sqrt());
        let a: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
        margin = margin.min(y.as_f64() * a / norm);
    }
    if margin.is_nan() || margin <= 0.0 {
        return Err(Error::InvalidConfig(format!(
            "the given weights do not separate the set (margin {margin:.3}); Novikoff's bound needs a separator"
        )));
    }
    Ok(Novikoff {
        radius,
        margin,
        bound: (radius / margin).powi(2),
    })
}

/// The delta rule (Widrow & Hoff 1960; LMS) for one linear unit
/// `y_hat = w . [1, x]`: for each sample, `w <- w + eta (y - y_hat) [1, x]`,
/// stochastic gradient descent on `1/2 (y - y_hat)^2`. Unlike the perceptron
/// rule it also moves on correctly classified samples, and on a set that is
/// not separable it settles near the least-squares fit instead of cycling.
/// Returns the mean of `1/2 (y - y_hat)^2` after each epoch.
///
/// # Errors
/// As [`Perceptron::train`], without the label restriction, plus
/// [`Error::NonFiniteValue`] for non-finite targets and
/// [`Error::NonFiniteLoss`] when the rate is so large that the weights
/// diverge (`w` then keeps the last finite weights).
pub fn delta_rule<F: Float>(
    w: &mut Array1<F>,
    x: ArrayView2<'_, F>,
    y: &[F],
    eta: f64,
    epochs: usize,
) -> Result<Vec<f64>> {
    check(x, y)?;
    check_eta(eta)?;
    crate::dense::check_shape("input columns", inputs(w)?, x.ncols())?;
    crate::dense::check_finite(
        "targets",
        ArrayView2::from_shape((y.len(), 1), y).expect("a column"),
    )?;
    crate::dense::check_finite("weights", w.view().insert_axis(ndarray::Axis(0)))?;
    let eta = F::from_f64(eta);
    let mut losses = Vec::new();
    for epoch in 1..=epochs {
        for (step, (x, &y)) in x.rows().into_iter().zip(y).enumerate() {
            let err = y - activation(w, x);
            // Too large a rate makes the weights grow without bound: stop
            // before a step that would leave one infinite or NaN.
            let finite = (w[0] + eta * err).is_finite()
                && w.iter()
                    .skip(1)
                    .zip(&x)
                    .all(|(&w, &x)| (w + eta * err * x).is_finite());
            if !finite {
                return Err(Error::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    history: Box::default(),
                });
            }
            w[0] += eta * err;
            w.slice_mut(ndarray::s![1..]).scaled_add(eta * err, &x);
        }
        let sse: f64 = x
            .rows()
            .into_iter()
            .zip(y)
            .map(|(x, &y)| 0.5 * (y - activation(w, x)).as_f64().powi(2))
            .sum();
        losses.push(sse / y.len() as f64);
    }
    Ok(losses)
}
