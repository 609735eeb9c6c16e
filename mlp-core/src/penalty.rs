//! Penalties on a hidden layer's activity: the regularisers of sparse and
//! contractive autoencoders.
//!
//! A penalty `P` is part of the objective the network trains on,
//! `J = (1/B) sum_i L(f(x_i), y_i) + P`, so backprop adds its gradient to
//! the one the loss sends down. All three are written as a term added to
//! `dL/dh` of the penalised layer, before that layer multiplies by
//! `phi'(a)`; the contractive penalty also has a direct term on the layer's
//! weights. In the engine's units, which are per sample (`delta` holds
//! `B dJ/da`), the `dL/dh` term of a penalty `P` is `B dP/dh`.
//!
//! With `h_ij` the output of unit `j` for sample `i` of a batch of `B`:
//!
//! | penalty | `P` | added to `dL/dh_ij` |
//! |---|---|---|
//! | `L1 { lambda }` | `lambda (1/B) sum_i sum_j \|h_ij\|` | `lambda sign(h_ij)` |
//! | `Kl { rho, beta }` | `beta sum_j KL(rho \|\| rho_hat_j)` | `beta (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j))` |
//! | `Contractive { lambda }` | `lambda (1/B) sum_i sum_j s_ij^2 w2_j` | `2 lambda w2_j s_ij (1 - 2 h_ij)` |
//!
//! where `rho_hat_j = (1/B) sum_i h_ij` is unit `j`'s mean activation over
//! the batch,
//! `KL(rho || q) = rho ln(rho / q) + (1 - rho) ln((1 - rho) / (1 - q))`
//! (Ng 2011, *Sparse autoencoder*, CS294A notes), `s_ij = h_ij (1 - h_ij)`
//! the sigmoid's slope and `w2_j = sum_k W_jk^2` (Rifai et al. 2011,
//! *Contractive auto-encoders*). The contractive penalty is the squared
//! Frobenius norm of the layer's Jacobian `dh/dx = diag(s) W`, and its
//! direct weight term is `dP/dW_jk = 2 lambda W_jk (1/B) sum_i s_ij^2`.
//!
//! The KL and contractive penalties are defined for sigmoid layers only
//! (the KL needs `rho_hat` in `(0, 1)`, the contractive slope is the
//! sigmoid's), which [`Dense::sparse_kl`](crate::Dense::sparse_kl) and
//! [`Dense::contractive`](crate::Dense::contractive) enforce by their type.

use crate::Float;

/// A penalty on a hidden layer's outputs (see the [module](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Penalty {
    /// `lambda sum_j |h_j|` per sample: the L1 sparsity penalty (Keras'
    /// `activity_regularizer=l1(lambda)`).
    L1 {
        /// The weight `lambda >= 0`.
        lambda: f64,
    },
    /// `beta sum_j KL(rho || rho_hat_j)` on the batch's mean activations.
    Kl {
        /// The target mean activation, in `(0, 1)`.
        rho: f64,
        /// The weight `beta >= 0`.
        beta: f64,
    },
    /// `lambda ||dh/dx||_F^2` per sample, for a sigmoid layer.
    Contractive {
        /// The weight `lambda >= 0`.
        lambda: f64,
    },
}

impl Penalty {
    /// The penalty in the DSL's words: `l1(0.001)`, `kl(0.05, 3)`,
    /// `contractive(0.1)`.
    pub fn describe(&self) -> String {
        match self {
            Penalty::L1 { lambda } => format!("l1({lambda})"),
            Penalty::Kl { rho, beta } => format!("kl({rho}, {beta})"),
            Penalty::Contractive { lambda } => format!("contractive({lambda})"),
        }
    }

    /// Checks the parameters: finite, non-negative weights, and `rho` in `(0, 1)`.
    ///
    /// # Errors
    /// Why a parameter is invalid.
    pub fn validate(&self) -> Result<(), String> {
        let weight = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "the penalty weight {name} must be finite and at least 0, got {v}"
                ))
            }
        };
        match *self {
            Penalty::L1 { lambda } | Penalty::Contractive { lambda } => weight("lambda", lambda),
            Penalty::Kl { rho, beta } => {
                if !(rho > 0.0 && rho < 1.0) {
                    return Err(format!(
                        "the sparsity target rho must be in (0, 1), got {rho}"
                    ));
                }
                weight("beta", beta)
            }
        }
    }

    /// The penalty summed as the loss is (`B P`, so that dividing by the
    /// batch size gives `P`), for the outputs `h` (`rows x out`) of a layer
    /// with weights `w` (`out x in`).
    pub(crate) fn total<F: Float>(&self, h: &[F], w: &[F], rows: usize, out: usize) -> f64 {
        let h = &h[..rows * out];
        match *self {
            Penalty::L1 { lambda } => lambda * h.iter().map(|v| v.as_f64().abs()).sum::<f64>(),
            Penalty::Kl { rho, beta } => {
                let kl: f64 = (0..out)
                    .map(|j| kl(rho, rho_hat::<F>(h, j, rows, out)))
                    .sum();
                rows as f64 * beta * kl
            }
            Penalty::Contractive { lambda } => {
                let inputs = w.len() / out;
                (0..out)
                    .map(|j| {
                        let s2: f64 = column(h, j, out).map(|h| (h * (1.0 - h)).powi(2)).sum();
                        lambda * s2 * row_sq(w, j, inputs)
                    })
                    .sum()
            }
        }
    }

    /// Adds the penalty's term to `grad_h` (`dL/dh`, `rows x out`, per
    /// sample) before the layer multiplies it by `phi'(a)`.
    // ANCHOR: grad_h
    pub(crate) fn add_grad_h<F: Float>(
        &self,
        h: &[F],
        w: &[F],
        grad_h: &mut [F],
        rows: usize,
        out: usize,
    ) {
        let (h, grad_h) = (&h[..rows * out], &mut grad_h[..rows * out]);
        match *self {
            Penalty::L1 { lambda } => {
                let lambda = F::from_f64(lambda);
                for (g, &h) in grad_h.iter_mut().zip(h) {
                    *g += lambda * sign(h);
                }
            }
            Penalty::Kl { rho, beta } => {
                for j in 0..out {
                    let q = rho_hat::<F>(h, j, rows, out);
                    let term = F::from_f64(beta * (-rho / q + (1.0 - rho) / (1.0 - q)));
                    for g in grad_h.iter_mut().skip(j).step_by(out) {
                        *g += term;
                    }
                }
            }
            Penalty::Contractive { lambda } => {
                let inputs = w.len() / out;
                for j in 0..out {
                    let scale = F::from_f64(2.0 * lambda * row_sq(w, j, inputs));
                    let rows = h.iter().zip(grad_h.iter_mut()).skip(j).step_by(out);
                    for (&h, g) in rows {
                        let s = h * (F::one() - h);
                        *g += scale * s * (F::one() - h - h);
                    }
                }
            }
        }
    }

    // ANCHOR_END: grad_h

    /// Adds the penalty's direct term to the weight gradient `grad_w`
    /// (`out x in`, averaged over the batch): only the contractive penalty
    /// depends on the weights other than through `h`.
    pub(crate) fn add_grad_w<F: Float>(
        &self,
        h: &[F],
        w: &[F],
        grad_w: &mut [F],
        rows: usize,
        out: usize,
    ) {
        let Penalty::Contractive { lambda } = *self else {
            return;
        };
        let (h, inputs) = (&h[..rows * out], w.len() / out);
        for j in 0..out {
            let s2: f64 = column(h, j, out).map(|h| (h * (1.0 - h)).powi(2)).sum();
            let scale = F::from_f64(2.0 * lambda * s2 / rows as f64);
            let (w, g) = (
                &w[j * inputs..(j + 1) * inputs],
                &mut grad_w[j * inputs..(j + 1) * inputs],
            );
            for (g, &w) in g.iter_mut().zip(w) {
                *g += scale * w;
            }
        }
    }
}

/// `KL(rho || q) = rho ln(rho / q) + (1 - rho) ln((1 - rho) / (1 - q))`, the
/// divergence of a Bernoulli(q) from a Bernoulli(rho).
pub fn kl(rho: f64, q: f64) -> f64 {
    rho * (rho / q).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - q)).ln()
}

/// Unit `j`'s mean output over the batch, kept within `[eps, 1 - eps]` of
/// the float type so that a fully saturated unit gives a large, finite
/// penalty and gradient instead of an infinite one.
fn rho_hat<F: Float>(h: &[F], j: usize, rows: usize, out: usize) -> f64 {
    let eps = F::epsilon().as_f64();
    let mean = column(h, j, out).sum::<f64>() / rows as f64;
    mean.clamp(eps, 1.0 - eps)
}

/// Unit `j`'s outputs over the batch, as `f64`.
fn column<F: Float>(h: &[F], j: usize, out: usize) -> impl Iterator<Item = f64> + '_ {
    h.iter().skip(j).step_by(out).map(|v| v.as_f64())
}

/// `w2_j = sum_k W_jk^2`, the squared norm of unit `j`'s weights.
fn row_sq<F: Float>(w: &[F], j: usize, inputs: usize) -> f64 {
    w[j * inputs..(j + 1) * inputs]
        .iter()
        .map(|v| v.as_f64().powi(2))
        .sum()
}

/// `sign(x)`, with `sign(0) = 0` (the L1 penalty's subgradient at 0, as
/// PyTorch's `sign` and the weight penalty of [`TrainConfig`](crate::TrainConfig) take it).
fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        F::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The penalties' values on a hand-computed case: two samples, two
    /// units, sigmoid outputs `h` and weights `w` (2 x 3).
    #[test]
    fn values_by_hand() {
        let h = [0.2, 0.6, 0.4, 0.9];
        let w = [1.0, -2.0, 0.5, 0.0, 3.0, -1.0];
        // L1: lambda * (0.2 + 0.6 + 0.4 + 0.9) = 0.1 * 2.1.
        let l1 = Penalty::L1 { lambda: 0.1 }.total(&h, &w, 2, 2);
        assert!((l1 - 0.21).abs() < 1e-12);
        // KL: rho_hat = (0.3, 0.75); B beta (KL(0.1||0.3) + KL(0.1||0.75)).
        let expect = 2.0
            * 2.0
            * (0.1 * (0.1f64 / 0.3).ln()
                + 0.9 * (0.9f64 / 0.7).ln()
                + 0.1 * (0.1f64 / 0.75).ln()
                + 0.9 * (0.9f64 / 0.25).ln());
        let got = Penalty::Kl {
            rho: 0.1,
            beta: 2.0,
        }
        .total(&h, &w, 2, 2);
        assert!((got - expect).abs() < 1e-12, "{got} vs {expect}");
        // Contractive: w2 = (5.25, 10); s = (0.16, 0.24, 0.24, 0.09).
        let expect = 0.5
            * ((0.16f64.powi(2) + 0.24f64.powi(2)) * 5.25
                + (0.24f64.powi(2) + 0.09f64.powi(2)) * 10.0);
        let got = Penalty::Contractive { lambda: 0.5 }.total(&h, &w, 2, 2);
        assert!((got - expect).abs() < 1e-12, "{got} vs {expect}");
    }

    #[test]
    fn kl_is_zero_at_the_target_and_positive_elsewhere() {
        assert_eq!(kl(0.05, 0.05), 0.0);
        assert!(kl(0.05, 0.2) > 0.0 && kl(0.05, 0.01) > 0.0);
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Penalty::Kl {
            rho: 1.0,
            beta: 1.0,
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("rho must be in (0, 1)"), "{e}");
        assert!(Penalty::L1 { lambda: -1.0 }.validate().is_err());
        assert!(
            Penalty::Contractive { lambda: f64::NAN }
                .validate()
                .is_err()
        );
        assert!(
            Penalty::Kl {
                rho: 0.05,
                beta: 3.0
            }
            .validate()
            .is_ok()
        );
    }
}
