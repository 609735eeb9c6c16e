//! `network!`: a typed multilayer perceptron in a few macro lines.
//!
//! This crate is re-exported by `mlp`; depend on `mlp` and write
//! `mlp::network!{ ... }`. See [`network!`] for the grammar.
//!
//! The macro is thin: it turns syntax into types and calls into `mlp-core`.
//! Its mistakes are reported at the offending token. Every user token is
//! carried through the macro's internal rules as a `tt`, which keeps its
//! span; a check then names the token in a `const` item whose trait bound
//! fails with a `#[diagnostic::on_unimplemented]` message.
#![no_std]
#![warn(missing_docs)]

#[doc(hidden)]
pub mod __private {
    pub use core;
    pub use mlp_core;

    /// A zero-sized stand-in for a value of type `T`, so that a bound on `T`
    /// can be checked in a constant named by one of the user's tokens.
    pub struct Marker<T>(core::marker::PhantomData<T>);
    impl<T> Marker<T> {
        pub const NEW: Self = Marker(core::marker::PhantomData);
    }
    impl<T> Clone for Marker<T> {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl<T> Copy for Marker<T> {}

    impl<F: mlp_core::Float, A: mlp_core::Activation<F>> Marker<(F, A)> {
        /// Compiles only if loss `L` may follow an output layer with
        /// activation `A` in float type `F` (the message comes from
        /// `LossFor`'s `on_unimplemented`, reported at the loss argument).
        pub const fn pairs<L: mlp_core::LossFor<F, A> + Copy>(self, _loss: L) {}
    }

    #[diagnostic::on_unimplemented(
        message = "unknown activation `{Self}`",
        label = "not an activation",
        note = "expected one of: step, identity, sigmoid, tanh, relu, leaky_relu, leaky_relu(beta), elu, elu(alpha), selu, softplus, softsign, swish, mish, softmax"
    )]
    pub trait UnknownActivation {}
    pub const fn unknown_activation<T: UnknownActivation + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "the activation `{Self}` takes no parameter",
        label = "remove the parenthesised value",
        note = "only leaky_relu(beta) and elu(alpha) take a parameter"
    )]
    pub trait TakesNoParameter {}
    pub const fn takes_no_parameter<T: TakesNoParameter + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "unknown loss `{Self}`",
        label = "not a loss",
        note = "expected one of: mse, mae, huber, huber(d), bce, cross_entropy, hinge"
    )]
    pub trait UnknownLoss {}
    pub const fn unknown_loss<T: UnknownLoss + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "unknown initialiser `{Self}`",
        label = "not an initialiser",
        note = "expected one of: xavier, xavier_uniform, he, he_uniform, lecun, normal(s), uniform(r), zeros"
    )]
    pub trait UnknownInit {}
    pub const fn unknown_init<T: UnknownInit + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "unknown layer `{Self}`",
        label = "expected `dense` or `dropout`",
        note = "layers are written `=> dense WIDTH ACTIVATION` or `=> dropout P`"
    )]
    pub trait UnknownLayer {}
    pub const fn unknown_layer<T: UnknownLayer + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "the last layer must be `dense`, not `{Self}`",
        label = "dropout cannot be the output layer",
        note = "dropout goes between dense layers: `input 4 => dense 8 relu => dropout 0.2 => dense 1 sigmoid`"
    )]
    pub trait TrailingDropout {}
    pub const fn trailing_dropout<T: TrailingDropout + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "unexpected `{Self}`",
        label = "not a clause of `network!`",
        note = "after the layers, expected `; loss LOSS`, `; init INIT`, `; seed N` or `; dtype f64`"
    )]
    pub trait UnexpectedClause {}
    pub const fn unexpected_clause<T: UnexpectedClause + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "expected `input N`, found `{Self}`",
        label = "a network starts with its input width",
        note = "write e.g. `network!{{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce }}`"
    )]
    pub trait ExpectedInput {}
    pub const fn expected_input<T: ExpectedInput + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "unknown dtype: networks compute in `f32` or `f64`",
        label = "not a float type the engine computes in",
        note = "use `dtype f32` (the default) or `dtype f64`"
    )]
    pub trait UnknownDtype {}
    pub const fn unknown_dtype<T: UnknownDtype + Copy>(_: T) {}
    #[diagnostic::on_unimplemented(
        message = "a layer needs at least one unit",
        label = "width 0",
        note = "the width after `input` or `dense` must be 1 or more"
    )]
    pub trait ZeroWidth {}
    pub const fn zero_width<T: ZeroWidth + Copy>(_: T) {}
}

/// Declares a multilayer perceptron whose layer widths live in its type.
///
/// # Grammar
///
/// ```text
/// network! {
///     [#[attr]...] [pub] Name:        optional: declares the type `Name` (item form)
///     input N
///     => dense M ACT                   one or more; ACT may take parameters: leaky_relu(0.1), elu(1.0)
///     [=> dropout P]                   between dense layers (inverted dropout, training only)
///     [=> dense M ACT ...]
///     ; loss LOSS                      mse | mae | huber(d) | bce | cross_entropy | hinge
///     [; init INIT]                    the hidden layers' weights (the output layer's start at 0):
///                                      xavier | xavier_uniform | he | he_uniform | lecun
///                                      | normal(s) | uniform(r) | zeros   (default: xavier_uniform)
///     [; seed S]                       default 0; init, shuffling and dropout all follow it
///     [; dtype f64]                    default f32
/// }
/// ```
///
/// Activations: `step`, `identity`, `sigmoid`, `tanh`, `relu`,
/// `leaky_relu[(beta)]`, `elu[(alpha)]`, `selu`, `softplus`, `softsign`,
/// `swish`, `mish`, `softmax`.
///
/// # How a declared network starts
///
/// The hidden layers' weights are drawn by `INIT`. The output layer's
/// weights start at zero, so the network starts from a constant prediction
/// (0.5 for a sigmoid, the uniform distribution for a softmax) and its
/// first updates fit the output layer to the hidden layers' random
/// features before any hidden unit moves; symmetry is still broken, by the
/// random hidden weights (Zhang, Dauphin & Ma 2019 start their classifier
/// layer at zero the same way). Biases start at zero, except in ReLU
/// layers, where they start at 0.1 so that every unit begins active
/// (Goodfellow, Bengio & Courville 2016, section 6.3.1). Together these let
/// `input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he` learn
/// XOR from 97 of the seeds 0 to 99 with the default training settings,
/// where the start Keras makes (every layer drawn by `INIT`, zero biases)
/// learns it from 63 (`tests/xor.rs`). To start an output layer
/// otherwise, build the network by hand (below).
///
/// # Expression form
///
/// Evaluates to a ready network, initialised from the seed:
///
/// ```
/// let mut net = mlp_macros::network!{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he };
/// let y: [f32; 1] = net.predict(&[0.0, 1.0]);
/// assert!(net.summary().contains("Total params: 17"));
/// ```
///
/// # Item form
///
/// Declares a named type for struct fields and signatures; `Name::new(seed)`
/// or `Name::with_rng(rng)` builds one, and `Name::default()` uses the
/// declared seed:
///
/// ```
/// mlp_macros::network! {
///     /// The XOR network of the book.
///     pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; seed 7; dtype f64
/// }
/// assert_eq!((Xor::INPUTS, Xor::OUTPUTS, Xor::PARAMS), (2, 1, 17));
/// let net = Xor::new(7);
/// let out: [f64; 1] = net.predict(&[1.0, 0.0]);
/// ```
///
/// The generated type dereferences to [`mlp_core::Network`], so `fit`,
/// `fit_with`, `evaluate`, `predict_batch`, `trace` and `grad_check` are all
/// available on it.
///
/// # Mistakes are compile errors
///
/// A loss that does not pair with the output activation (the fused
/// `delta = y_hat - y` needs sigmoid for `bce` and softmax for
/// `cross_entropy`) is rejected at the loss token:
///
/// ```compile_fail,E0277
/// let net = mlp_macros::network!{ input 2 => dense 4 relu => dense 1 relu; loss bce };
/// ```
///
/// So are unknown names, a width of 0, a missing `input` or `loss`, a
/// trailing dropout, stray tokens, and `fit` on a network containing `step`.
///
/// # What it expands to
///
/// `network!{ pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; seed 7 }`
/// becomes, in essence:
///
/// ```ignore
/// pub struct Xor {
///     net: Network<Dense<2, 4, Tanh, f32>, Dense<4, 1, Sigmoid, f32>, Bce, f32>,
/// }
/// impl Xor {
///     pub const INPUTS: usize = 2;
///     pub const OUTPUTS: usize = 1;
///     pub const PARAMS: usize = (2 * 4 + 4) + (4 * 1 + 1);
///     pub const SEED: u64 = 7;
///     pub fn new(seed: u64) -> Self { Self::with_rng(mlp_core::rng(seed)) }
///     pub fn with_rng(mut rng: Rng) -> Self {
///         let hidden = Dense::<2, 4, Tanh, f32>::new(Tanh, Init::XavierUniform, &mut rng);
///         let output = Dense::<4, 1, Sigmoid, f32>::new(Sigmoid, Init::Zeros, &mut rng);
///         let bce = Bce;
///         Xor { net: Network::new(hidden, output, bce, rng) }
///     }
///     pub fn predict(&self, x: &[f32; 2]) -> [f32; 1] { self.net.predict(x) }
///     pub fn into_inner(self) -> Network<...> { self.net }
/// }
/// impl Deref for Xor { type Target = Network<...>; ... }   // and DerefMut, Default, Debug, Clone
/// ```
/// The type this declaration really generates is documented as
/// `mlp::example_generated::Xor`.
///
/// Deeper networks nest the hidden layers left to right in
/// [`Chain`](mlp_core::Chain)s, exactly as `l1.then(l2).then(l3)` does, so a
/// network written with the macro and the same one built by hand from the
/// same seed train to bit-identical weights.
///
/// # Compile cost
///
/// `bash scripts/dsl_compile_cost.sh` rebuilds a small crate in release mode
/// (median of 5). Measured on the 2-core CI machine: empty `main` 0.18 s; with
/// a 10-layer declaration (64 inputs, nine `dense 64 relu`, `dense 10
/// softmax`) 0.27 s; with that network trained by `fit`, 1.46 s, against
/// 1.24 s for a hand-built 2-layer network trained the same way. The macro
/// itself costs under 0.1 s; most of the rest is the training engine being
/// compiled for the network's types, whatever its depth.
#[macro_export]
macro_rules! network {
    // ===== Internal rules. All user tokens travel as `tt`, keeping their spans. =====

    // ----- activations: type, value, check -----
    (@act_ty step) => { $crate::__private::mlp_core::Step };
    (@act_ty identity) => { $crate::__private::mlp_core::Identity };
    (@act_ty linear) => { $crate::__private::mlp_core::Identity };
    (@act_ty sigmoid) => { $crate::__private::mlp_core::Sigmoid };
    (@act_ty tanh) => { $crate::__private::mlp_core::Tanh };
    (@act_ty relu) => { $crate::__private::mlp_core::Relu };
    (@act_ty leaky_relu $($p:tt)?) => { $crate::__private::mlp_core::LeakyRelu };
    (@act_ty elu $($p:tt)?) => { $crate::__private::mlp_core::Elu };
    (@act_ty selu) => { $crate::__private::mlp_core::Selu };
    (@act_ty softplus) => { $crate::__private::mlp_core::Softplus };
    (@act_ty softsign) => { $crate::__private::mlp_core::Softsign };
    (@act_ty swish) => { $crate::__private::mlp_core::Swish };
    (@act_ty mish) => { $crate::__private::mlp_core::Mish };
    (@act_ty softmax) => { $crate::__private::mlp_core::Softmax };
    // Unknown (reported once by @check_act): a stand-in keeps the rest quiet.
    (@act_ty $($other:tt)*) => { $crate::__private::mlp_core::Identity };

    (@act_new leaky_relu ($beta:expr)) => { $crate::__private::mlp_core::LeakyRelu::new($beta) };
    (@act_new elu ($alpha:expr)) => { $crate::__private::mlp_core::Elu::new($alpha) };
    (@act_new $name:tt) => { <$crate::network!(@act_ty $name) as $crate::__private::core::default::Default>::default() };
    (@act_new $($other:tt)*) => { $crate::__private::mlp_core::Identity };

    (@check_act step) => {};
    (@check_act identity) => {};
    (@check_act linear) => {};
    (@check_act sigmoid) => {};
    (@check_act tanh) => {};
    (@check_act relu) => {};
    (@check_act leaky_relu $(($($p:tt)*))?) => {};
    (@check_act elu $(($($p:tt)*))?) => {};
    (@check_act selu) => {};
    (@check_act softplus) => {};
    (@check_act softsign) => {};
    (@check_act swish) => {};
    (@check_act mish) => {};
    (@check_act softmax) => {};
    (@check_act $name:tt ($($p:tt)*)) => { $crate::network!{@check_act_param $name $name} };
    (@check_act $name:tt $($p:tt)?) => { $crate::network!{@fail unknown_activation $name} };
    // A known activation with a parameter it does not take, or an unknown one.
    (@check_act_param step $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param identity $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param linear $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param sigmoid $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param tanh $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param relu $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param selu $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param softplus $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param softsign $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param swish $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param mish $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param softmax $t:tt) => { $crate::network!{@fail takes_no_parameter $t} };
    (@check_act_param $other:tt $t:tt) => { $crate::network!{@fail unknown_activation $t} };

    // ----- losses -----
    (@loss_ty mse) => { $crate::__private::mlp_core::Mse };
    (@loss_ty mae) => { $crate::__private::mlp_core::Mae };
    (@loss_ty huber $($p:tt)?) => { $crate::__private::mlp_core::Huber };
    (@loss_ty bce) => { $crate::__private::mlp_core::Bce };
    (@loss_ty cross_entropy) => { $crate::__private::mlp_core::CrossEntropy };
    (@loss_ty hinge) => { $crate::__private::mlp_core::Hinge };
    // Unknown (reported by @check_loss): mse pairs with every output, so nothing else fails.
    (@loss_ty $($other:tt)*) => { $crate::__private::mlp_core::Mse };

    (@loss huber) => { $crate::__private::mlp_core::Huber::new(1.0) };
    (@loss huber ($d:expr)) => { $crate::__private::mlp_core::Huber::new($d) };
    // Unit structs: the path is the (const) value.
    (@loss $name:tt) => { $crate::network!(@loss_ty $name) };
    (@loss $($other:tt)*) => { $crate::__private::mlp_core::Mse };

    (@check_loss mse) => {};
    (@check_loss mae) => {};
    (@check_loss huber $(($($p:tt)*))?) => {};
    (@check_loss bce) => {};
    (@check_loss cross_entropy) => {};
    (@check_loss hinge) => {};
    (@check_loss $name:tt $($p:tt)?) => { $crate::network!{@fail unknown_loss $name} };

    // ----- initialisers -----
    (@init xavier) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init xavier_normal) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init glorot) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init xavier_uniform) => { $crate::__private::mlp_core::Init::XavierUniform };
    (@init he) => { $crate::__private::mlp_core::Init::HeNormal };
    (@init he_normal) => { $crate::__private::mlp_core::Init::HeNormal };
    (@init he_uniform) => { $crate::__private::mlp_core::Init::HeUniform };
    (@init lecun) => { $crate::__private::mlp_core::Init::LecunNormal };
    (@init normal ($s:expr)) => { $crate::__private::mlp_core::Init::Normal($s) };
    (@init uniform ($r:expr)) => { $crate::__private::mlp_core::Init::Uniform($r) };
    (@init zeros) => { $crate::__private::mlp_core::Init::Zeros };
    (@init $($other:tt)*) => { $crate::__private::mlp_core::Init::XavierUniform };

    (@check_init xavier) => {};
    (@check_init xavier_normal) => {};
    (@check_init glorot) => {};
    (@check_init xavier_uniform) => {};
    (@check_init he) => {};
    (@check_init he_normal) => {};
    (@check_init he_uniform) => {};
    (@check_init lecun) => {};
    (@check_init normal ($($p:tt)+)) => {};
    (@check_init uniform ($($p:tt)+)) => {};
    (@check_init zeros) => {};
    (@check_init $name:tt $($p:tt)?) => { $crate::network!{@fail unknown_init $name} };

    // ----- one error, at one token -----
    // Dispatch on the kind of token, but always emit the raw `tt` copy: a
    // token matched as an `ident` or `literal` fragment loses its span.
    (@fail $check:ident $tok:tt) => { $crate::network!{@fail_kind $tok $check $tok} };
    // An identifier becomes a fresh type; the check's trait bound fails on it
    // and reports its message at the token.
    (@fail_kind $i:ident $check:ident $tok:tt) => {
        const _: () = {
            #[allow(non_camel_case_types, dead_code)]
            #[derive(Clone, Copy)]
            struct $tok;
            $crate::__private::$check($tok)
        };
    };
    // A literal is checked as a value (used for widths of 0).
    (@fail_kind $l:literal $check:ident $tok:tt) => {
        const _: () = $crate::__private::$check($tok);
    };
    // Punctuation or a group: no rule accepts it, so rustc points at it.
    (@fail_kind $other:tt $check:ident $tok:tt) => {
        $crate::__mlp_unexpected!{$tok}
    };
    // Stand-in for the declared type after an error, so nothing else fails.
    (@dummy [$(#[$m:meta])* [$($vis:tt)*] $name:ident [$n:tt]]) => {
        $($vis)* struct $name;
        impl $crate::__private::core::default::Default for $name {
            fn default() -> Self {
                $name
            }
        }
    };

    // ----- layers: munch `=> dense M ACT` / `=> dropout P` up to the first `;` -----
    // State: header, [width so far], [layers so far]. A layer is
    // `{dense IN OUT (ACT [PARAMS])}` or `{dropout KW W P}`.
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] => $kind:tt $($rest:tt)*) => {
        $crate::network!{@layer $kind $kind $h [$prev] [$($acc)*] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [] ; $($rest:tt)*) => {
        $crate::__private::core::compile_error!(
            "a network needs at least one layer: write `input N => dense M ACTIVATION` before `;`");
        $crate::network!{@dummy $h}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)+] ; $($rest:tt)*) => {
        $crate::network!{@clauses $h [$($acc)+] [loss:] [init: xavier_uniform] [seed: 0] [dtype: f32] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*]) => {
        $crate::__private::core::compile_error!(
            "missing `; loss LOSS` after the layers: every network needs a loss (mse, mae, huber(d), bce, cross_entropy, hinge)");
        $crate::network!{@dummy $h}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] $stray:tt $($rest:tt)*) => {
        $crate::network!{@fail unexpected_clause $stray}
        $crate::network!{@dummy $h}
    };

    (@layer dense $k:tt $h:tt [$prev:tt] [$($acc:tt)*] $m:tt $($rest:tt)*) => {
        $crate::network!{@dense_width $m $m $h [$prev] [$($acc)*] $($rest)*}
    };
    (@layer dropout $k:tt $h:tt [$prev:tt] [$($acc:tt)*] $p:tt $($rest:tt)*) => {
        $crate::network!{@layers $h [$prev] [$($acc)* {dropout $k $prev $p}] $($rest)*}
    };
    (@layer $other:tt $k:tt $h:tt $($rest:tt)*) => {
        $crate::network!{@fail unknown_layer $k}
        $crate::network!{@dummy $h}
    };
    (@dense_width 0 $m:tt $h:tt $($rest:tt)*) => {
        $crate::network!{@fail zero_width $m}
        $crate::network!{@dummy $h}
    };
    (@dense_width $z:tt $m:tt $h:tt [$prev:tt] [$($acc:tt)*] $act:tt ($($p:tt)*) $($rest:tt)*) => {
        $crate::network!{@layers $h [$m] [$($acc)* {dense $prev $m ($act ($($p)*))}] $($rest)*}
    };
    (@dense_width $z:tt $m:tt $h:tt [$prev:tt] [$($acc:tt)*] $act:tt $($rest:tt)*) => {
        $crate::network!{@dense_act $act $act $h [$prev] [$($acc)*] $m $($rest)*}
    };
    (@dense_width $z:tt $m:tt $h:tt $($rest:tt)*) => {
        $crate::__private::core::compile_error!("expected an activation after the width, e.g. `dense 4 relu`");
        $crate::network!{@dummy $h}
    };
    // An activation must be an identifier; `;` or `=>` here means it is missing.
    (@dense_act ; $a:tt $h:tt $($rest:tt)*) => {
        $crate::__private::core::compile_error!("expected an activation after the width, e.g. `dense 4 relu`");
        $crate::network!{@dummy $h}
    };
    (@dense_act => $a:tt $h:tt $($rest:tt)*) => {
        $crate::__private::core::compile_error!("expected an activation after the width, e.g. `dense 4 relu`");
        $crate::network!{@dummy $h}
    };
    (@dense_act $x:tt $act:tt $h:tt [$prev:tt] [$($acc:tt)*] $m:tt $($rest:tt)*) => {
        $crate::network!{@layers $h [$m] [$($acc)* {dense $prev $m ($act)}] $($rest)*}
    };

    // ----- clauses after the layers, in any order -----
    // State: header, [layers], [loss: NAME [PARAMS]], [init: ...], [seed: S], [dtype: F].
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt loss $name:tt ($($p:tt)*) $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l [loss: $name ($($p)*)] $i $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt loss $name:tt $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l [loss: $name] $i $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt init $name:tt ($($p:tt)*) $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo [init: $name ($($p)*)] $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt init $name:tt $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo [init: $name] $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt seed $seed:literal $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i [seed: $seed] $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt dtype f32 $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i $s [dtype: f32] $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt dtype f64 $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i $s [dtype: f64] $($($rest)*)?}
    };
    // A type passed in by another macro (`$t:ty`) is opaque; accept any type
    // here and let the `Float` bound reject anything but f32 and f64.
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt dtype $t:tt $(; $($rest:tt)*)?) => {
        $crate::network!{@dtype_kind $t $t $h $l $lo $i $s $d $($($rest)*)?}
    };
    // Written directly, anything but f32 or f64 is a mistake at that token.
    (@dtype_kind $x:ident $t:tt $h:tt $($rest:tt)*) => {
        $crate::network!{@fail unknown_dtype $t}
        $crate::network!{@dummy $h}
    };
    (@dtype_kind $x:tt $t:tt $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt $($rest:tt)*) => {
        $crate::network!{@clauses $h $l $lo $i $s [dtype: $t] $($rest)*}
    };
    (@clauses $h:tt $l:tt [loss:] $i:tt $s:tt $d:tt) => {
        $crate::__private::core::compile_error!(
            "missing `; loss LOSS`: every network needs a loss (mse, mae, huber(d), bce, cross_entropy, hinge)");
        $crate::network!{@dummy $h}
    };
    (@clauses $h:tt $l:tt [loss: $($lo:tt)+] [init: $($i:tt)+] [seed: $s:tt] [dtype: $f:tt]) => {
        $crate::network!{@split $h [loss: $($lo)+] [init: $($i)+] [seed: $s] [dtype: $f] [] $l}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt $stray:tt $($rest:tt)*) => {
        $crate::network!{@fail unexpected_clause $stray}
        $crate::network!{@dummy $h}
    };

    // ----- split the layers into the hidden stack and the output layer -----
    (@split $h:tt $lo:tt $i:tt $s:tt $d:tt [$($hidden:tt)*] [$last:tt]) => {
        $crate::network!{@emit $h $lo $i $s $d [$($hidden)*] $last}
    };
    (@split $h:tt $lo:tt $i:tt $s:tt $d:tt [$($hidden:tt)*] [$next:tt $($rest:tt)+]) => {
        $crate::network!{@split $h $lo $i $s $d [$($hidden)* $next] [$($rest)+]}
    };

    // ----- the checks, then the generated type -----
    (@emit $h:tt $lo:tt $i:tt $s:tt $d:tt $hidden:tt {dropout $k:tt $w:tt $p:tt}) => {
        $crate::network!{@fail trailing_dropout $k}
        $crate::network!{@dummy $h}
    };
    (@emit [$(#[$m:meta])* [$($vis:tt)*] $name:ident [$n:tt]] [loss: $loss:tt $($lp:tt)?] [init: $($init:tt)+]
        [seed: $seed:tt] [dtype: $f:tt] [$($hidden:tt)*] {dense $oin:tt $oout:tt ($($oact:tt)+)}) => {
        $crate::network!{@check_width $n $n}
        $( $crate::network!{@check_layer $hidden} )*
        $crate::network!{@check_act $($oact)+}
        $crate::network!{@check_loss $loss $($lp)?}
        $crate::network!{@check_init $($init)+}
        // The loss must pair with the output activation: checked at the loss token.
        const _: () = {
            #[allow(non_upper_case_globals)]
            const $loss: $crate::network!(@loss_ty $loss $($lp)?) = $crate::network!(@loss $loss $($lp)?);
            $crate::__private::Marker::<($f, $crate::network!(@act_ty $($oact)+))>::NEW.pairs($loss)
        };

        $(#[$m])*
        $($vis)* struct $name {
            net: $crate::network!(@net_ty $f [$n] [$($hidden)*] [$oin $oout ($($oact)+)] [$loss $($lp)?]),
        }

        #[allow(dead_code)]
        impl $name {
            /// Inputs per sample.
            pub const INPUTS: usize = $n;
            /// Outputs per sample.
            pub const OUTPUTS: usize = $oout;
            /// Trainable parameters (weights and biases), computed at compile time.
            pub const PARAMS: usize = 0 $(+ $crate::network!(@params $hidden))* + ($oin * $oout + $oout);
            /// The seed declared with `seed S` (0 if none), used by `Default`.
            pub const SEED: u64 = $seed;

            /// Builds the network with weights drawn from `seed`.
            pub fn new(seed: u64) -> Self {
                Self::with_rng($crate::__private::mlp_core::rng(seed))
            }

            /// Builds the network drawing weights from `rng`, which then drives
            /// shuffling and dropout.
            pub fn with_rng(mut rng: $crate::__private::mlp_core::Rng) -> Self {
                let init = $crate::network!(@init $($init)+);
                let hidden = $crate::network!(@hidden_new $f init rng [$n] [] $($hidden)*);
                // The output layer starts at zero weights (see the grammar).
                let output = $crate::__private::mlp_core::Dense::<$oin, $oout, _, $f>::new(
                    $crate::network!(@act_new $($oact)+),
                    $crate::__private::mlp_core::Init::Zeros,
                    &mut rng,
                );
                let loss = $crate::network!(@loss $loss $($lp)?);
                $name { net: $crate::__private::mlp_core::Network::__from_dsl(hidden, output, loss, rng) }
            }

            /// Runs one sample; the widths are checked by the compiler.
            pub fn predict(&self, x: &[$f; $n]) -> [$f; $oout] {
                self.net.predict(x)
            }

            /// The underlying [`Network`](mlp_core::Network).
            pub fn into_inner(self) -> $crate::network!(@net_ty $f [$n] [$($hidden)*] [$oin $oout ($($oact)+)] [$loss $($lp)?]) {
                self.net
            }
        }

        impl $crate::__private::core::ops::Deref for $name {
            type Target = $crate::network!(@net_ty $f [$n] [$($hidden)*] [$oin $oout ($($oact)+)] [$loss $($lp)?]);
            fn deref(&self) -> &Self::Target {
                &self.net
            }
        }

        impl $crate::__private::core::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.net
            }
        }

        impl $crate::__private::core::default::Default for $name {
            fn default() -> Self {
                Self::new(Self::SEED)
            }
        }

        impl $crate::__private::core::clone::Clone for $name {
            fn clone(&self) -> Self {
                $name { net: $crate::__private::core::clone::Clone::clone(&self.net) }
            }
        }

        impl $crate::__private::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut $crate::__private::core::fmt::Formatter<'_>) -> $crate::__private::core::fmt::Result {
                $crate::__private::core::fmt::Debug::fmt(&self.net, f)
            }
        }
    };

    (@check_layer {dense $i:tt $o:tt ($($act:tt)+)}) => {
        $crate::network!{@check_act $($act)+}
    };
    (@check_layer {dropout $k:tt $w:tt $p:tt}) => {
        const _: () = $crate::__private::core::assert!(
            $p >= 0.0 && $p < 1.0,
            $crate::__private::core::concat!(
                "dropout probability must be at least 0 and below 1, got ",
                $crate::__private::core::stringify!($p)
            )
        );
    };
    (@check_width 0 $n:tt) => { $crate::network!{@fail zero_width $n} };
    (@check_width $z:tt $n:tt) => {};

    // ----- types and constructors -----
    (@net_ty $f:tt [$n:tt] [$($hidden:tt)*] [$oin:tt $oout:tt ($($oact:tt)+)] [$($loss:tt)+]) => {
        $crate::__private::mlp_core::Network<
            $crate::network!(@hidden_ty $f [$n] $($hidden)*),
            $crate::__private::mlp_core::Dense<$oin, $oout, $crate::network!(@act_ty $($oact)+), $f>,
            $crate::network!(@loss_ty $($loss)+),
            $f,
        >
    };
    // The hidden stack nests left to right in `Chain`s, exactly as `a.then(b).then(c)`.
    (@hidden_ty $f:tt [$n:tt]) => { $crate::__private::mlp_core::Input<$n> };
    (@hidden_ty $f:tt [$n:tt] $first:tt $($rest:tt)*) => {
        $crate::network!(@hidden_ty_acc $f [$crate::network!(@layer_ty $f $first)] $($rest)*)
    };
    (@hidden_ty_acc $f:tt [$acc:ty]) => { $acc };
    (@hidden_ty_acc $f:tt [$acc:ty] $next:tt $($rest:tt)*) => {
        $crate::network!(@hidden_ty_acc $f
            [$crate::__private::mlp_core::Chain<$acc, $crate::network!(@layer_ty $f $next)>] $($rest)*)
    };
    (@layer_ty $f:tt {dense $i:tt $o:tt ($($act:tt)+)}) => {
        $crate::__private::mlp_core::Dense<$i, $o, $crate::network!(@act_ty $($act)+), $f>
    };
    (@layer_ty $f:tt {dropout $k:tt $w:tt $p:tt}) => { $crate::__private::mlp_core::Dropout<$w, $f> };

    (@hidden_new $f:tt $init:ident $rng:ident [$n:tt] []) => { $crate::__private::mlp_core::Input::<$n> };
    (@hidden_new $f:tt $init:ident $rng:ident [$n:tt] [] $first:tt $($rest:tt)*) => {
        $crate::network!(@hidden_new_acc $f $init $rng [$crate::network!(@layer_new $f $init $rng $first)] $($rest)*)
    };
    (@hidden_new_acc $f:tt $init:ident $rng:ident [$acc:expr]) => { $acc };
    (@hidden_new_acc $f:tt $init:ident $rng:ident [$acc:expr] $next:tt $($rest:tt)*) => {
        $crate::network!(@hidden_new_acc $f $init $rng [{
            let head = $acc;
            $crate::__private::mlp_core::Chain { head, tail: $crate::network!(@layer_new $f $init $rng $next) }
        }] $($rest)*)
    };
    (@layer_new $f:tt $init:ident $rng:ident {dense $i:tt $o:tt ($($act:tt)+)}) => {
        $crate::__private::mlp_core::Dense::<$i, $o, _, $f>::new($crate::network!(@act_new $($act)+), $init, &mut $rng)
    };
    (@layer_new $f:tt $init:ident $rng:ident {dropout $k:tt $w:tt $p:tt}) => {
        match $crate::__private::mlp_core::Dropout::<$w, $f>::new($p) {
            $crate::__private::core::result::Result::Ok(d) => d,
            // Unreachable: `@check_layer` asserts 0 <= p < 1 at compile time.
            $crate::__private::core::result::Result::Err(_) => $crate::__private::core::unreachable!(),
        }
    };

    (@params {dense $i:tt $o:tt $act:tt}) => { ($i * $o + $o) };
    (@params {dropout $k:tt $w:tt $p:tt}) => { 0 };

    // ===== Entry points =====
    // Expression form: declare a local type, then build it from the declared seed.
    (input $n:tt $($rest:tt)*) => {{
        $crate::network!{@layers [[] __MlpNetwork [$n]] [$n] [] $($rest)*}
        <__MlpNetwork as $crate::__private::core::default::Default>::default()
    }};
    // Item form.
    ($(#[$m:meta])* $vis:vis $name:ident : input $n:tt $($rest:tt)*) => {
        $crate::network!{@layers [$(#[$m])* [$vis] $name [$n]] [$n] [] $($rest)*}
    };
    ($(#[$m:meta])* $vis:vis $name:ident : $first:tt $($rest:tt)*) => {
        $crate::network!{@fail expected_input $first}
    };
    () => {
        $crate::__private::core::compile_error!(
            "empty network: write e.g. `network!{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce }`")
    };
    ($first:tt $($rest:tt)*) => {{
        $crate::network!{@fail expected_input $first}
    }};
}

/// Accepts nothing: passing it a token makes rustc report that token.
#[doc(hidden)]
#[macro_export]
macro_rules! __mlp_unexpected {
    (expected_a_clause_or_layer_of_network) => {};
}
