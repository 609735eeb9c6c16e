//! `network!`: a typed multilayer perceptron in a few macro lines.
//!
//! This crate is re-exported by `mlp`; depend on `mlp` and write
//! `mlp::network!{ ... }`. See [`network!`] for the grammar.
//!
//! The macro is thin: it turns syntax into types and calls into `mlp-core`.
//! `network!` itself is a `macro_rules!` front that hands its tokens, and
//! the path of this crate (`$crate`), to the parser in `mlp-macros-impl`,
//! which reports each mistake at the offending tokens, in plain words.
#![no_std]
#![warn(missing_docs)]

#[doc(hidden)]
pub mod __private {
    pub use core;
    pub use mlp_core;
    pub use mlp_macros_impl::network as network_impl;
}

/// Declares a multilayer perceptron whose layer widths live in its type.
///
/// # Grammar
///
/// ```text
/// network! {
///     [#[attr]...] [pub] Name:        optional: declares the type `Name` (item form)
///     input N
///     => LAYER                         one or more, the last a dense layer
///     ; loss LOSS                      mse | mae | huber(d) | bce | cross_entropy | hinge
///     [; init INIT]                    the hidden layers' weights (the output layer's start at 0):
///                                      xavier | xavier_uniform | he | he_uniform | lecun
///                                      | normal(s) | uniform(r) | zeros   (default: xavier_uniform)
///     [; seed S]                       default 0; init, shuffling, dropout and noise all follow it
///     [; dtype f64]                    default f32
/// }
///
/// LAYER:
///     dense M ACT [code] [PENALTY]     ACT may take a parameter: leaky_relu(0.1), elu(1.0)
///     dropout P                        between dense layers (inverted dropout, training only)
///     noise gaussian(sigma)            corrupts while training (denoising autoencoders):
///     noise mask(p)                    adds N(0, sigma^2) noise, or zeroes values with probability p
///
/// PENALTY (hidden dense layers only; the objective gains it while training):
///     l1(lambda)                       lambda sum_j |h_j| per sample
///     kl(rho, beta)                    beta sum_j KL(rho || rho_hat_j), a sigmoid layer, 0 < rho < 1
///     contractive(lambda)              lambda ||dh/dx||_F^2 per sample, a sigmoid layer
/// ```
///
/// Widths are positive integer literals or constants (`dense N relu` with a
/// `const N: usize`). Each clause appears at most once, in any order. `S`
/// is any expression of type `u64`: evaluated where the network is built
/// in the expression form, a constant in the item form (which keeps it as
/// `Name::SEED`).
///
/// Activations: `step`, `identity`, `sigmoid`, `tanh`, `relu`,
/// `leaky_relu[(beta)]`, `elu[(alpha)]`, `selu`, `softplus`, `softsign`,
/// `swish`, `mish`, `softmax`.
///
/// # Autoencoders
///
/// A network with hidden dense layers has a code: the layer marked `code`,
/// or else the narrowest hidden dense layer (the first of the narrowest,
/// when every width is a literal). It gets `CODE` (its width),
/// `encode(&x) -> [F; CODE]` and `encode_batch(x)`, and
/// `fit_autoencoder(x, &cfg)` trains it on `(x, x)`:
///
/// ```
/// let ae = mlp_macros::network! {
///     input 64 => noise gaussian(0.2) => dense 16 sigmoid code kl(0.05, 3.0)
///         => dense 64 sigmoid; loss mse
/// };
/// let code: [f32; 16] = ae.encode(&[0.5; 64]);
/// # let _ = code;
/// ```
///
/// Every declared network (except one containing `step`) implements
/// [`Model`](mlp_core::Model), so one bound is enough for a generic
/// function over them.
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
/// Each mistake is a compile error at the tokens that are wrong, in plain
/// words. A loss that does not pair with the output activation (the fused
/// `delta = y_hat - y` needs sigmoid for `bce` and softmax for
/// `cross_entropy`) is rejected at the loss token:
///
/// ```compile_fail
/// let net = mlp_macros::network!{ input 2 => dense 4 relu => dense 1 relu; loss bce };
/// ```
///
/// So are unknown names (with the closest known one suggested), a width
/// that is not a positive integer, a dropout or masking probability outside
/// `[0, 1)`, a clause given twice, a missing `input`, `=>` or `loss`, a `,`
/// where `;` belongs, a trailing dropout, stray tokens, a penalty or `code`
/// on the output layer, a sparsity target outside `(0, 1)`, `kl` or
/// `contractive` on a layer that is not sigmoid, and `fit` on a network
/// containing `step`. `tests/compile-fail/` pins each message.
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
/// (median of 5). Measured on the 2-core CI machine: empty `main` 0.11 s; with
/// a 10-layer declaration (64 inputs, nine `dense 64 relu`, `dense 10
/// softmax`) 0.15 s; with that network trained by `fit`, 1.58 s, against
/// 1.57 s for a hand-built 2-layer network trained the same way. Parsing
/// and generating cost about 0.04 s; the rest is the training engine being
/// compiled for the network's types, whatever its depth. (The same script
/// on the `macro_rules!` parser this one replaced: 0.10, 0.14, 1.55 and
/// 1.45 s.)
// ANCHOR: front
#[macro_export]
macro_rules! network {
    // Everything is parsed by `mlp-macros-impl`; `$crate` tells it where
    // `mlp_core` and `core` are, whatever the user's crate names them.
    ($($tokens:tt)*) => {
        $crate::__private::network_impl! { $crate $($tokens)* }
    };
}
// ANCHOR_END: front
