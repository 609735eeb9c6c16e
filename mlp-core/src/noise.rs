//! Input corruption for denoising autoencoders (Vincent et al. 2008),
//! active only while training.

use crate::layer::{Backward, Const, Layer, LayerView, Param, Parameters, Pass};
use crate::training_only::TrainingOnly;
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
    /// The mask `m` (masking noise) and the buffers of the last pass.
    pass: TrainingOnly<F>,
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
            pass: TrainingOnly::new(),
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

    /// Whether the corruption multiplies by a mask (and so does the gradient).
    fn masks(&self) -> bool {
        matches!(self.corruption, Corruption::Mask(_))
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
        let (corruption, masks) = (self.corruption, self.masks());
        let rng = &mut *pass.rng;
        self.pass
            .forward(x, rows * N, pass.training, masks, |x, m| match corruption {
                Corruption::Gaussian(sigma) => {
                    let z: f64 = StandardNormal.sample(rng);
                    x + F::from_f64(sigma * z)
                }
                Corruption::Mask(p) => {
                    *m = if rng.random::<f64>() < p {
                        F::zero()
                    } else {
                        F::one()
                    };
                    x * *m
                }
            })
    }

    fn output<'a>(&'a self, x: &'a [F], rows: usize) -> &'a [F] {
        self.pass.output(x, rows * N)
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

impl<const N: usize, F: Float> Backward<F> for Noise<N, F> {
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        self.pass.output_and_grad(x, rows * N)
    }

    fn backward(&mut self, _x: &[F], rows: usize, grad_x: &mut [F]) {
        self.pass.backward(grad_x, rows * N, self.masks());
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
        self.pass.pass_back(&mut grad_x, self.masks());
        (loss, grad_x)
    }
}
