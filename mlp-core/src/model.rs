//! [`Model`]: what every trainable network offers, as one trait bound.

use crate::activation::Derivative;
use crate::layer::{Backward, Layer, OutputLayer, Takes, Width};
use crate::loss::DeltaFor;
use crate::network::Network;
use crate::{Float, History, Result, TrainConfig};
use ndarray::{Array2, ArrayView2};
use std::path::Path;

/// A network that can be trained, run, scored, saved and loaded: the one
/// bound a generic function over networks needs. Every [`Network`] whose
/// layers can be trained implements it, and so does every type the
/// `network!` macro declares (except one containing `step`, which cannot
/// be trained).
///
/// ```
/// use mlp_core::prelude::*;
/// use ndarray::Array2;
///
/// /// Trains any network on its data and returns the last epoch's loss.
/// fn train<M: Model<Float = f64>>(net: &mut M, x: &Array2<f64>, y: &Array2<f64>) -> Result<f64, Error> {
///     assert_eq!(x.ncols(), M::INPUTS);
///     let cfg = TrainConfig::new().epochs(300).batch(Batch::Full).optimizer(Sgd::new(0.5));
///     let history = net.fit(x.view(), y.view(), &cfg)?;
///     Ok(history.last().unwrap().train_loss)
/// }
///
/// let mut rng = mlp_core::rng(1);
/// let hidden = Dense::<2, 4, Tanh, f64>::new(Tanh, Init::XavierNormal, &mut rng);
/// let output = Dense::<4, 1, Sigmoid, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
/// let mut net = Network::new(hidden, output, Bce, rng);
/// let x = ndarray::array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let y = ndarray::array![[0.0], [1.0], [1.0], [0.0]];
/// let before = net.evaluate(x.view(), y.view())?;
/// assert!(train(&mut net, &x, &y)? < before);
/// # Ok::<(), mlp_core::Error>(())
/// ```
pub trait Model {
    /// The float type the network computes in.
    type Float: Float;
    /// One input sample, `[Float; INPUTS]`.
    type Input: AsRef<[Self::Float]> + AsMut<[Self::Float]> + Copy;
    /// One output, `[Float; OUTPUTS]`.
    type Output: AsRef<[Self::Float]> + Copy;
    /// Inputs per sample.
    const INPUTS: usize;
    /// Outputs per sample.
    const OUTPUTS: usize;
    /// Trainable parameters (weights and biases).
    const PARAMS: usize;

    /// Runs one sample (see [`Network::predict`]).
    fn predict(&self, x: &Self::Input) -> Self::Output;

    /// Runs a batch, one sample per row (see [`Network::predict_batch`]).
    ///
    /// # Errors
    /// As [`Network::predict_batch`].
    fn predict_batch(&self, x: ArrayView2<'_, Self::Float>) -> Result<Array2<Self::Float>>;

    /// The mean loss over a data set (see [`Network::evaluate`]).
    ///
    /// # Errors
    /// As [`Network::evaluate`].
    fn evaluate(
        &self,
        x: ArrayView2<'_, Self::Float>,
        y: ArrayView2<'_, Self::Float>,
    ) -> Result<f64>;

    /// Trains on `(x, y)` (see [`Network::fit`]).
    ///
    /// # Errors
    /// As [`Network::fit`].
    fn fit(
        &mut self,
        x: ArrayView2<'_, Self::Float>,
        y: ArrayView2<'_, Self::Float>,
        cfg: &TrainConfig,
    ) -> Result<History>;

    /// A table of the layers (see [`Network::summary`]).
    fn summary(&self) -> String;

    /// Saves the weights as safetensors (see [`Network::save`]).
    ///
    /// # Errors
    /// As [`Network::save`].
    fn save(&self, path: impl AsRef<Path>) -> Result<()>;

    /// Loads weights saved from the same architecture (see [`Network::load`]).
    ///
    /// # Errors
    /// As [`Network::load`].
    fn load(&mut self, path: impl AsRef<Path>) -> Result<()>;
}

impl<H, O, L, F> Model for Network<H, O, L, F>
where
    F: Float,
    H: Backward<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    O::Act: Derivative<F>,
    L: DeltaFor<F, O::Act>,
{
    type Float = F;
    type Input = <H::In as Width>::Array<F>;
    type Output = <O::Out as Width>::Array<F>;
    const INPUTS: usize = <H::In as Width>::N;
    const OUTPUTS: usize = <O::Out as Width>::N;
    const PARAMS: usize = H::PARAMS + <O as Layer<F>>::PARAMS;

    fn predict(&self, x: &Self::Input) -> Self::Output {
        Network::predict(self, x)
    }
    fn predict_batch(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        Network::predict_batch(self, x)
    }
    fn evaluate(&self, x: ArrayView2<'_, F>, y: ArrayView2<'_, F>) -> Result<f64> {
        Network::evaluate(self, x, y)
    }
    fn fit(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        cfg: &TrainConfig,
    ) -> Result<History> {
        Network::fit(self, x, y, cfg)
    }
    fn summary(&self) -> String {
        Network::summary(self)
    }
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Network::save(self, path)
    }
    fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        Network::load(self, path)
    }
}

/// Autoencoders: networks whose output has the input's width.
impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Backward<F>,
    O: OutputLayer<F> + Takes<F, H::Out> + Layer<F, Out = H::In>,
    O::Act: Derivative<F>,
    L: DeltaFor<F, O::Act>,
{
    /// Trains the network to reconstruct its input: [`fit`](Network::fit)
    /// on `(x, x)`, minimising `L(f(x), x)` plus any activity penalties of
    /// the hidden layers. Behind a [`Noise`](crate::Noise) layer the input
    /// is corrupted afresh in every training pass while the target stays
    /// the clean `x` (a denoising autoencoder). It compiles only for a
    /// network whose output width equals its input width.
    ///
    /// ```
    /// use mlp_core::prelude::*;
    /// use ndarray::Array2;
    ///
    /// // Points on a line in 3-D, squeezed through one unit and back.
    /// let x = Array2::from_shape_fn((40, 3), |(i, j)| (i as f64 / 40.0 - 0.5) * [1.0, 2.0, -1.0][j]);
    /// let mut rng = mlp_core::rng(0);
    /// let code = Dense::<3, 1, _, f64>::new(Identity, Init::XavierNormal, &mut rng);
    /// let output = Dense::<1, 3, _, f64>::new(Identity, Init::XavierNormal, &mut rng);
    /// let mut ae = Network::new(code, output, Mse, rng);
    /// let cfg = TrainConfig::new().epochs(500).batch(Batch::Full).optimizer(Adam::new(0.02));
    /// let history = ae.fit_autoencoder(x.view(), &cfg)?;
    /// assert!(history.last().unwrap().train_loss < 1e-4);
    /// let code: [f64; 1] = ae.hidden().infer(&[0.1, 0.2, -0.1]);   // the 1-D code
    /// # let _ = code;
    /// # Ok::<(), mlp_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Network::fit).
    pub fn fit_autoencoder(&mut self, x: ArrayView2<'_, F>, cfg: &TrainConfig) -> Result<History> {
        self.fit(x, x, cfg)
    }
}
