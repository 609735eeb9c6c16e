//! A network: a hidden stack, an output layer and the loss that pairs with it.

use crate::buffer::Buffer;
use crate::dense::{check_finite, check_shape};
use crate::layer::{LayerView, OutputLayer, Param, ParamVisitor, Parameters, Pass, Takes, Width};
use crate::loss::{Loss, LossFor};
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayView2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use std::fmt::{self, Write as _};

/// The random number generator the engine uses everywhere: xoshiro256++
/// (Blackman & Vigna 2018), seeded explicitly so every run is reproducible.
pub type Rng = Xoshiro256PlusPlus;

/// A seeded [`Rng`].
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A multilayer perceptron: `hidden` layers, then an `output` layer whose
/// activation pairs with the `loss`.
///
/// `H` is any [`Layer`](crate::Layer) (a [`Dense`](crate::Dense), a [`Chain`](crate::Chain)
/// of layers, or [`Input<N>`](crate::Input) for none); `O` is the output
/// [`Dense`](crate::Dense). The input width is `H::In`, the output width
/// `O::Out`, both known to the compiler.
///
/// Built by hand (the `network!` macro of the `mlp` crate writes the same):
///
/// ```
/// use mlp_core::prelude::*;
///
/// let mut rng = mlp_core::rng(3);
/// let hidden = Dense::<3, 8, _>::new(Relu, Init::HeNormal, &mut rng)
///     .then(Dropout::<8>::new(0.2)?)
///     .then(Dense::<8, 8, _>::new(Tanh, Init::XavierNormal, &mut rng));
/// let output = Dense::<8, 2, _>::new(Softmax, Init::XavierNormal, &mut rng);
/// let net = Network::new(hidden, output, CrossEntropy, rng);
/// assert_eq!(net.param_count(), 3 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2);
/// let p: [f32; 2] = net.predict(&[0.5, -1.0, 2.0]);       // widths checked by the compiler
/// assert!((p[0] + p[1] - 1.0).abs() < 1e-6);              // softmax outputs sum to 1
/// # let _ = &net;
/// # Ok::<(), mlp_core::Error>(())
/// ```
pub struct Network<H, O, L, F: Float = f32> {
    pub(crate) hidden: H,
    pub(crate) output: O,
    pub(crate) loss: L,
    pub(crate) rng: Rng,
    /// Optimiser steps taken so far (Adam's `t`), since the optimiser state
    /// was last reset.
    pub(crate) steps: u64,
    /// The optimiser whose state the layers hold (`None` after a reset).
    pub(crate) optimizer: Option<crate::Optimizer>,
    /// Epochs trained since the optimiser state was last reset: where a
    /// learning-rate schedule continues from.
    pub(crate) epochs: usize,
    /// Reused buffers: a gathered batch of inputs and targets, and `dL/dh` at the output.
    pub(crate) xb: Buffer<F>,
    pub(crate) yb: Buffer<F>,
    pub(crate) grad_h: Buffer<F>,
}

impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Parameters<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: Loss<F>,
{
    /// Joins the parts without requiring the loss to pair with the output
    /// activation. For the `network!` macro, which checks the pairing itself
    /// at the loss token; use [`Network::new`].
    #[doc(hidden)]
    pub fn __from_dsl(hidden: H, output: O, loss: L, rng: Rng) -> Self {
        Network {
            hidden,
            output,
            loss,
            rng,
            steps: 0,
            optimizer: None,
            epochs: 0,
            xb: Buffer::new(),
            yb: Buffer::new(),
            grad_h: Buffer::new(),
        }
    }

    /// Number of inputs per sample.
    pub const INPUTS: usize = <H::In as Width>::N;
    /// Number of outputs per sample.
    pub const OUTPUTS: usize = <O::Out as Width>::N;
    /// Number of trainable parameters (weights and biases).
    pub const PARAMS: usize = H::PARAMS + O::PARAMS;

    /// The hidden stack.
    pub fn hidden(&self) -> &H {
        &self.hidden
    }

    /// The output layer.
    pub fn output_layer(&self) -> &O {
        &self.output
    }

    /// The loss.
    pub fn loss_fn(&self) -> &L {
        &self.loss
    }

    /// The number of trainable parameters.
    pub fn param_count(&self) -> usize {
        self.hidden.param_count() + self.output.param_count()
    }

    /// Runs one sample. The widths are checked by the compiler.
    pub fn predict(&self, x: &<H::In as Width>::Array<F>) -> <O::Out as Width>::Array<F> {
        self.output.infer(&self.hidden.infer(x))
    }

    /// Runs a batch (one sample per row) and returns one output row per sample.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a wrong number of columns,
    /// [`Error::NonFiniteValue`] for NaN or infinite inputs.
    ///
    /// The batch runs through the same products as training, in chunks,
    /// with every intermediate value on the heap: a network of any width
    /// predicts on any thread, whatever its stack size.
    pub fn predict_batch(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        run_rows(x, Self::INPUTS, Self::OUTPUTS, |xs, rows| {
            self.output
                .infer_batch(&self.hidden.infer_batch(xs, rows), rows)
        })
    }

    /// Copies the given rows of `x` and `y` into the batch buffers; returns the row count.
    pub(crate) fn gather(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        idx: impl ExactSizeIterator<Item = usize> + Clone + Send,
    ) -> usize {
        if let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice()) {
            // Standard layout (the usual case): plain slice copies, no views.
            return self.gather_flat(xs, ys, idx);
        }
        let (ni, no, rows) = (Self::INPUTS, Self::OUTPUTS, idx.len());
        self.xb.ensure_len(rows * ni);
        self.yb.ensure_len(rows * no);
        /// Copies one row, with `memcpy` when it is contiguous.
        fn copy_row<F: Float>(dst: &mut [F], src: ndarray::ArrayView1<'_, F>) {
            match src.as_slice() {
                Some(s) => dst.copy_from_slice(s),
                None => dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s),
            }
        }
        for (k, i) in idx.enumerate() {
            copy_row(&mut self.xb[k * ni..(k + 1) * ni], x.row(i));
            copy_row(&mut self.yb[k * no..(k + 1) * no], y.row(i));
        }
        rows
    }

    /// [`gather`](Self::gather) from data in standard layout, given as its
    /// row-major slices (which a training run looks up once, not per batch).
    pub(crate) fn gather_flat<I>(&mut self, xs: &[F], ys: &[F], idx: I) -> usize
    where
        I: ExactSizeIterator<Item = usize> + Clone + Send,
    {
        let (ni, no, rows) = (Self::INPUTS, Self::OUTPUTS, idx.len());
        self.xb.ensure_len(rows * ni);
        self.yb.ensure_len(rows * no);
        let (xb, yb) = (&mut self.xb[..rows * ni], &mut self.yb[..rows * no]);
        // Copies the samples `idx[skip..]` into `xb` and `yb`. The rows of a
        // shuffled batch lie anywhere in a data set that need not fit in
        // cache, so each copy first asks for the row a few samples ahead.
        let copy = |(idx, skip, xb, yb): (I, usize, &mut [F], &mut [F])| {
            let mut ahead = Iterator::skip(idx.clone(), skip + PREFETCH_ROWS);
            let rows = xb.chunks_exact_mut(ni).zip(yb.chunks_exact_mut(no));
            for (i, (xd, yd)) in Iterator::skip(idx, skip).zip(rows) {
                if let Some(j) = ahead.next() {
                    prefetch(&xs[j * ni..(j + 1) * ni]);
                }
                xd.copy_from_slice(&xs[i * ni..(i + 1) * ni]);
                yd.copy_from_slice(&ys[i * no..(i + 1) * no]);
            }
        };
        if crate::pool::halves_pay(rows * ni) {
            // A large batch is mostly cache misses: both threads fetch half.
            let h = rows / 2;
            let (x0, x1) = xb.split_at_mut(h * ni);
            let (y0, y1) = yb.split_at_mut(h * no);
            crate::pool::both((idx.clone(), 0, x0, y0), (idx, h, x1, y1), copy);
        } else {
            copy((idx, 0, xb, yb));
        }
        rows
    }

    /// Reports every layer, first to last, as of the last pass over `rows` samples.
    pub fn visit_layers<'s>(&'s self, rows: usize, f: &mut dyn FnMut(LayerView<'s, F>)) {
        self.hidden.visit(rows, f);
        self.output.visit(rows, f);
    }

    /// Every dense layer's weights (`out x in`, as PyTorch's `nn.Linear`
    /// stores them) and biases, first layer first: what
    /// [`set_weights`](Self::set_weights) takes (Keras' `get_weights`).
    ///
    /// ```
    /// use mlp_core::prelude::*;
    /// let mut rng = mlp_core::rng(0);
    /// let hidden = Dense::<2, 3, _>::new(Relu, Init::HeNormal, &mut rng);
    /// let output = Dense::<3, 1, _>::new(Sigmoid, Init::XavierNormal, &mut rng);
    /// let mut net = Network::new(hidden, output, Bce, rng);
    /// let layers = net.get_weights();
    /// assert_eq!(layers[0].0.dim(), (3, 2));
    /// assert_eq!(layers[1].1.len(), 1);
    /// net.set_weights(&layers)?;
    /// # Ok::<(), mlp_core::Error>(())
    /// ```
    pub fn get_weights(&self) -> Vec<(Array2<F>, Array1<F>)> {
        let mut layers = Vec::new();
        self.visit_layers(0, &mut |layer| {
            if let LayerView::Dense(d) = layer {
                layers.push((d.w.to_owned(), d.b.to_owned()));
            }
        });
        layers
    }

    /// Replaces every dense layer's weights (`out x in`) and biases, first
    /// layer first, all or nothing: everything is checked before anything
    /// changes. The optimiser state is reset (see
    /// [`reset_optimizer`](Self::reset_optimizer)), as for a network built
    /// with these weights.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] naming the first layer whose matrix or
    /// vector has the wrong shape or holds a NaN or infinity, or the layer
    /// count when there are too few or too many layers. The network is then
    /// unchanged.
    pub fn set_weights(&mut self, layers: &[(Array2<F>, Array1<F>)]) -> Result<()> {
        let mut shapes = Vec::new();
        self.visit_layers(0, &mut |layer| {
            if let LayerView::Dense(d) = layer {
                shapes.push(d.w.dim());
            }
        });
        if layers.len() != shapes.len() {
            return Err(Error::InvalidParameters {
                layer: layers.len().min(shapes.len()),
                reason: format!(
                    "the network has {} dense layers, got parameters for {}",
                    shapes.len(),
                    layers.len()
                ),
            });
        }
        for (layer, ((w, b), &(out, inp))) in layers.iter().zip(&shapes).enumerate() {
            let bad = |reason: String| Err(Error::InvalidParameters { layer, reason });
            if w.dim() != (out, inp) {
                return bad(format!(
                    "weights must be {out} x {inp} (out x in), got {} x {}",
                    w.nrows(),
                    w.ncols()
                ));
            }
            if b.len() != out {
                return bad(format!("biases must have {out} values, got {}", b.len()));
            }
            if let Some(((r, c), v)) = w.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return bad(format!("weight [{r}, {c}] is {v}"));
            }
            if let Some((i, v)) = b.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return bad(format!("bias [{i}] is {v}"));
            }
        }
        let mut k = 0;
        self.visit_params(&mut |p| {
            let (w, b) = &layers[k];
            let (wv, bv) = p.value.split_at_mut(p.weights);
            for (dst, &src) in wv.iter_mut().zip(w.iter()) {
                *dst = src;
            }
            for (dst, &src) in bv.iter_mut().zip(b.iter()) {
                *dst = src;
            }
            k += 1;
        });
        self.reset_optimizer();
        Ok(())
    }

    /// Forgets the optimiser's state: SGD's velocity, Adam's moments, its
    /// step count `t`, and the epoch count a learning-rate schedule follows.
    /// The next `fit` starts the optimiser and its schedule afresh, as a new
    /// `torch.optim` object (with a new scheduler) or a Keras `compile` would.
    ///
    /// `fit` keeps the state between calls while the optimiser stays the
    /// same apart from its learning rate: calling `fit` twice for 10 epochs
    /// trains as one call for 20, schedule included (epochs are numbered on
    /// in the history). It resets the state by itself when the rule or
    /// another hyper-parameter changes (SGD to Adam, a new momentum, new
    /// betas). Early stopping is per call: each `fit` starts with fresh
    /// patience.
    pub fn reset_optimizer(&mut self) {
        self.visit_params(&mut |p| *p.state = Default::default());
        self.steps = 0;
        self.epochs = 0;
        self.optimizer = None;
    }

    /// Epochs trained since the optimiser state was last reset (see
    /// [`reset_optimizer`](Self::reset_optimizer)): the epoch a schedule
    /// continues from, and the number the next `fit` call's first epoch
    /// follows.
    pub fn schedule_epoch(&self) -> usize {
        self.epochs
    }

    /// Optimiser steps taken since the optimiser state was last reset
    /// (Adam's `t`).
    pub fn optimizer_steps(&self) -> u64 {
        self.steps
    }

    /// Hands every parameter tensor, first layer first, to `f`.
    pub fn visit_params(&mut self, f: &mut dyn FnMut(Param<'_, F>)) {
        self.hidden.visit_params(f);
        self.output.visit_params(f);
    }

    /// [`visit_params`](Self::visit_params), statically dispatched (see
    /// [`Parameters::visit_params_with`]).
    #[inline(always)]
    pub(crate) fn visit_params_with<V: ParamVisitor<F>>(&mut self, visitor: &mut V) {
        self.hidden.visit_params_with(visitor);
        self.output.visit_params_with(visitor);
    }

    /// A Keras-style table of the layers, their shapes and parameter counts.
    pub fn summary(&self) -> String {
        let mut rows = vec![(
            "input".to_string(),
            format!("(None, {})", Self::INPUTS),
            String::new(),
            0,
        )];
        self.visit_layers(0, &mut |layer| match layer {
            LayerView::Dense(d) => {
                let (o, i) = d.w.dim();
                let activation = match d.penalty {
                    Some(p) => format!("{} {}", d.activation, p.describe()),
                    None => d.activation,
                };
                rows.push((
                    format!("dense {i}->{o}"),
                    format!("(None, {o})"),
                    activation,
                    o * i + o,
                ));
            }
            LayerView::Noise { corruption, width } => {
                rows.push((
                    format!("noise {}", corruption.describe()),
                    format!("(None, {width})"),
                    String::new(),
                    0,
                ));
            }
            LayerView::Dropout { p, width } => {
                rows.push((
                    format!("dropout {p}"),
                    format!("(None, {width})"),
                    String::new(),
                    0,
                ));
            }
        });
        let mut s = String::new();
        let line = "-".repeat(62);
        let _ = writeln!(
            s,
            "{:<20}{:<16}{:<18}{:>8}",
            "Layer", "Output shape", "Activation", "Params"
        );
        let _ = writeln!(s, "{line}");
        for (name, shape, act, params) in &rows {
            let _ = writeln!(s, "{name:<20}{shape:<16}{act:<18}{params:>8}");
        }
        let _ = writeln!(s, "{line}");
        let _ = writeln!(
            s,
            "Total params: {}  (loss: {}, dtype: {})",
            self.param_count(),
            self.loss.describe(),
            F::NAME
        );
        s
    }
}

impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Parameters<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: LossFor<F, O::Act>,
{
    /// Joins a hidden stack, an output layer and a loss. `rng` drives
    /// shuffling and dropout from here on (pass the one the layers were
    /// initialised from, so a single seed fixes everything).
    pub fn new(hidden: H, output: O, loss: L, rng: Rng) -> Self {
        Self::__from_dsl(hidden, output, loss, rng)
    }

    /// The mean loss over a data set (inference mode: dropout off, no
    /// penalty). Takes `&self`: it uses none of the network's training
    /// buffers, so a callback of [`fit_with`](Self::fit_with) may call it.
    ///
    /// # Errors
    /// As [`Network::check_data`].
    pub fn evaluate(&self, x: ArrayView2<'_, F>, y: ArrayView2<'_, F>) -> Result<f64> {
        self.check_data(x, y)?;
        let (ni, no) = (Self::INPUTS, Self::OUTPUTS);
        let chunk = ((1 << 20) / ni.max(no)).clamp(1, 1024);
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let mut total = 0.0;
        for (xr, yr) in x
            .axis_chunks_iter(ndarray::Axis(0), chunk)
            .zip(y.axis_chunks_iter(ndarray::Axis(0), chunk))
        {
            xs.clear();
            xs.extend(xr.iter().copied());
            ys.clear();
            ys.extend(yr.iter().copied());
            let rows = xr.nrows();
            let h = self.hidden.infer_batch(&xs, rows);
            let (a, h) = self.output.infer_output(&h, rows);
            let (act, ..) = self.output.parts(0);
            total += self.loss.total(act, &a, &h, &ys, no).as_f64();
        }
        Ok(total / x.nrows() as f64)
    }

    /// Mean loss over `rows` of `(x, y)` in chunks of `chunk` samples,
    /// dropout off. Data must already be checked.
    pub(crate) fn loss_over(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        chunk: usize,
    ) -> f64 {
        let mut total = 0.0;
        for idx in rows.chunks(chunk.max(1)) {
            let n = self.gather(x, y, idx.iter().copied());
            total += self.forward_loss(n, false).as_f64();
        }
        total / rows.len() as f64
    }

    /// Forward pass over the gathered batch; returns the summed loss.
    pub(crate) fn forward_loss(&mut self, rows: usize, training: bool) -> F {
        let mut pass = Pass {
            training,
            rng: &mut self.rng,
        };
        let x = &self.xb[..rows * Self::INPUTS];
        let h = self.hidden.forward(x, rows, &mut pass);
        self.output.forward(h, rows, &mut pass);
        let (act, a, h) = self.output.parts(rows);
        let loss = self
            .loss
            .total(act, a, h, &self.yb[..rows * Self::OUTPUTS], Self::OUTPUTS);
        // The hidden layers' activity penalties are part of the objective.
        if self.hidden.penalised() {
            loss + F::from_f64(self.hidden.activity_penalty(rows))
        } else {
            loss
        }
    }

    /// Checks the network itself before it trains: finite parameters, and
    /// valid activation and loss parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] for a non-finite weight or bias,
    /// [`Error::InvalidConfig`] for an invalid activation or loss parameter.
    pub fn validate(&self) -> Result<()> {
        let mut dense = 0;
        self.hidden.validate(&mut dense)?;
        if self.output.penalised() {
            return Err(Error::InvalidConfig(format!(
                "dense layer {dense} is the output layer and carries an activity penalty; \
                 put the penalty on a hidden layer (the output's error is the loss itself)"
            )));
        }
        self.output.validate(&mut dense)?;
        self.loss
            .validate()
            .map_err(|why| Error::InvalidConfig(format!("loss {}: {why}", self.loss.describe())))
    }

    /// Checks a data set against the network: widths, row counts, emptiness,
    /// finiteness and the loss's target domain.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::RowMismatch`], [`Error::EmptyData`],
    /// [`Error::NonFiniteValue`] or [`Error::InvalidTarget`].
    pub fn check_data(&self, x: ArrayView2<'_, F>, y: ArrayView2<'_, F>) -> Result<()> {
        check_shape("input columns", Self::INPUTS, x.ncols())?;
        check_shape("target columns", Self::OUTPUTS, y.ncols())?;
        if x.nrows() != y.nrows() {
            return Err(Error::RowMismatch {
                inputs: x.nrows(),
                targets: y.nrows(),
            });
        }
        if x.nrows() == 0 {
            return Err(Error::EmptyData { what: "inputs" });
        }
        check_finite("inputs", x)?;
        check_finite("targets", y)?;
        let y = y.as_standard_layout();
        self.loss
            .check_targets(y.as_slice().expect("standard layout"), Self::OUTPUTS)
    }
}

impl<H, O, L, F> fmt::Debug for Network<H, O, L, F>
where
    F: Float,
    H: Parameters<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: Loss<F>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

impl<H: Clone, O: Clone, L: Clone, F: Float> Clone for Network<H, O, L, F> {
    fn clone(&self) -> Self {
        Network {
            hidden: self.hidden.clone(),
            output: self.output.clone(),
            loss: self.loss.clone(),
            rng: self.rng.clone(),
            steps: self.steps,
            optimizer: self.optimizer,
            epochs: self.epochs,
            xb: Buffer::new(),
            yb: Buffer::new(),
            grad_h: Buffer::new(),
        }
    }
}

/// Runs `f` (which maps `rows` samples, row-major, to their outputs) over
/// the rows of `x` in chunks, with every value on the heap, after checking
/// the width and the values: [`Network::predict_batch`] and
/// [`Layer::infer_rows`](crate::Layer::infer_rows).
pub(crate) fn run_rows<F: Float>(
    x: ArrayView2<'_, F>,
    inputs: usize,
    outputs: usize,
    f: impl Fn(&[F], usize) -> Vec<F>,
) -> Result<Array2<F>> {
    check_shape("input columns", inputs, x.ncols())?;
    check_finite("inputs", x)?;
    let mut out = crate::data::zeros_checked((x.nrows(), outputs))?;
    // About a million input values per chunk, at least one row.
    let chunk = ((1 << 20) / inputs).clamp(1, 1024);
    let mut xs = Vec::new();
    for (rows, mut out) in x
        .axis_chunks_iter(ndarray::Axis(0), chunk)
        .zip(out.axis_chunks_iter_mut(ndarray::Axis(0), chunk))
    {
        xs.clear();
        xs.extend(rows.iter().copied());
        let y = f(&xs, rows.nrows());
        for (o, &v) in out.iter_mut().zip(&y) {
            *o = v;
        }
    }
    Ok(out)
}

/// How many samples ahead [`Network::gather_flat`] prefetches.
const PREFETCH_ROWS: usize = 4;

/// Asks the CPU to bring `row` into cache, one request per 64-byte line
/// (see [`crate::simd::prefetch`]).
#[inline(always)]
fn prefetch<F>(row: &[F]) {
    let start = row.as_ptr().cast::<u8>();
    for off in (0..std::mem::size_of_val(row)).step_by(64) {
        crate::simd::prefetch(start.wrapping_add(off));
    }
}
