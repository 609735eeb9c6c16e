//! Inverted dropout (Srivastava et al. 2014), active only while training.

use crate::layer::{Backward, Const, Layer, LayerView, Param, Parameters, Pass};
use crate::training_only::TrainingOnly;
use crate::{Error, Float, Result};
use rand::RngExt;

/// Drops each of `N` units with probability `p` while training and scales the
/// survivors by `1 / (1 - p)`, so inference (which passes inputs through
/// unchanged) sees the same expected activation.
///
/// Forward (training): `h = x (.) m`, with `m_i = 1 / (1 - p)` with
/// probability `1 - p`, else `0`. Backward: `dL/dx = m (.) dL/dh`.
#[derive(Debug, Clone)]
pub struct Dropout<const N: usize, F: Float = f32> {
    p: f64,
    /// The mask `m` and the buffers of the last pass.
    pass: TrainingOnly<F>,
}

impl<const N: usize, F: Float> Dropout<N, F> {
    /// Dropout with drop probability `p`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 <= p < 1`.
    pub fn new(p: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::InvalidConfig(format!(
                "dropout probability must be in [0, 1), got {p}"
            )));
        }
        Ok(Dropout {
            p,
            pass: TrainingOnly::new(),
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<const N: usize, F: Float> Layer<F> for Dropout<N, F> {
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
        let (p, keep) = (self.p, F::from_f64(1.0 / (1.0 - self.p)));
        let rng = &mut *pass.rng;
        let active = pass.training && p > 0.0;
        self.pass.forward(x, rows * N, active, true, |x, m| {
            *m = if rng.random::<f64>() < p {
                F::zero()
            } else {
                keep
            };
            x * *m
        })
    }

    fn output<'a>(&'a self, x: &'a [F], rows: usize) -> &'a [F] {
        self.pass.output(x, rows * N)
    }

    fn visit<'s>(&'s self, _rows: usize, f: &mut dyn FnMut(LayerView<'s, F>)) {
        f(LayerView::Dropout {
            p: self.p,
            width: N,
        });
    }

    fn param_count(&self) -> usize {
        0
    }
}

impl<const N: usize, F: Float> crate::layer::Takes<F, Const<N>> for Dropout<N, F> {}

impl<const N: usize, F: Float> Parameters<F> for Dropout<N, F> {
    fn visit_params(&mut self, _f: &mut dyn FnMut(Param<'_, F>)) {}
}

impl<const N: usize, F: Float> Backward<F> for Dropout<N, F> {
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        self.pass.output_and_grad(x, rows * N)
    }

    fn backward(&mut self, _x: &[F], rows: usize, grad_x: &mut [F]) {
        self.pass.backward(grad_x, rows * N, true);
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
        // Inactive, `h` is `x` and the gradient passes through unchanged.
        let (loss, mut grad_x) = rest(&h, pass);
        self.pass.pass_back(&mut grad_x, true);
        (loss, grad_x)
    }
}
