//! The layer traits, widths as types, and sequential composition.
//!
//! A network is a chain of layers whose widths are part of their types:
//! `Dense<2, 4, Relu>` maps 2 inputs to 4 outputs. [`Chain`] joins two layers
//! and only compiles when the second takes what the first produces, so a
//! stack whose widths do not line up is rejected by the compiler.
//!
//! Batches travel as row-major slices (`rows x width`, one row per sample).
//! Each layer owns the buffers of its last forward pass (`a`, `h`) and of its
//! last backward pass (`delta`, gradients), sized for the largest batch it has
//! seen, so a training step allocates nothing once those exist.

use crate::Float;
use crate::activation::Activation;
use ndarray::{ArrayView1, ArrayView2};
use rand::rngs::Xoshiro256PlusPlus;
use std::fmt::Debug;

/// A width `N` as a type, so layer widths can be compared by the trait system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Const<const N: usize>;

/// A layer width known at compile time.
pub trait Width: Copy + Debug + Send + Sync + 'static {
    /// The width.
    const N: usize;
    /// One sample of this width: `[F; N]`.
    type Array<F: Float>: AsRef<[F]> + AsMut<[F]> + Copy + Debug + PartialEq;
    /// A sample of zeros.
    fn zeros<F: Float>() -> Self::Array<F>;
}

impl<const N: usize> Width for Const<N> {
    const N: usize = N;
    type Array<F: Float> = [F; N];
    fn zeros<F: Float>() -> [F; N] {
        [F::zero(); N]
    }
}

/// Whether a forward pass is for training (dropout active) and the RNG it draws from.
pub struct Pass<'r> {
    /// `true` while training: dropout masks are drawn.
    pub training: bool,
    /// The network's RNG, for dropout masks.
    pub rng: &'r mut Xoshiro256PlusPlus,
}

/// A read-only view of one dense layer after a pass, for summaries, traces,
/// statistics and saving. `a`, `h`, `delta` hold the rows of the last pass.
#[derive(Debug, Clone)]
pub struct DenseView<'a, F: Float> {
    /// Weights, `out x in`.
    pub w: ArrayView2<'a, F>,
    /// Biases, `out`.
    pub b: ArrayView1<'a, F>,
    /// The activation, with parameters.
    pub activation: String,
    /// Pre-activations `a = h_prev W^T + b` of the last forward pass.
    pub a: ArrayView2<'a, F>,
    /// Outputs `h = phi(a)` of the last forward pass.
    pub h: ArrayView2<'a, F>,
    /// Errors `delta = dL/da` of the last backward pass (per sample).
    pub delta: ArrayView2<'a, F>,
    /// `dL/dW` of the last backward pass, averaged over its batch.
    pub grad_w: ArrayView2<'a, F>,
    /// `dL/db` of the last backward pass, averaged over its batch.
    pub grad_b: ArrayView1<'a, F>,
    /// Fraction of `(sample, unit)` pairs of the last forward pass that were saturated.
    pub saturated: f64,
    /// The penalty on the layer's activity, if any (see [`Penalty`](crate::Penalty)).
    pub penalty: Option<crate::Penalty>,
}

/// One entry of a network, as [`Layer::visit`] reports it.
// A short-lived view passed by value to a visitor; boxing it would allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum LayerView<'a, F: Float> {
    /// A dense layer.
    Dense(DenseView<'a, F>),
    /// A dropout layer with drop probability `p` over `width` units.
    Dropout {
        /// The drop probability.
        p: f64,
        /// The width it acts on.
        width: usize,
    },
    /// A corruption layer (see [`Noise`](crate::Noise)).
    Noise {
        /// How it corrupts while training.
        corruption: crate::Corruption,
        /// The width it acts on.
        width: usize,
    },
}

/// Optimiser state for one layer's parameters (first and second moments),
/// laid out as the parameters. Allocated on the first optimiser step.
#[derive(Debug, Clone, Default)]
pub struct Moments<F> {
    /// First moment (SGD velocity, Adam `m`).
    pub m: Vec<F>,
    /// Second moment (Adam `v`).
    pub v: Vec<F>,
}

/// One layer's parameters with their gradient and optimiser state, flattened
/// into one contiguous block: the weights first (row-major), then the biases.
pub struct Param<'a, F: Float> {
    /// The values: `value[..weights]` are weights, the rest biases.
    pub value: &'a mut [F],
    /// `dL/dvalue` of the last backward pass.
    pub grad: &'a mut [F],
    /// Optimiser state.
    pub state: &'a mut Moments<F>,
    /// How many leading values are weights (penalised by L1/L2); the rest
    /// are biases. Zero if the block holds no weights.
    pub weights: usize,
}

impl<F: Float> Param<'_, F> {
    /// The weights and their gradients, `(value[..weights], grad[..weights])`.
    pub fn weights_mut(&mut self) -> (&mut [F], &mut [F]) {
        (
            &mut self.value[..self.weights],
            &mut self.grad[..self.weights],
        )
    }
}

/// A layer: maps `In::N` features per sample to `Out::N` features.
pub trait Layer<F: Float>: Send {
    /// Input width.
    type In: Width;
    /// Output width.
    type Out: Width;
    /// Number of trainable parameters, known to the compiler.
    const PARAMS: usize;

    /// Runs one sample on the stack, without touching the layer's buffers.
    fn infer(&self, x: &<Self::In as Width>::Array<F>) -> <Self::Out as Width>::Array<F>;

    /// Runs a batch of `rows` samples (`x` is `rows x In::N`, row-major) in
    /// inference mode, on the heap and without touching the layer's buffers;
    /// returns the `rows x Out::N` outputs. The default runs
    /// [`infer`](Self::infer) row by row.
    fn infer_batch(&self, x: &[F], rows: usize) -> Vec<F> {
        let (ni, no) = (<Self::In as Width>::N, <Self::Out as Width>::N);
        let mut out = Vec::with_capacity(rows * no);
        let mut sample = <Self::In as Width>::zeros::<F>();
        for row in x[..rows * ni].chunks_exact(ni) {
            sample.as_mut().copy_from_slice(row);
            out.extend_from_slice(self.infer(&sample).as_ref());
        }
        out
    }

    /// Runs every row of `x` through the layer (or stack) in inference
    /// mode, as [`Network::predict_batch`](crate::Network::predict_batch)
    /// runs a network: what a part of a network computes, such as an
    /// autoencoder's encoder (`net.hidden().head`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a wrong
    /// number of columns, [`Error::NonFiniteValue`](crate::Error::NonFiniteValue)
    /// for NaN or infinite inputs.
    fn infer_rows(&self, x: ArrayView2<'_, F>) -> crate::Result<ndarray::Array2<F>>
    where
        Self: Sized,
    {
        let (ni, no) = (<Self::In as Width>::N, <Self::Out as Width>::N);
        crate::network::run_rows(x, ni, no, |xs, rows| self.infer_batch(xs, rows))
    }

    /// Runs a batch of `rows` samples (`x` is `rows x In::N`) and returns the
    /// output (`rows x Out::N`), keeping what backprop needs.
    fn forward<'a>(&'a mut self, x: &'a [F], rows: usize, pass: &mut Pass<'_>) -> &'a [F];

    /// The output of the last forward pass (`x` is the input that pass saw).
    fn output<'a>(&'a self, x: &'a [F], rows: usize) -> &'a [F];

    /// Reports the layers in order, first to last.
    fn visit<'s>(&'s self, rows: usize, f: &mut dyn FnMut(LayerView<'s, F>));

    /// Number of trainable parameters.
    fn param_count(&self) -> usize;

    /// The activity penalties of the last forward pass over `rows` samples
    /// (see [`Penalty`](crate::Penalty)), summed as the loss is: the
    /// network adds it to the loss, so that the mean over the batch is the
    /// penalised objective. `0` for a layer without a penalty.
    fn activity_penalty(&self, rows: usize) -> f64 {
        let _ = rows;
        0.0
    }

    /// Whether any layer carries an activity penalty.
    fn penalised(&self) -> bool {
        false
    }

    /// Checks that the layer can be trained and run: finite parameters and
    /// valid activation parameters. Training calls it before anything
    /// changes. `dense` is the index of the layer's first dense layer in the
    /// network, for messages; a layer advances it past its dense layers.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`](crate::Error::InvalidParameters) for a
    /// non-finite weight or bias,
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for an invalid
    /// activation parameter.
    fn validate(&self, dense: &mut usize) -> crate::Result<()> {
        let _ = dense;
        Ok(())
    }
}

/// A layer whose trainable parameters can be visited (by optimisers, clipping,
/// penalties, saving and loading).
pub trait Parameters<F: Float>: Layer<F> {
    /// Hands every layer's parameter block, first layer first, to `f`.
    fn visit_params(&mut self, f: &mut dyn FnMut(Param<'_, F>));

    /// [`visit_params`](Self::visit_params) with the visitor's type known,
    /// so each block's visit is a direct call the compiler may inline (a
    /// [`Dense`](crate::Dense) layer hands over its block sliced to its
    /// compile-time length). The optimiser step takes this path: no call
    /// through a `dyn` pointer per layer. The default hands `visitor` to
    /// `visit_params`: the same blocks, in the same order.
    #[inline(always)]
    fn visit_params_with<V: ParamVisitor<F>>(&mut self, visitor: &mut V)
    where
        Self: Sized,
    {
        self.visit_params(&mut |p| visitor.visit(p));
    }
}

/// A visit of parameter blocks, for
/// [`Parameters::visit_params_with`].
pub trait ParamVisitor<F: Float> {
    /// Visits one block.
    fn visit(&mut self, p: Param<'_, F>);
}

/// The last layer of a network, where the loss meets the activation.
pub trait OutputLayer<F: Float>: Parameters<F> {
    /// The output activation, which the loss pairs with.
    type Act: Activation<F>;

    /// `(activation, a, h)` of the last forward pass.
    fn parts(&self, rows: usize) -> (&Self::Act, &[F], &[F]);

    /// [`infer_batch`](Layer::infer_batch) that also returns the
    /// pre-activations: `(a, h)`, each `rows x Out::N`, for evaluating a loss
    /// from the logits without touching the layer's buffers.
    fn infer_output(&self, x: &[F], rows: usize) -> (Vec<F>, Vec<F>);

    /// `(activation, a, h, delta)` of the last forward pass, for the loss to
    /// write the output error `delta_m` into.
    fn parts_mut(&mut self, rows: usize) -> (&Self::Act, &[F], &[F], &mut [F]);

    /// Parameter gradients from the `delta_m` written through
    /// [`parts_mut`](Self::parts_mut), and `dL/dx = delta_m W` into `grad_x`
    /// unless it is empty (the layer below has no parameters to train).
    fn backward_from_delta(&mut self, x: &[F], rows: usize, grad_x: &mut [F]);

    /// Whether [`backprop_one`](Self::backprop_one) may be used: the layer
    /// is small enough for its values to live on the stack.
    const STACK: bool;

    /// One sample forward and back with every intermediate value on the
    /// stack: `loss(act, a, h, delta)` returns the sample's loss and writes
    /// `delta_m`. Returns the loss and `dL/dx`.
    ///
    /// Leaves `a`, `h`, `delta` and the parameter gradients exactly as
    /// [`forward`](Layer::forward), [`parts_mut`](Self::parts_mut) and
    /// [`backward_from_delta`](Self::backward_from_delta) with one row would,
    /// bit for bit (the same kernels run on arrays of known length).
    fn backprop_one(
        &mut self,
        x: &<Self::In as Width>::Array<F>,
        loss: impl FnOnce(&Self::Act, &[F], &[F], &mut [F]) -> F,
    ) -> (F, <Self::In as Width>::Array<F>);
}

/// A layer that backprop can pass through.
///
/// The gradient flows through buffers the layers already own: the layer
/// above writes `dL/dh` for this layer's output into the slice
/// [`output_and_grad`](Self::output_and_grad) lends it (a dense layer's
/// `delta`), and [`backward`](Self::backward) turns it into `delta` in place.
pub trait Backward<F: Float>: Parameters<F> {
    /// The output of the last forward pass (whose input was `x`), and the
    /// `rows x Out::N` slice the layer above writes `dL/dh` into. The slice
    /// is empty when nothing below needs the gradient (the network's input).
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]);

    /// With `dL/dh` written into the slice from
    /// [`output_and_grad`](Self::output_and_grad), computes this layer's
    /// `delta` and parameter gradients (averaged over the rows), and writes
    /// `dL/dx` into `grad_x` unless it is empty.
    fn backward(&mut self, x: &[F], rows: usize, grad_x: &mut [F]);

    /// Whether [`backprop_one`](Self::backprop_one) may be used: every
    /// layer of the stack is small enough for its values to live on the stack.
    const STACK: bool;

    /// One training sample through this layer, then `rest` (the layers
    /// above it and the loss, which returns the loss and `dL/dh` for this
    /// layer's output), then back through this layer; returns the loss and
    /// `dL/dx`. Every intermediate value lives on the stack and, for a
    /// network of small layers, the whole step compiles to one function.
    ///
    /// Leaves the layer's buffers (`a`, `h`, `delta`, dropout masks) and
    /// parameter gradients exactly as [`forward`](Layer::forward) and
    /// [`backward`](Self::backward) with one row would, bit for bit.
    fn backprop_one(
        &mut self,
        x: &<Self::In as Width>::Array<F>,
        pass: &mut Pass<'_>,
        rest: impl FnOnce(
            &<Self::Out as Width>::Array<F>,
            &mut Pass<'_>,
        ) -> (F, <Self::Out as Width>::Array<F>),
    ) -> (F, <Self::In as Width>::Array<F>);
}

/// `Self` can follow a layer whose output width is `W`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot follow a layer with output width `{W}`",
    label = "the input width of this layer differs from the output width of the layer before it",
    note = "in a chain each layer's input width must equal the previous layer's output width: \
            `Dense<I, M, _>` can be followed by `Dense<M, O, _>` or `Dropout<M>`"
)]
pub trait Takes<F: Float, W: Width>: Layer<F, In = W> {}

impl<F: Float, const N: usize> Takes<F, Const<N>> for Input<N> {}
impl<F: Float, W: Width, A: Takes<F, W>, B: Layer<F, In = A::Out>> Takes<F, W> for Chain<A, B> {}

/// The empty stack: passes `N` inputs through unchanged. A network without
/// hidden layers has `Input<N>` as its hidden part.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<const N: usize>;

impl<F: Float, const N: usize> Layer<F> for Input<N> {
    type In = Const<N>;
    type Out = Const<N>;
    const PARAMS: usize = 0;

    fn infer(&self, x: &[F; N]) -> [F; N] {
        *x
    }
    fn infer_batch(&self, x: &[F], rows: usize) -> Vec<F> {
        x[..rows * N].to_vec()
    }
    fn forward<'a>(&'a mut self, x: &'a [F], _rows: usize, _pass: &mut Pass<'_>) -> &'a [F] {
        x
    }
    fn output<'a>(&'a self, x: &'a [F], _rows: usize) -> &'a [F] {
        x
    }
    fn visit<'s>(&'s self, _rows: usize, _f: &mut dyn FnMut(LayerView<'s, F>)) {}
    fn param_count(&self) -> usize {
        0
    }
}

impl<F: Float, const N: usize> Parameters<F> for Input<N> {
    fn visit_params(&mut self, _f: &mut dyn FnMut(Param<'_, F>)) {}

    #[inline(always)]
    fn visit_params_with<V: ParamVisitor<F>>(&mut self, _visitor: &mut V) {}
}

impl<F: Float, const N: usize> Backward<F> for Input<N> {
    /// The input itself, and no gradient: nothing below it trains.
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        (&x[..rows * N], &mut [])
    }

    fn backward(&mut self, _x: &[F], _rows: usize, _grad_x: &mut [F]) {}

    const STACK: bool = true;

    fn backprop_one(
        &mut self,
        x: &[F; N],
        pass: &mut Pass<'_>,
        rest: impl FnOnce(&[F; N], &mut Pass<'_>) -> (F, [F; N]),
    ) -> (F, [F; N]) {
        rest(x, pass)
    }
}

/// Two layers in sequence: `head` then `tail`.
#[derive(Debug, Clone)]
pub struct Chain<A, B> {
    /// The first layer.
    pub head: A,
    /// The layer after it.
    pub tail: B,
}

impl<A, B> Chain<A, B> {
    /// Joins `head` and `tail`; compiles only if `tail` takes `head`'s output width.
    pub fn new<F: Float>(head: A, tail: B) -> Self
    where
        A: Layer<F>,
        B: Takes<F, A::Out>,
    {
        Chain { head, tail }
    }
}

/// Builds chains fluently: `dense1.then(dense2).then(dense3)`.
pub trait Then<F: Float>: Layer<F> + Sized {
    /// Appends `next`; compiles only if `next` takes this layer's output width.
    fn then<B: Takes<F, Self::Out>>(self, next: B) -> Chain<Self, B> {
        Chain {
            head: self,
            tail: next,
        }
    }
}

impl<F: Float, L: Layer<F>> Then<F> for L {}

impl<F: Float, A: Layer<F>, B: Layer<F, In = A::Out>> Layer<F> for Chain<A, B> {
    type In = A::In;
    type Out = B::Out;
    const PARAMS: usize = A::PARAMS + B::PARAMS;

    fn infer(&self, x: &<A::In as Width>::Array<F>) -> <B::Out as Width>::Array<F> {
        self.tail.infer(&self.head.infer(x))
    }
    fn infer_batch(&self, x: &[F], rows: usize) -> Vec<F> {
        self.tail.infer_batch(&self.head.infer_batch(x, rows), rows)
    }
    fn forward<'a>(&'a mut self, x: &'a [F], rows: usize, pass: &mut Pass<'_>) -> &'a [F] {
        let mid = self.head.forward(x, rows, pass);
        self.tail.forward(mid, rows, pass)
    }
    fn output<'a>(&'a self, x: &'a [F], rows: usize) -> &'a [F] {
        self.tail.output(self.head.output(x, rows), rows)
    }
    fn visit<'s>(&'s self, rows: usize, f: &mut dyn FnMut(LayerView<'s, F>)) {
        self.head.visit(rows, f);
        self.tail.visit(rows, f);
    }
    fn param_count(&self) -> usize {
        self.head.param_count() + self.tail.param_count()
    }
    fn activity_penalty(&self, rows: usize) -> f64 {
        self.head.activity_penalty(rows) + self.tail.activity_penalty(rows)
    }
    fn penalised(&self) -> bool {
        self.head.penalised() || self.tail.penalised()
    }
    fn validate(&self, dense: &mut usize) -> crate::Result<()> {
        self.head.validate(dense)?;
        self.tail.validate(dense)
    }
}

impl<F: Float, A: Backward<F>, B: Backward<F> + Layer<F, In = A::Out>> Backward<F> for Chain<A, B> {
    fn output_and_grad<'a>(&'a mut self, x: &'a [F], rows: usize) -> (&'a [F], &'a mut [F]) {
        self.tail.output_and_grad(self.head.output(x, rows), rows)
    }

    fn backward(&mut self, x: &[F], rows: usize, grad_x: &mut [F]) {
        // The tail writes dL/dh for the head's output into the head's own buffer.
        let (mid, grad_mid) = self.head.output_and_grad(x, rows);
        self.tail.backward(mid, rows, grad_mid);
        self.head.backward(x, rows, grad_x);
    }

    const STACK: bool = A::STACK && B::STACK;

    fn backprop_one(
        &mut self,
        x: &<A::In as Width>::Array<F>,
        pass: &mut Pass<'_>,
        rest: impl FnOnce(
            &<B::Out as Width>::Array<F>,
            &mut Pass<'_>,
        ) -> (F, <B::Out as Width>::Array<F>),
    ) -> (F, <A::In as Width>::Array<F>) {
        let tail = &mut self.tail;
        self.head
            .backprop_one(x, pass, |mid, pass| tail.backprop_one(mid, pass, rest))
    }
}

impl<F: Float, A: Parameters<F>, B: Parameters<F> + Layer<F, In = A::Out>> Parameters<F>
    for Chain<A, B>
{
    fn visit_params(&mut self, f: &mut dyn FnMut(Param<'_, F>)) {
        self.head.visit_params(f);
        self.tail.visit_params(f);
    }

    #[inline(always)]
    fn visit_params_with<V: ParamVisitor<F>>(&mut self, visitor: &mut V) {
        self.head.visit_params_with(visitor);
        self.tail.visit_params_with(visitor);
    }
}
