//! `network!`: a typed multilayer perceptron in a few macro lines.
//!
//! This crate is re-exported by `mlp`; depend on `mlp` and write
//! `mlp::network!{ ... }`. See [`network!`] for the grammar.
#![no_std]

#[doc(hidden)]
pub mod __private {
    pub use core;
    pub use mlp_core;
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
///     [; init INIT]                    xavier | xavier_uniform | he | he_uniform | lecun
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
///         let output = Dense::<4, 1, Sigmoid, f32>::new(Sigmoid, Init::XavierUniform, &mut rng);
///         let bce = Bce;
///         Xor { net: Network::new(hidden, output, bce, rng) }
///     }
///     pub fn predict(&self, x: &[f32; 2]) -> [f32; 1] { self.net.predict(x) }
///     pub fn into_inner(self) -> Network<...> { self.net }
/// }
/// impl Deref for Xor { type Target = Network<...>; ... }   // and DerefMut, Default, Debug, Clone
/// ```
/// Deeper networks nest the hidden layers left to right in
/// [`Chain`](mlp_core::Chain)s, exactly as `l1.then(l2).then(l3)` does, so a
/// network written with the macro and the same one built by hand from the
/// same seed train to bit-identical weights.
#[macro_export]
macro_rules! network {
    // ----- activations: type -----
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
    (@act_ty $other:ident $($p:tt)?) => {
        $crate::__private::core::compile_error!($crate::__private::core::concat!(
            "unknown activation `", $crate::__private::core::stringify!($other $($p)?),
            "`; expected one of: step, identity, sigmoid, tanh, relu, leaky_relu, leaky_relu(beta), ",
            "elu, elu(alpha), selu, softplus, softsign, swish, mish, softmax"
        ))
    };

    // ----- activations: value -----
    (@act_new leaky_relu) => { $crate::__private::mlp_core::LeakyRelu::new(0.01) };
    (@act_new leaky_relu ($beta:expr)) => { $crate::__private::mlp_core::LeakyRelu::new($beta) };
    (@act_new elu) => { $crate::__private::mlp_core::Elu::new(1.0) };
    (@act_new elu ($alpha:expr)) => { $crate::__private::mlp_core::Elu::new($alpha) };
    (@act_new $name:ident) => { <$crate::network!(@act_ty $name) as $crate::__private::core::default::Default>::default() };
    // A parameter where none is taken is an unknown activation (reported by @act_ty).
    (@act_new $name:ident $p:tt) => { $crate::__private::core::panic!() };

    // ----- losses: value (named by the user's token, so errors point at it) -----
    (@loss mse) => { $crate::__private::mlp_core::Mse };
    (@loss mae) => { $crate::__private::mlp_core::Mae };
    (@loss huber) => { $crate::__private::mlp_core::Huber::new(1.0) };
    (@loss huber ($d:expr)) => { $crate::__private::mlp_core::Huber::new($d) };
    (@loss bce) => { $crate::__private::mlp_core::Bce };
    (@loss cross_entropy) => { $crate::__private::mlp_core::CrossEntropy };
    (@loss hinge) => { $crate::__private::mlp_core::Hinge };
    (@loss $other:ident $($p:tt)?) => {
        $crate::__private::core::compile_error!($crate::__private::core::concat!(
            "unknown loss `", $crate::__private::core::stringify!($other $($p)?),
            "`; expected one of: mse, mae, huber, huber(d), bce, cross_entropy, hinge"
        ))
    };
    (@loss_ty huber $($p:tt)?) => { $crate::__private::mlp_core::Huber };
    (@loss_ty mse) => { $crate::__private::mlp_core::Mse };
    (@loss_ty mae) => { $crate::__private::mlp_core::Mae };
    (@loss_ty bce) => { $crate::__private::mlp_core::Bce };
    (@loss_ty cross_entropy) => { $crate::__private::mlp_core::CrossEntropy };
    (@loss_ty hinge) => { $crate::__private::mlp_core::Hinge };
    (@loss_ty $($other:tt)*) => { () };

    // ----- initialisers -----
    (@init xavier) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init xavier_normal) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init xavier_uniform) => { $crate::__private::mlp_core::Init::XavierUniform };
    (@init glorot) => { $crate::__private::mlp_core::Init::XavierNormal };
    (@init he) => { $crate::__private::mlp_core::Init::HeNormal };
    (@init he_normal) => { $crate::__private::mlp_core::Init::HeNormal };
    (@init he_uniform) => { $crate::__private::mlp_core::Init::HeUniform };
    (@init lecun) => { $crate::__private::mlp_core::Init::LecunNormal };
    (@init normal ($s:expr)) => { $crate::__private::mlp_core::Init::Normal($s) };
    (@init uniform ($r:expr)) => { $crate::__private::mlp_core::Init::Uniform($r) };
    (@init zeros) => { $crate::__private::mlp_core::Init::Zeros };
    (@init $($other:tt)*) => {
        $crate::__private::core::compile_error!($crate::__private::core::concat!(
            "unknown initialiser `", $crate::__private::core::stringify!($($other)*),
            "`; expected one of: xavier, xavier_uniform, he, he_uniform, lecun, normal(s), uniform(r), zeros"
        ))
    };

    // ----- layers: munch `=> dense M ACT` / `=> dropout P` up to the first `;` -----
    // Accumulator: [prev width] [layers so far], each layer `{dense IN OUT (ACT)}` or `{dropout W P}`.
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] => dense 0 $($rest:tt)*) => {
        $crate::__private::core::compile_error!("a dense layer needs at least one unit: the width after `dense` must be 1 or more");
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] => dense $m:literal $act:ident ($($p:tt)*) $($rest:tt)*) => {
        $crate::network!{@layers $h [$m] [$($acc)* {dense $prev $m ($act ($($p)*))}] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] => dense $m:literal $act:ident $($rest:tt)*) => {
        $crate::network!{@layers $h [$m] [$($acc)* {dense $prev $m ($act)}] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] => dropout $p:literal $($rest:tt)*) => {
        $crate::network!{@layers $h [$prev] [$($acc)* {dropout $prev $p}] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [] ; $($rest:tt)*) => {
        $crate::__private::core::compile_error!("a network needs at least one layer: write `input N => dense M ACTIVATION` before `;`");
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)+] ; $($rest:tt)*) => {
        $crate::network!{@clauses $h [$($acc)+] [loss: ] [init: xavier_uniform] [seed: 0] [dtype: f32] $($rest)*}
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*]) => {
        $crate::__private::core::compile_error!("expected `; loss LOSS` after the layers (e.g. `; loss mse`)");
    };
    (@layers $h:tt [$prev:tt] [$($acc:tt)*] $($stray:tt)+) => {
        $crate::__private::core::compile_error!($crate::__private::core::concat!(
            "unexpected `", $crate::__private::core::stringify!($($stray)+),
            "`: expected `=> dense WIDTH ACTIVATION`, `=> dropout P` or `; loss LOSS`"
        ));
    };

    // ----- clauses after the layers, in any order -----
    (@clauses $h:tt $l:tt [loss: $($_l:tt)*] $i:tt $s:tt $d:tt loss $name:ident ($($p:tt)*) $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l [loss: $name ($($p)*)] $i $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt [loss: $($_l:tt)*] $i:tt $s:tt $d:tt loss $name:ident $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l [loss: $name] $i $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt [init: $($_i:tt)*] $s:tt $d:tt init $name:ident ($($p:tt)*) $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo [init: $name ($($p)*)] $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt [init: $($_i:tt)*] $s:tt $d:tt init $name:ident $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo [init: $name] $s $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt [seed: $_s:tt] $d:tt seed $seed:literal $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i [seed: $seed] $d $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt [dtype: $_d:tt] dtype f32 $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i $s [dtype: f32] $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt [dtype: $_d:tt] dtype f64 $(; $($rest:tt)*)?) => {
        $crate::network!{@clauses $h $l $lo $i $s [dtype: f64] $($($rest)*)?}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt dtype $($other:tt)*) => {
        $crate::__private::core::compile_error!("`dtype` must be `f32` or `f64`");
    };
    (@clauses $h:tt $l:tt [loss: ] $i:tt $s:tt $d:tt) => {
        $crate::__private::core::compile_error!("missing `; loss LOSS`: every network needs a loss (mse, mae, huber(d), bce, cross_entropy, hinge)");
    };
    (@clauses $h:tt $l:tt [loss: $($lo:tt)+] [init: $($i:tt)+] [seed: $s:tt] [dtype: $f:ident]) => {
        $crate::network!{@split $h [loss: $($lo)+] [init: $($i)+] [seed: $s] [dtype: $f] [] $l}
    };
    (@clauses $h:tt $l:tt $lo:tt $i:tt $s:tt $d:tt $($stray:tt)+) => {
        $crate::__private::core::compile_error!($crate::__private::core::concat!(
            "unexpected `", $crate::__private::core::stringify!($($stray)+),
            "`: after the layers expected `; loss LOSS`, `; init INIT`, `; seed N` or `; dtype f64`"
        ));
    };

    // ----- split the layers into the hidden stack and the output layer -----
    (@split $h:tt $lo:tt $i:tt $s:tt $d:tt [$($hidden:tt)*] [$last:tt]) => {
        $crate::network!{@check_last $h $lo $i $s $d [$($hidden)*] $last}
    };
    (@split $h:tt $lo:tt $i:tt $s:tt $d:tt [$($hidden:tt)*] [$next:tt $($rest:tt)+]) => {
        $crate::network!{@split $h $lo $i $s $d [$($hidden)* $next] [$($rest)+]}
    };
    (@check_last $h:tt $lo:tt $i:tt $s:tt $d:tt $hidden:tt {dropout $($x:tt)*}) => {
        $crate::__private::core::compile_error!("the last layer must be `dense`: dropout goes between dense layers");
    };
    (@check_last [$(#[$m:meta])* [$($vis:tt)*] $name:ident [$n:tt]] [loss: $loss:ident $($lp:tt)?] [init: $($init:tt)+] [seed: $seed:tt] [dtype: $f:ident]
        [$($hidden:tt)*] {dense $oin:tt $oout:tt ($($oact:tt)+)}) => {
        $(#[$m])*
        $($vis)* struct $name {
            net: $crate::__private::mlp_core::Network<
                $crate::network!(@hidden_ty $f [$n] $($hidden)*),
                $crate::__private::mlp_core::Dense<$oin, $oout, $crate::network!(@act_ty $($oact)+), $f>,
                $crate::network!(@loss_ty $loss $($lp)?),
                $f,
            >,
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
                let output = $crate::__private::mlp_core::Dense::<$oin, $oout, _, $f>::new(
                    $crate::network!(@act_new $($oact)+), init, &mut rng);
                #[allow(non_snake_case, unused_variables)]
                let $loss = $crate::network!(@loss $loss $($lp)?);
                $name { net: $crate::__private::mlp_core::Network::new(hidden, output, $loss, rng) }
            }

            /// Runs one sample; the widths are checked by the compiler.
            pub fn predict(&self, x: &[$f; $n]) -> [$f; $oout] {
                self.net.predict(x)
            }

            /// The underlying [`Network`](mlp_core::Network).
            pub fn into_inner(self) -> $crate::__private::mlp_core::Network<
                $crate::network!(@hidden_ty $f [$n] $($hidden)*),
                $crate::__private::mlp_core::Dense<$oin, $oout, $crate::network!(@act_ty $($oact)+), $f>,
                $crate::network!(@loss_ty $loss $($lp)?),
                $f,
            > {
                self.net
            }
        }

        impl $crate::__private::core::ops::Deref for $name {
            type Target = $crate::__private::mlp_core::Network<
                $crate::network!(@hidden_ty $f [$n] $($hidden)*),
                $crate::__private::mlp_core::Dense<$oin, $oout, $crate::network!(@act_ty $($oact)+), $f>,
                $crate::network!(@loss_ty $loss $($lp)?),
                $f,
            >;
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

    // ----- the hidden stack: type and constructor, nested left to right as `then` does -----
    (@hidden_ty $f:ident [$n:tt]) => { $crate::__private::mlp_core::Input<$n> };
    (@hidden_ty $f:ident [$n:tt] $first:tt $($rest:tt)*) => {
        $crate::network!(@hidden_ty_acc $f [$crate::network!(@layer_ty $f $first)] $($rest)*)
    };
    (@hidden_ty_acc $f:ident [$acc:ty]) => { $acc };
    (@hidden_ty_acc $f:ident [$acc:ty] $next:tt $($rest:tt)*) => {
        $crate::network!(@hidden_ty_acc $f [$crate::__private::mlp_core::Chain<$acc, $crate::network!(@layer_ty $f $next)>] $($rest)*)
    };
    (@layer_ty $f:ident {dense $i:tt $o:tt ($($act:tt)+)}) => {
        $crate::__private::mlp_core::Dense<$i, $o, $crate::network!(@act_ty $($act)+), $f>
    };
    (@layer_ty $f:ident {dropout $w:tt $p:tt}) => { $crate::__private::mlp_core::Dropout<$w, $f> };

    (@hidden_new $f:ident $init:ident $rng:ident [$n:tt] []) => { $crate::__private::mlp_core::Input::<$n> };
    (@hidden_new $f:ident $init:ident $rng:ident [$n:tt] [] $first:tt $($rest:tt)*) => {
        $crate::network!(@hidden_new_acc $f $init $rng [$crate::network!(@layer_new $f $init $rng $first)] $($rest)*)
    };
    (@hidden_new_acc $f:ident $init:ident $rng:ident [$acc:expr]) => { $acc };
    (@hidden_new_acc $f:ident $init:ident $rng:ident [$acc:expr] $next:tt $($rest:tt)*) => {
        $crate::network!(@hidden_new_acc $f $init $rng [{
            let head = $acc;
            $crate::__private::mlp_core::Chain { head, tail: $crate::network!(@layer_new $f $init $rng $next) }
        }] $($rest)*)
    };
    (@layer_new $f:ident $init:ident $rng:ident {dense $i:tt $o:tt ($($act:tt)+)}) => {
        $crate::__private::mlp_core::Dense::<$i, $o, _, $f>::new($crate::network!(@act_new $($act)+), $init, &mut $rng)
    };
    (@layer_new $f:ident $init:ident $rng:ident {dropout $w:tt $p:tt}) => {{
        const _: () = $crate::__private::core::assert!(
            $p >= 0.0 && $p < 1.0, "dropout probability must be at least 0 and below 1");
        match $crate::__private::mlp_core::Dropout::<$w, $f>::new($p) {
            $crate::__private::core::result::Result::Ok(d) => d,
            $crate::__private::core::result::Result::Err(_) => $crate::__private::core::unreachable!(),
        }
    }};

    (@params {dense $i:tt $o:tt $act:tt}) => { ($i * $o + $o) };
    (@params {dropout $w:tt $p:tt}) => { 0 };

    // ----- entry points -----
    // Expression form: declare a local type and build it from the declared seed.
    (input $n:literal $($rest:tt)*) => {{
        $crate::network!{@layers [[] __MlpNetwork [$n]] [$n] [] $($rest)*}
        <__MlpNetwork as $crate::__private::core::default::Default>::default()
    }};
    (input $($rest:tt)*) => {
        $crate::__private::core::compile_error!("`input` takes the number of input features as a literal, e.g. `input 2`");
    };
    // Item form.
    ($(#[$m:meta])* $vis:vis $name:ident : input $n:literal $($rest:tt)*) => {
        $crate::network!(@layers [$(#[$m])* [$vis] $name [$n]] [$n] [] $($rest)*);
    };
    ($(#[$m:meta])* $vis:vis $name:ident : $($rest:tt)*) => {
        $crate::__private::core::compile_error!("expected `input N` after the network's name, e.g. `Xor: input 2 => dense 4 tanh => ...`");
    };
    () => {
        $crate::__private::core::compile_error!("empty network: write `input N => dense M ACTIVATION; loss LOSS`");
    };
    ($($other:tt)*) => {
        $crate::__private::core::compile_error!("a network starts with `input N` (or `Name: input N` to declare a type), e.g. `network!{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce }`");
    };
}
