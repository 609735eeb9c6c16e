//! `mlp-core`: the engine behind `mlp`.
//!
//! Typed dense layers (`Dense<IN, OUT, Activation>`), activations with their
//! derivatives, losses with their output errors, initialisers, optimisers and
//! training, written to be read beside the derivation:
//!
//! - forward, layer `l`: `a = W h + b`, `h' = phi(a)`;
//! - output layer: `delta_m = phi_m'(a_m) (.) dL/dh_m` (fused to `y_hat - y`
//!   for sigmoid + BCE and softmax + cross-entropy);
//! - hidden layer: `delta_l = phi_l'(a_l) (.) (W_{l+1}^T delta_{l+1})`;
//! - gradients: `dL/dW = delta h^T`, `dL/db = delta`, averaged over the batch.
//!
//! Most users reach this through the `mlp` crate and its `network!` macro.
//!
//! ```
//! use mlp_core::prelude::*;
//! use ndarray::array;
//!
//! let mut rng = mlp_core::rng(1);
//! let hidden = Dense::<2, 4, Tanh, f64>::new(Tanh, Init::XavierNormal, &mut rng);
//! let output = Dense::<4, 1, Sigmoid, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
//! let mut net = Network::new(hidden, output, Bce, rng);
//!
//! let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let y = array![[0.0], [1.0], [1.0], [0.0]];
//! let cfg = TrainConfig::new().epochs(2000).batch(Batch::Full).optimizer(Sgd::new(1.0));
//! net.fit(x.view(), y.view(), &cfg)?;
//! assert!(net.predict(&[1.0, 0.0])[0] > 0.5);
//! # Ok::<(), mlp_core::Error>(())
//! ```

#![warn(missing_docs)]

/// The `ndarray` whose arrays the engine takes and returns.
pub use ndarray;
/// `std`, for the code `network!` generates (it writes every path in full,
/// so a user's `#![no_implicit_prelude]` cannot break it).
#[doc(hidden)]
pub use std as __std;

pub mod activation;
mod buffer;
mod curve;
pub mod data;
mod dense;
mod dropout;
mod error;
mod float;
mod gemm;
pub mod init;
mod kernels;
mod layer;
pub mod linalg;
pub mod loss;
pub mod metrics;
mod model;
mod network;
mod noise;
pub mod optim;
pub mod penalty;
pub mod perceptron;
mod pool;
pub mod save;
mod simd;
mod trace;
mod train;
mod training_only;

pub use activation::{
    Activation, Derivative, Elementwise, ElementwiseDerivative, Elu, Identity, LeakyRelu, Mish,
    Relu, Selu, Sigmoid, Softmax, Softplus, Softsign, Step, Swish, Tanh,
};
pub use dense::Dense;
pub use dropout::Dropout;
pub use error::{Error, Result};
pub use float::Float;
pub use init::Init;
pub use layer::{
    Backward, Chain, Const, DenseView, Input, Layer, LayerView, Moments, OutputLayer, Param,
    ParamVisitor, Parameters, Pass, Takes, Then, Width,
};
pub use loss::{Bce, CrossEntropy, DeltaFor, ElementLoss, Hinge, Huber, Loss, LossFor, Mae, Mse};
pub use model::Model;
pub use network::{Network, Rng, rng};
pub use noise::{Corruption, Noise};
pub use optim::{Adam, Optimizer, Schedule, Sgd};
pub use penalty::Penalty;
pub use pool::{num_threads, set_num_threads};
pub use trace::{GRAD_CHECK_FLOOR, GradCheck, Gradients, LayerTrace, Trace};
pub use train::{
    Batch, Clip, Control, EarlyStopping, EpochRecord, History, LayerStats, TrainConfig,
};

/// `use mlp_core::prelude::*;` brings in what a training script needs.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        Adam, Batch, Bce, Chain, Clip, Control, Corruption, CrossEntropy, Dense, Dropout,
        EarlyStopping, Elu, Error, Float, History, Huber, Identity, Init, Input, Layer, LeakyRelu,
        Mae, Mish, Model, Mse, Network, Noise, Optimizer, Penalty, Relu, Schedule, Selu, Sgd,
        Sigmoid, Softmax, Softplus, Softsign, Step, Swish, Tanh, Then, TrainConfig,
    };
}
