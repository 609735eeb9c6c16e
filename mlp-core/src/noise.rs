//! Input corruption for denoising autoencoders (Vincent et al. 2008),
//! active only while training.

use crate::buffer::Buffer;
use crate::layer::{Backward, Const, Layer, LayerView, Param, Parameters, Pass};
use crate::{Error, Float, Result};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// How a [`Noise`] layer corrupts what passes through it while training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Corruption {
    /// Additive Gaussian noise: `h = x + sigma z`, `z ~ N(0, 1)` (Keras'
    /// `GaussianNoise(sigma)`).
    Gaussian(f64),
    /// Masking noise: each value is set to 0 with probability `p` and kept
    /// otherwise, not rescaled (Vincent et al. 2008, section 2.3; unlike
    /// dropout, the clean input is what the network must recover).
    Mask(f64),
}

impl Corruption {
    /// The corruption in the DSL's words: `gaussian(0.1)`, `mask(0.3)`.
    pub fn describe(&self) -> String {
        match self {
            Corruption::Gaussian(s) => format!("gaussian({s})"),
            Corruption::Mask(p) => format!("mask({p})"),
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            Corruption::Gaussian(s) if !(s.is_finite() && s >= 0.0) => Err(Error::InvalidConfig(
                format!("gaussian noise needs a finite standard deviation of at least 0, got {s}"),
            )),
            Corruption::Mask(p) if !(0.0..1.0).contains(&p) => Err(Error::InvalidConfig(format!(
                "the masking probability must be in [0, 1), got {p}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Corrupts `N` values while training and passes them through unchanged
/// at inference, so a network trained on `fit(x, x)` behind it learns to
/// reconstruct clean inputs from corrupted ones. Every training pass draws
/// fresh noise from the network's seeded generator.
///
/// Forward (training): `h = x + sigma z` or `h = x (.) m` with `m_i` in
/// `{0, 1}`. Backward: `dL/dx = dL/dh` or `m (.) dL/dh`.
#[derive(Debug, Clone)]
pub struct Noise<const N: usize, F: Float = f32> {
    corruption: Corruption,
    /// The mask `m` (masking noise) of the last training pass.
    mask: Buffer<F>,
    h: Buffer<F>,
    /// `dL/dh` of the last backward pass, written by the layer above.
    grad_h: Buffer<F>,
    /// Whether the last forward pass was a training pass.
    active: bool,
}

impl<const N: usize, F: Float> Noise<N, F> {
    /// A layer that corrupts by `corruption`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative or non-finite `sigma`, or a
    /// masking probability outside `[0, 1)`.
    pub fn new(corruption: Corruption) -> Result<Self> {
        corruption.validate()?;
        Ok(Noise {
            corruption,
            mask: Buffer::new(),
            h: Buffer::new(),
            grad_h: Buffer::new(),
            active: false,
        })
    }

    /// Additive Gaussian noise of standard deviation `sigma`.
    ///
    /// # Errors
    /// As [`Noise::new`].
    pub fn gaussian(sigma: f64) -> Result<Self> {
        Self::new(Corruption::Gaussian(sigma))
    }

    /// Masking noise: each value zeroed with probability `p`.
    ///
    /// # Errors
    /// As [`Noise::new`].
    pub fn mask(p: f64) -> Result<Self> {
        Self::new(Corruption::Mask(p))
    }

    /// The corruption.
    pub fn corruption(&self) -> Corruption {
        self.corruption
    }
}

impl<const N: usize, F: Float> Layer<F> for Noise<N, F> {
    type In = Const<N>;
    type Out = Const<N>;
    const PARAMS: usize = 0;

    fn infer(&self, x: &[F; N]) -> [F; N] {
        *x
    }

    fn infer_batch(&self, x: &[F], rows: usize) -> Vec<F> {
        x[..rows * N].to_vec()
    }

    fn forward<'a>(&'a mut self, x: &'a [F], rows: usize, pass: &mut Pass<'_>) -> &'a [F] {
        self.active = pass.training;
        let n = rows * N;
        if !self.active {
            return &x[..n];
        }
        self.h.ensure_len(n);
        match self.corruption {
            Corruption::Gaussian(sigma) => {
                for (h, &x) in self.h[..n].iter_mut().zip(x) {
                    let z: f64 = StandardNormal.sample(&mut *pass.rng);
                    *h = x + F::from_f64(sigma * z);
                }
            }
            Corruption::Mask(p) => {
                self.mask.ensure_len(n);
                for ((m, h), &x) in self.mask[..n].iter_mut().zip(&mut self.h[..n]).zip(x) {
                    *m = if pass.rng.random::<f64>() < p {
                        F::zero()
                    } else {
                        F::one()
                    };
                    *h = x * *m;
                }
            }
        }
        &self.h[..n]
    }

    fn output<'a>(&'a self, x: &'a [F], rows: usize) -> &'a [F] {
        if self.active {
            &self.h[..rows * N]
        } else {
            &x[..rows * N]
        }
    }

    fn visit<'s>(&'s self, _rows: usize, f: &mut dyn FnMut(LayerView<'s, F>)) {
        f(LayerView::Noise {
            corruption: self.corruption,
            width: N,
        });
    }

    fn param_count(&self) -> usize {
        0
    }

    fn validate(&self, _dense: &mut usize) -> Result<()> {
        self.corruption.validate()
    }
}

impl<const N: usize, F: Float> crate::layer::Takes<F, Const<N>> for Noise<N, F> {}

impl<const N: usize, F: Float> Parameters<F> for Noise<N, F> {
    fn visit_params(&mut self, _f: &mut dyn FnMut(Param<'_, F>)) {}
}

impl<const N: usize, F: Float> Noise<N, F> {
    /// `dL/dx` from `dL/dh`, in place: unchanged for additive noise, masked
    /// for masking noise.
    fn pass_back(&self, grad: &mut [F]) {
        if self.active && matches!(self.corruption, Corruption::Mask(_)) {
            for (g, &m) in grad.iter_mut().zip(&self.mask[..]) {
                *g *= m;
            }
        }
    }
}

impl<const N: usize, F: Float> Backward<F> for Noise<N, F> {
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        let n = rows * N;
        self.grad_h.ensure_len(n);
        let h = if self.active { &self.h[..n] } else { &x[..n] };
        (h, &mut self.grad_h[..n])
    }

    fn backward(&mut self, _x: &[F], rows: usize, grad_x: &mut [F]) {
        let n = rows * N;
        if grad_x.is_empty() {
            return;
        }
        grad_x[..n].copy_from_slice(&self.grad_h[..n]);
        self.pass_back(&mut grad_x[..n]);
    }

    const STACK: bool = true;

    fn backprop_one(
        &mut self,
        x: &[F; N],
        pass: &mut Pass<'_>,
        rest: impl FnOnce(&[F; N], &mut Pass<'_>) -> (F, [F; N]),
    ) -> (F, [F; N]) {
        // The same draws, in the same order, as `forward` with one row.
        let h: [F; N] = self
            .forward(x, 1, pass)
            .try_into()
            .expect("one row of N values");
        let (loss, mut grad_x) = rest(&h, pass);
        self.pass_back(&mut grad_x);
        (loss, grad_x)
    }
}
