//! The fully connected layer `h' = phi(W h + b)` and its backward pass.

use crate::activation::{Activation, Derivative};
use crate::buffer::Buffer;
use crate::init::Init;
use crate::kernels;
use crate::layer::{
    Backward, Const, DenseView, Layer, LayerView, Moments, OutputLayer, Param, ParamVisitor,
    Parameters, Pass, Takes,
};
use crate::penalty::Penalty;
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng;
use std::fmt;

/// A dense (fully connected) layer from `IN` to `OUT` units with activation `A`.
///
/// Forward, for a batch `h` of `rows` samples (one per row):
/// `a = h W^T + b`, `h' = phi(a)` (lecture notes eqs. 3-4, batch-major).
/// `W` is `OUT x IN`, as PyTorch's `nn.Linear` stores it.
///
/// Backward, given `dL/dh'`:
/// `delta = phi'(a) (.) dL/dh'`, `dL/dW = delta^T h / rows`,
/// `dL/db = sum_rows(delta) / rows`, and `dL/dh = delta W` for the layer
/// below (eqs. 6a-6f). The widths are in the type, so a stack whose widths do
/// not chain does not compile.
pub struct Dense<const IN: usize, const OUT: usize, A, F: Float = f32> {
    /// `W` row-major (`OUT x IN`), then `b`: one contiguous block, so the
    /// optimiser walks each layer's parameters in one loop.
    params: Buffer<F>,
    act: A,
    /// `dL/dW` then `dL/db` of the last backward pass, laid out as `params`.
    grads: Buffer<F>,
    /// Optimiser state, laid out as `params`.
    moments: Moments<F>,
    /// Pre-activations of the last forward pass, `rows x OUT` (capacity may be larger).
    a: Buffer<F>,
    /// Outputs of the last forward pass.
    h: Buffer<F>,
    /// Errors of the last backward pass. The layer above writes `dL/dh` here
    /// first; backward turns it into `delta` in place.
    delta: Buffer<F>,
    /// A penalty on the layer's activity (sparse and contractive
    /// autoencoders), if any.
    penalty: Option<Penalty>,
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Dense<IN, OUT, A, F> {
    const VALID: () = assert!(
        IN > 0 && OUT > 0,
        "a dense layer needs at least one input and one output"
    );

    /// Large layers use the register-blocked products of `gemm`; small
    /// ones (every network of the book) the plain loops of `kernels.rs`,
    /// which are the reference.
    const FAST: bool = IN * OUT >= 4096;

    /// Whether a pass over `rows` samples takes the products of `gemm`:
    /// always for large layers, and for layers at least eight wide on both
    /// sides once the batch brings 2^14 multiply-adds. Below that, or for a
    /// layer with fewer than eight inputs or outputs (which would fill a
    /// fraction of the register tile), the plain loops, unrolled for the
    /// layer's widths, are the faster: measured per layer, forward plus both
    /// gradients, 128 -> 10 over 64 rows took 11.0 us in `gemm` against
    /// 24.3 us in the loops, 16 -> 16 over 128 rows 4.2 against 11.2 us,
    /// 8 -> 8 over 32 rows 1.5 against 1.0 us, and XOR's 2 -> 4 over 4
    /// rows 0.54 against 0.05 us.
    #[inline(always)]
    fn fast(rows: usize) -> bool {
        Self::FAST || (IN >= 8 && OUT >= 8 && rows * IN * OUT >= 1 << 14)
    }

    /// Number of weights, `OUT x IN`; the biases follow them in `params`.
    const WEIGHTS: usize = IN * OUT;

    /// A layer with weights drawn by `init` from `rng`, and biases at the
    /// activation's [`initial_bias`](Activation::initial_bias): `0`, or
    /// `0.1` for [`Relu`](crate::Relu).
    pub fn new<R: Rng + ?Sized>(act: A, init: Init, rng: &mut R) -> Self {
        // W row by row, then the biases: drawn straight into the block.
        let mut params = Buffer::zeros(Self::WEIGHTS + OUT);
        let (w, b) = params.split_at_mut(Self::WEIGHTS);
        for w in w {
            *w = init.sample::<F, R>(IN, OUT, rng);
        }
        b.fill(F::from_f64(act.initial_bias()));
        Self::from_params(params, act)
    }

    /// A layer with the given weights (`OUT x IN`) and biases (`OUT`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if a shape is wrong, [`Error::NonFiniteValue`]
    /// if a value is NaN or infinite.
    pub fn from_weights(w: Array2<F>, b: Array1<F>, act: A) -> Result<Self> {
        check_shape("weight rows", OUT, w.nrows())?;
        check_shape("weight columns", IN, w.ncols())?;
        check_shape("bias length", OUT, b.len())?;
        check_finite("weights", w.view())?;
        check_finite("biases", b.view().insert_axis(ndarray::Axis(0)))?;
        Ok(Self::from_parts(
            w.as_standard_layout().into_owned(),
            b,
            act,
        ))
    }

    fn from_parts(w: Array2<F>, b: Array1<F>, act: A) -> Self {
        let mut params = Buffer::zeros(Self::WEIGHTS + OUT);
        for (p, &v) in params.iter_mut().zip(w.iter().chain(&b)) {
            *p = v;
        }
        // Freed before the gradients are allocated, so building a layer never
        // holds more than its parameters and gradients.
        drop(w);
        Self::from_params(params, act)
    }

    /// A layer from its parameter block (`W` row-major, then `b`).
    fn from_params(params: Buffer<F>, act: A) -> Self {
        let () = Self::VALID;
        debug_assert_eq!(params.len(), Self::WEIGHTS + OUT);
        Dense {
            grads: Buffer::zeros(params.len()),
            params,
            act,
            moments: Default::default(),
            a: Buffer::new(),
            h: Buffer::new(),
            delta: Buffer::new(),
            penalty: None,
        }
    }

    /// The weights `W`, `OUT x IN`.
    pub fn weights(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((OUT, IN), self.w()).expect("params hold OUT x IN weights")
    }

    /// The biases `b`.
    pub fn bias(&self) -> ArrayView1<'_, F> {
        ArrayView1::from(self.b())
    }

    /// `W`, row-major.
    fn w(&self) -> &[F] {
        &self.params[..Self::WEIGHTS]
    }

    /// `b`.
    fn b(&self) -> &[F] {
        &self.params[Self::WEIGHTS..]
    }

    /// The activation.
    pub fn activation(&self) -> &A {
        &self.act
    }

    /// The penalty on the layer's activity, if any.
    pub fn penalty(&self) -> Option<Penalty> {
        self.penalty
    }

    /// Adds the L1 activity penalty `lambda sum_j |h_j|` per sample to the
    /// objective (see [`Penalty::L1`]): a sparse autoencoder's code layer.
    /// Training checks that `lambda` is finite and at least 0.
    ///
    /// ```
    /// use mlp_core::prelude::*;
    /// let mut rng = mlp_core::rng(0);
    /// let code = Dense::<64, 32, _>::new(Relu, Init::HeNormal, &mut rng).activity_l1(1e-4);
    /// assert_eq!(code.penalty(), Some(Penalty::L1 { lambda: 1e-4 }));
    /// ```
    pub fn activity_l1(mut self, lambda: f64) -> Self {
        self.penalty = Some(Penalty::L1 { lambda });
        self
    }

    /// Replaces weights and biases, checking shapes and values first; on error
    /// the layer is unchanged. Optimiser state is reset.
    ///
    /// # Errors
    /// As [`Dense::from_weights`].
    pub fn set_weights(&mut self, w: ArrayView2<'_, F>, b: ArrayView1<'_, F>) -> Result<()> {
        let fresh = Self::from_weights(w.to_owned(), b.to_owned(), self.act)?;
        self.params = fresh.params;
        self.moments = Default::default();
        Ok(())
    }
}

impl<const IN: usize, const OUT: usize, F: Float> Dense<IN, OUT, crate::Sigmoid, F> {
    /// Adds the sparsity penalty `beta sum_j KL(rho || rho_hat_j)` on the
    /// units' mean activations over each batch (see [`Penalty::Kl`]); only
    /// a sigmoid layer has the mean activations in `(0, 1)` that it needs.
    /// Training checks that `0 < rho < 1` and `beta >= 0`.
    pub fn sparse_kl(mut self, rho: f64, beta: f64) -> Self {
        self.penalty = Some(Penalty::Kl { rho, beta });
        self
    }

    /// Adds the contractive penalty `lambda ||dh/dx||_F^2` per sample
    /// (see [`Penalty::Contractive`]), whose closed form is the sigmoid's.
    /// Training checks that `lambda` is finite and at least 0.
    pub fn contractive(mut self, lambda: f64) -> Self {
        self.penalty = Some(Penalty::Contractive { lambda });
        self
    }
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Layer<F>
    for Dense<IN, OUT, A, F>
{
    type In = Const<IN>;
    type Out = Const<OUT>;
    const PARAMS: usize = IN * OUT + OUT;

    fn infer(&self, x: &[F; IN]) -> [F; OUT] {
        let mut a = [F::zero(); OUT];
        for ((a, w), &b) in a.iter_mut().zip(self.w().chunks_exact(IN)).zip(self.b()) {
            *a = b + kernels::dot(x, w);
        }
        let mut h = [F::zero(); OUT];
        self.act.forward(&a, &mut h, OUT);
        h
    }

    fn infer_batch(&self, x: &[F], rows: usize) -> Vec<F> {
        self.infer_parts(x, rows).1
    }

    fn forward<'a>(&'a mut self, x: &'a [F], rows: usize, _pass: &mut Pass<'_>) -> &'a [F] {
        let n = rows * OUT;
        self.a.ensure_len(n);
        self.h.ensure_len(n);
        let (a, h) = (&mut self.a[..n], &mut self.h[..n]);
        let (w, b) = self.params.split_at(Self::WEIGHTS);
        if Self::fast(rows) {
            crate::gemm::affine(&x[..rows * IN], w, b, a, IN, OUT);
        } else {
            kernels::affine::<F, IN, OUT>(&x[..rows * IN], w, b, a);
        }
        self.act.forward(a, h, OUT);
        h
    }

    fn output<'a>(&'a self, _x: &'a [F], rows: usize) -> &'a [F] {
        &self.h[..rows * OUT]
    }

    fn visit<'s>(&'s self, rows: usize, f: &mut dyn FnMut(LayerView<'s, F>)) {
        let view = |v: &'s [F]| {
            let r = if v.len() >= rows * OUT { rows } else { 0 };
            ArrayView2::from_shape((r, OUT), &v[..r * OUT]).expect("buffer holds rows x OUT")
        };
        let (a, h) = (view(&self.a), view(&self.h));
        let saturated = if a.is_empty() {
            0.0
        } else {
            let n = a
                .iter()
                .zip(h.iter())
                .filter(|&(&a, &h)| self.act.saturated(a, h))
                .count();
            n as f64 / a.len() as f64
        };
        let (grad_w, grad_b) = self.grads.split_at(Self::WEIGHTS);
        f(LayerView::Dense(DenseView {
            w: self.weights(),
            b: self.bias(),
            activation: self.act.describe(),
            a,
            h,
            delta: view(&self.delta),
            grad_w: ArrayView2::from_shape((OUT, IN), grad_w).expect("grads hold OUT x IN"),
            grad_b: ArrayView1::from(grad_b),
            saturated,
            penalty: self.penalty,
        }));
    }

    fn param_count(&self) -> usize {
        OUT * IN + OUT
    }

    fn activity_penalty(&self, rows: usize) -> f64 {
        match self.penalty {
            Some(p) if self.h.len() >= rows * OUT => p.total(&self.h, self.w(), rows, OUT),
            _ => 0.0,
        }
    }

    fn penalised(&self) -> bool {
        self.penalty.is_some()
    }

    fn validate(&self, dense: &mut usize) -> Result<()> {
        let layer = *dense;
        *dense += 1;
        let invalid = |why: String| {
            Error::InvalidConfig(format!(
                "dense layer {layer} ({IN}->{OUT} {}): {why}",
                self.act.describe()
            ))
        };
        self.act.validate().map_err(invalid)?;
        if let Some(p) = self.penalty {
            p.validate().map_err(invalid)?;
        }
        if let Some(i) = self.params.iter().position(|v| !v.is_finite()) {
            let which = if i < Self::WEIGHTS {
                format!("weight [{}, {}]", i / IN, i % IN)
            } else {
                format!("bias [{}]", i - Self::WEIGHTS)
            };
            return Err(Error::InvalidParameters {
                layer,
                reason: format!(
                    "{which} is {}; was the layer initialised with a non-finite scale, \
                     such as normal(NaN)?",
                    self.params[i]
                ),
            });
        }
        Ok(())
    }
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Takes<F, Const<IN>>
    for Dense<IN, OUT, A, F>
{
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> OutputLayer<F>
    for Dense<IN, OUT, A, F>
{
    type Act = A;

    fn parts(&self, rows: usize) -> (&A, &[F], &[F]) {
        let n = rows * OUT;
        (&self.act, &self.a[..n], &self.h[..n])
    }

    fn infer_output(&self, x: &[F], rows: usize) -> (Vec<F>, Vec<F>) {
        self.infer_parts(x, rows)
    }

    fn parts_mut(&mut self, rows: usize) -> (&A, &[F], &[F], &mut [F]) {
        let n = rows * OUT;
        self.delta.ensure_len(n);
        (&self.act, &self.a[..n], &self.h[..n], &mut self.delta[..n])
    }

    // ANCHOR: backward_from_delta
    fn backward_from_delta(&mut self, x: &[F], rows: usize, grad_x: &mut [F]) {
        let n = rows * OUT;
        let delta = &self.delta[..n];
        let scale = F::one() / F::from_f64(rows as f64);
        let (gw, gb) = self.grads.split_at_mut(Self::WEIGHTS);
        if Self::fast(rows) {
            crate::gemm::grad_params(delta, &x[..rows * IN], gw, gb, IN, OUT, scale);
        } else {
            kernels::grad_params::<F, IN, OUT>(delta, &x[..rows * IN], gw, gb, scale);
        }
        if grad_x.is_empty() {
            return;
        }
        let gx = &mut grad_x[..rows * IN];
        let w = &self.params[..Self::WEIGHTS];
        if Self::fast(rows) {
            crate::gemm::grad_input(delta, w, gx, IN, OUT);
        } else {
            kernels::grad_input::<F, IN, OUT>(delta, w, gx);
        }
    }
    // ANCHOR_END: backward_from_delta

    const STACK: bool = !Self::FAST;

    fn backprop_one(
        &mut self,
        x: &[F; IN],
        loss: impl FnOnce(&A, &[F], &[F], &mut [F]) -> F,
    ) -> (F, [F; IN]) {
        let (a, h) = self.forward_one(x);
        let mut delta = [F::zero(); OUT];
        let loss = loss(&self.act, &a, &h, &mut delta);
        (loss, self.backward_one(x, &delta))
    }
}

impl<const IN: usize, const OUT: usize, A: Derivative<F>, F: Float> Backward<F>
    for Dense<IN, OUT, A, F>
{
    fn output_and_grad<'a>(&'a mut self, _x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        let n = rows * OUT;
        self.delta.ensure_len(n);
        (&self.h[..n], &mut self.delta[..n])
    }

    // ANCHOR: backward
    fn backward(&mut self, x: &[F], rows: usize, grad_x: &mut [F]) {
        if let Some(penalty) = self.penalty {
            return self.backward_penalised(penalty, x, rows, grad_x);
        }
        // delta = phi'(a) (.) dL/dh, in the buffer the layer above wrote dL/dh into.
        let n = rows * OUT;
        let (a, h) = (&self.a[..n], &self.h[..n]);
        self.act.backward_in_place(a, h, &mut self.delta[..n], OUT);
        self.backward_from_delta(x, rows, grad_x)
    }
    // ANCHOR_END: backward

    const STACK: bool = !Self::FAST;

    fn backprop_one(
        &mut self,
        x: &[F; IN],
        pass: &mut Pass<'_>,
        rest: impl FnOnce(&[F; OUT], &mut Pass<'_>) -> (F, [F; OUT]),
    ) -> (F, [F; IN]) {
        let (a, h) = self.forward_one(x);
        // delta = phi'(a) (.) dL/dh, in place, as the batch path does.
        let (loss, mut delta) = rest(&h, pass);
        self.act.backward_in_place(&a, &h, &mut delta, OUT);
        (loss, self.backward_one(x, &delta))
    }
}

impl<const IN: usize, const OUT: usize, A: Derivative<F>, F: Float> Dense<IN, OUT, A, F> {
    /// [`backward`](Backward::backward) for a layer with an activity
    /// penalty: the penalty's `dP/dh` joins the `dL/dh` the layer above
    /// wrote, the pass goes on as usual, and the contractive penalty adds
    /// its direct term to `dL/dW` (see [`Penalty`]).
    // ANCHOR: backward_penalised
    fn backward_penalised(&mut self, penalty: Penalty, x: &[F], rows: usize, grad_x: &mut [F]) {
        let n = rows * OUT;
        let (a, h, w) = (&self.a[..n], &self.h[..n], &self.params[..Self::WEIGHTS]);
        penalty.add_grad_h(h, w, &mut self.delta[..n], rows, OUT);
        self.act.backward_in_place(a, h, &mut self.delta[..n], OUT);
        self.backward_from_delta(x, rows, grad_x);
        let (w, gw) = (
            &self.params[..Self::WEIGHTS],
            &mut self.grads[..Self::WEIGHTS],
        );
        penalty.add_grad_w(&self.h[..n], w, gw, rows, OUT);
    }
    // ANCHOR_END: backward_penalised
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Dense<IN, OUT, A, F> {
    /// `(a, h)` for a batch, on the heap, through the products of `forward`
    /// (so a batch predicts as it trains), leaving the layer's buffers alone.
    fn infer_parts(&self, x: &[F], rows: usize) -> (Vec<F>, Vec<F>) {
        let n = rows * OUT;
        let (mut a, mut h) = (vec![F::zero(); n], vec![F::zero(); n]);
        let (w, b) = self.params.split_at(Self::WEIGHTS);
        if Self::fast(rows) {
            crate::gemm::affine(&x[..rows * IN], w, b, &mut a, IN, OUT);
        } else {
            kernels::affine::<F, IN, OUT>(&x[..rows * IN], w, b, &mut a);
        }
        self.act.forward(&a, &mut h, OUT);
        (a, h)
    }
}

/// One sample on the stack, for [`Backward::backprop_one`] and
/// [`OutputLayer::backprop_one`]: the plain kernels of `kernels.rs` on
/// arrays, so the results are those of the batch path with one row.
impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Dense<IN, OUT, A, F> {
    /// `a = W x + b` and `h = phi(a)`, also kept in the layer's buffers.
    #[inline(always)]
    fn forward_one(&mut self, x: &[F; IN]) -> ([F; OUT], [F; OUT]) {
        let (w, b) = self.params.split_at(Self::WEIGHTS);
        let a = kernels::affine_one::<F, IN, OUT>(x, w, b);
        let mut h = [F::zero(); OUT];
        self.act.forward(&a, &mut h, OUT);
        self.a.ensure_len(OUT);
        self.h.ensure_len(OUT);
        self.a[..OUT].copy_from_slice(&a);
        self.h[..OUT].copy_from_slice(&h);
        (a, h)
    }

    /// Keeps `delta`, sets the gradients `dL/dW = delta x^T`, `dL/db = delta`
    /// (a batch of one), and returns `dL/dx = W^T delta`.
    #[inline(always)]
    fn backward_one(&mut self, x: &[F; IN], delta: &[F; OUT]) -> [F; IN] {
        self.delta.ensure_len(OUT);
        self.delta[..OUT].copy_from_slice(delta);
        let (gw, gb) = self.grads.split_at_mut(Self::WEIGHTS);
        kernels::grad_params_one::<F, IN, OUT>(delta, x, gw, gb);
        kernels::grad_input_one::<F, IN, OUT>(delta, &self.params[..Self::WEIGHTS])
    }
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Parameters<F>
    for Dense<IN, OUT, A, F>
{
    fn visit_params(&mut self, f: &mut dyn FnMut(Param<'_, F>)) {
        f(Param {
            value: &mut self.params,
            grad: &mut self.grads,
            state: &mut self.moments,
            weights: Self::WEIGHTS,
        });
    }

    #[inline(always)]
    fn visit_params_with<V: ParamVisitor<F>>(&mut self, visitor: &mut V) {
        // Sliced to the constant length, so an inlined visit sees it.
        let len = Self::WEIGHTS + OUT;
        visitor.visit(Param {
            value: &mut self.params[..len],
            grad: &mut self.grads[..len],
            state: &mut self.moments,
            weights: Self::WEIGHTS,
        });
    }
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> Clone for Dense<IN, OUT, A, F> {
    fn clone(&self) -> Self {
        let mut copy = Self::from_params(self.params.clone(), self.act);
        copy.moments = self.moments.clone();
        copy.penalty = self.penalty;
        copy
    }
}

impl<const IN: usize, const OUT: usize, A: Activation<F>, F: Float> fmt::Debug
    for Dense<IN, OUT, A, F>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense")
            .field("in", &IN)
            .field("out", &OUT)
            .field("activation", &self.act.describe())
            .field("penalty", &self.penalty)
            .field("w", &self.weights())
            .field("b", &self.bias())
            .finish()
    }
}

pub(crate) fn check_shape(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// The first non-finite value of `x`, as an error.
pub(crate) fn check_finite<F: Float>(what: &'static str, x: ArrayView2<'_, F>) -> Result<()> {
    // Fast path: a branch-free scan of contiguous data (it vectorises); the
    // position of a bad value is looked up only when there is one.
    let all_finite = |s: &[F]| {
        crate::simd::wide_if(
            s.len() >= 64,
            #[inline(always)]
            || s.iter().fold(true, |ok, v| ok & v.is_finite()),
        )
    };
    if let Some(s) = x.as_slice() {
        // A large data set is read from memory by both threads, half each.
        let ok = if crate::pool::halves_pay(s.len()) {
            let (a, b) = s.split_at(s.len() / 2);
            let (a, b) = crate::pool::both(a, b, all_finite);
            a & b
        } else {
            all_finite(s)
        };
        if ok {
            return Ok(());
        }
    }
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, col), _)) => Err(Error::NonFiniteValue { what, row, col }),
        None => Ok(()),
    }
}
