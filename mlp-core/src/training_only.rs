//! What [`Dropout`](crate::Dropout) and [`Noise`](crate::Noise) share: a
//! layer that rewrites its input value by value while training, and passes
//! it through unchanged otherwise.

use crate::Float;
use crate::buffer::Buffer;

/// The buffers and state of such a layer's last pass.
#[derive(Debug, Clone)]
pub(crate) struct TrainingOnly<F: Float> {
    /// The factor `m` each value was multiplied by, for a layer that masks.
    mask: Buffer<F>,
    /// The rewritten values of the last training pass.
    h: Buffer<F>,
    /// `dL/dh` of the last backward pass, written by the layer above.
    grad_h: Buffer<F>,
    /// Whether the last forward pass rewrote its input.
    active: bool,
}

impl<F: Float> TrainingOnly<F> {
    pub(crate) fn new() -> Self {
        TrainingOnly {
            mask: Buffer::new(),
            h: Buffer::new(),
            grad_h: Buffer::new(),
            active: false,
        }
    }

    /// A forward pass over the first `n` values of `x`: unchanged unless
    /// `active`; if active, `h_i = rewrite(x_i, &mut m_i)` in order, where
    /// `m_i` is kept for the backward pass when `masks` (and is a scratch
    /// value otherwise).
    pub(crate) fn forward<'a>(
        &'a mut self,
        x: &'a [F],
        n: usize,
        active: bool,
        masks: bool,
        mut rewrite: impl FnMut(F, &mut F) -> F,
    ) -> &'a [F] {
        self.active = active;
        if !active {
            return &x[..n];
        }
        self.h.ensure_len(n);
        if masks {
            self.mask.ensure_len(n);
            for ((m, h), &x) in self.mask[..n].iter_mut().zip(&mut self.h[..n]).zip(x) {
                *h = rewrite(x, m);
            }
        } else {
            let mut unused = F::zero();
            for (h, &x) in self.h[..n].iter_mut().zip(x) {
                *h = rewrite(x, &mut unused);
            }
        }
        &self.h[..n]
    }

    /// The output of the last forward pass, whose input was `x`.
    pub(crate) fn output<'a>(&'a self, x: &'a [F], n: usize) -> &'a [F] {
        if self.active { &self.h[..n] } else { &x[..n] }
    }

    /// The output, and the slice the layer above writes `dL/dh` into.
    pub(crate) fn output_and_grad<'a>(
        &'a mut self,
        x: &'a [F],
        n: usize,
    ) -> (&'a [F], &'a mut [F]) {
        self.grad_h.ensure_len(n);
        let h = if self.active { &self.h[..n] } else { &x[..n] };
        (h, &mut self.grad_h[..n])
    }

    /// `dL/dx` from the `dL/dh` in `grad`, in place: multiplied by the mask
    /// if the last pass was active and the layer masks, else unchanged.
    pub(crate) fn pass_back(&self, grad: &mut [F], masks: bool) {
        if self.active && masks {
            for (g, &m) in grad.iter_mut().zip(&self.mask[..]) {
                *g *= m;
            }
        }
    }

    /// Writes `dL/dx` for the first `n` values into `grad_x`, unless it is
    /// empty (nothing below needs it).
    pub(crate) fn backward(&self, grad_x: &mut [F], n: usize, masks: bool) {
        if grad_x.is_empty() {
            return;
        }
        grad_x[..n].copy_from_slice(&self.grad_h[..n]);
        self.pass_back(&mut grad_x[..n], masks);
    }
}
