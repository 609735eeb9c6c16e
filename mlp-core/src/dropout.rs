//! Inverted dropout (Srivastava et al. 2014), active only while training.

use crate::buffer::Buffer;
use crate::layer::{Backward, Const, Layer, LayerView, Param, Parameters, Pass};
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
    mask: Buffer<F>,
    h: Buffer<F>,
    /// `dL/dh` of the last backward pass, written by the layer above.
    grad_h: Buffer<F>,
    /// Whether the last forward pass was a training pass.
    active: bool,
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
            mask: Buffer::new(),
            h: Buffer::new(),
            grad_h: Buffer::new(),
            active: false,
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
        self.active = pass.training && self.p > 0.0;
        let n = rows * N;
        if !self.active {
            return &x[..n];
        }
        self.mask.ensure_len(n);
        self.h.ensure_len(n);
        let keep = F::from_f64(1.0 / (1.0 - self.p));
        for ((m, h), &x) in self.mask[..n].iter_mut().zip(&mut self.h[..n]).zip(x) {
            *m = if pass.rng.random::<f64>() < self.p {
                F::zero()
            } else {
                keep
            };
            *h = x * *m;
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
        let grad_h = &self.grad_h[..n];
        if !self.active {
            grad_x[..n].copy_from_slice(grad_h);
            return;
        }
        for ((g, &m), &gh) in grad_x[..n].iter_mut().zip(&self.mask[..n]).zip(grad_h) {
            *g = gh * m;
        }
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
        if self.active {
            for (g, &m) in grad_x.iter_mut().zip(&self.mask[..N]) {
                *g *= m;
            }
        }
        (loss, grad_x)
    }
}
