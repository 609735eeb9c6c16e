//! Training: batch modes, the optimiser step, clipping, penalties, validation,
//! early stopping and the history of a run.

use crate::activation::Derivative;
use crate::layer::{Backward, OutputLayer, Param, ParamVisitor, Parameters, Pass, Takes, Width};
use crate::loss::{DeltaFor, LossFor};
use crate::network::Network;
use crate::optim::{Optimizer, Rule, Schedule};
use crate::{Error, Float, Result};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;

/// How many samples each update sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Batch mode: one update per epoch from the gradient averaged over all samples.
    Full,
    /// Stochastic (online) mode: one update per sample, `N` updates per epoch.
    Stochastic,
    /// Mini-batches of this many samples (the last one may be smaller).
    Mini(usize),
}

impl Batch {
    /// The batch size for `n` training samples.
    pub fn size(self, n: usize) -> usize {
        match self {
            Batch::Full => n,
            Batch::Stochastic => 1,
            Batch::Mini(b) => b.min(n),
        }
    }
}

/// Gradient clipping, applied after penalties and before the optimiser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// Clamp every gradient component to `[-g, g]`.
    Value(f64),
    /// Rescale all gradients together so their global L2 norm is at most `g`
    /// (Pascanu, Mikolov & Bengio 2013; `torch.nn.utils.clip_grad_norm_`).
    Norm(f64),
}

/// Stop when the monitored loss (validation if there is any, else training)
/// has not improved by more than `min_delta` for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The smallest decrease that counts as an improvement.
    pub min_delta: f64,
    /// Put back the weights of the best epoch when stopping or finishing.
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            patience: 10,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

/// Everything about a training run except the data.
///
/// ```
/// use mlp_core::{Adam, Batch, Clip, TrainConfig};
/// let cfg = TrainConfig::new()
///     .epochs(200)
///     .batch(Batch::Mini(32))
///     .optimizer(Adam::new(0.01))
///     .clip(Clip::Norm(5.0))
///     .validation_split(0.2);
/// assert_eq!(cfg.epochs, 200);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per update.
    pub batch: Batch,
    /// Reshuffle the training samples every epoch (ignored in full-batch mode,
    /// where the order cannot matter).
    pub shuffle: bool,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Optional gradient clipping.
    pub clip: Option<Clip>,
    /// L1 penalty `lambda_1 sum |w|` on weights (not biases).
    pub l1: f64,
    /// L2 penalty `lambda_2 / 2 sum w^2` on weights (not biases); its gradient
    /// `lambda_2 w` is PyTorch's `weight_decay`.
    pub l2: f64,
    /// Fraction of the rows, taken from the end before any shuffling (as Keras
    /// does), held out for validation. `0` for none.
    pub validation_split: f64,
    /// Optional early stopping.
    pub early_stopping: Option<EarlyStopping>,
    /// Record per-layer gradient norms and activation statistics each epoch.
    pub record_stats: bool,
    /// Show a progress bar on standard error: epochs done, the last
    /// epoch's loss and the time left (with the `progress` feature, on by
    /// default in `mlp`; drawn only when standard error is a terminal).
    pub progress: bool,
}

impl Default for TrainConfig {
    /// 10 epochs of shuffled mini-batches of 32 with SGD at 0.01 (Keras' defaults).
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: Batch::Mini(32),
            shuffle: true,
            optimizer: Optimizer::default(),
            schedule: Schedule::Constant,
            clip: None,
            l1: 0.0,
            l2: 0.0,
            validation_split: 0.0,
            early_stopping: None,
            record_stats: false,
            progress: false,
        }
    }
}

impl TrainConfig {
    /// The defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Sets the batch mode.
    pub fn batch(mut self, batch: Batch) -> Self {
        self.batch = batch;
        self
    }
    /// Turns per-epoch shuffling on or off.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Sets the optimiser (`Sgd` or `Adam`).
    pub fn optimizer(mut self, optimizer: impl Into<Optimizer>) -> Self {
        self.optimizer = optimizer.into();
        self
    }
    /// Sets the learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }
    /// Sets gradient clipping.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }
    /// Sets the L1 penalty.
    pub fn l1(mut self, lambda: f64) -> Self {
        self.l1 = lambda;
        self
    }
    /// Sets the L2 penalty.
    pub fn l2(mut self, lambda: f64) -> Self {
        self.l2 = lambda;
        self
    }
    /// Holds out this fraction of the rows for validation.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }
    /// Enables early stopping.
    pub fn early_stopping(mut self, es: EarlyStopping) -> Self {
        self.early_stopping = Some(es);
        self
    }
    /// Records per-layer statistics in the history.
    pub fn record_stats(mut self, on: bool) -> Self {
        self.record_stats = on;
        self
    }
    /// Shows a progress bar while training (see [`TrainConfig::progress`]).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Whether any weight penalty is on.
    fn penalised(&self) -> bool {
        self.l1 > 0.0 || self.l2 > 0.0
    }

    /// The penalty of one weight: `lambda_1 |w| + lambda_2 / 2 w^2`.
    fn penalty<F: Float>(&self, w: F) -> f64 {
        let w = w.as_f64();
        self.l1 * w.abs() + 0.5 * self.l2 * w * w
    }

    /// Its derivative: `lambda_1 sign(w) + lambda_2 w` (with `sign(0) = 0`).
    #[inline]
    fn penalty_grad<F: Float>(&self, w: F) -> F {
        let sign = if w > F::zero() {
            F::one()
        } else if w < F::zero() {
            -F::one()
        } else {
            F::zero()
        };
        F::from_f64(self.l1) * sign + F::from_f64(self.l2) * w
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidConfig(m));
        self.optimizer.validate().map_err(Error::InvalidConfig)?;
        self.schedule.validate().map_err(Error::InvalidConfig)?;
        if let Batch::Mini(0) = self.batch {
            return bad("mini-batch size must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return bad(format!(
                "validation_split must be in [0, 1), got {}",
                self.validation_split
            ));
        }
        if !(self.l1 >= 0.0 && self.l2 >= 0.0 && self.l1.is_finite() && self.l2.is_finite()) {
            return bad("l1 and l2 penalties must be finite and non-negative".into());
        }
        match self.clip {
            Some(Clip::Value(g) | Clip::Norm(g)) if !(g > 0.0 && g.is_finite()) => {
                bad(format!("clipping threshold must be positive, got {g}"))
            }
            _ => Ok(()),
        }
    }
}

/// Statistics of one dense layer over an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerStats {
    /// L2 norm of `dL/dW`, averaged over the epoch's updates.
    pub grad_norm: f64,
    /// Mean of the layer's outputs `h` over the epoch's last batch.
    pub mean: f64,
    /// Standard deviation of those outputs.
    pub std: f64,
    /// Fraction of those outputs that were saturated (see
    /// [`Activation::saturated`](crate::Activation::saturated)).
    pub saturated: f64,
}

/// One epoch of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's updates (with penalties, as
    /// measured before each update, like Keras).
    pub train_loss: f64,
    /// Mean validation loss after the epoch, if there is validation data.
    pub val_loss: Option<f64>,
    /// The learning rate used in this epoch.
    pub lr: f64,
    /// Optimiser updates made in this epoch.
    pub updates: usize,
    /// Per-dense-layer statistics, first layer first (empty unless requested).
    pub layers: Vec<LayerStats>,
}

/// What a training run did, epoch by epoch: returned by `fit`, and kept in
/// [`Error::NonFiniteLoss`] when a run diverges.
///
/// ```
/// # use mlp_core::prelude::*;
/// # use ndarray::array;
/// # let mut rng = mlp_core::rng(1);
/// # let hidden = Dense::<2, 4, Tanh, f64>::new(Tanh, Init::XavierNormal, &mut rng);
/// # let output = Dense::<4, 1, Sigmoid, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
/// # let mut net = Network::new(hidden, output, Bce, rng);
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let y = array![[0.0], [1.0], [1.0], [0.0]];
/// let cfg = TrainConfig::new().epochs(100).batch(Batch::Full).optimizer(Sgd::new(1.0));
/// let history = net.fit(x.view(), y.view(), &cfg)?;
/// let losses = history.train_loss();              // one per epoch
/// assert_eq!(losses.len(), 100);
/// assert!(history.to_csv().starts_with("epoch,train_loss"));
/// assert!(history.loss_curve_svg().starts_with("<svg"));
/// # Ok::<(), mlp_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// One record per completed epoch.
    pub epochs: Vec<EpochRecord>,
    /// The best epoch by the monitored loss, with early stopping.
    pub best_epoch: Option<usize>,
    /// Whether early stopping (or the callback) ended the run.
    pub stopped_early: bool,
}

impl History {
    /// One line per epoch: `epoch,train_loss,val_loss,lr,updates`, with a
    /// header, and the validation loss empty when there was none; with
    /// recorded statistics, four more columns per dense layer
    /// (`grad_norm_k,mean_k,std_k,saturated_k`).
    ///
    /// ```
    /// # use mlp_core::{History, EpochRecord};
    /// let mut h = History::default();
    /// h.epochs.push(EpochRecord { epoch: 1, train_loss: 0.5, val_loss: None, lr: 0.1, updates: 4, layers: vec![] });
    /// assert_eq!(h.to_csv(), "epoch,train_loss,val_loss,lr,updates\n1,0.5,,0.1,4\n");
    /// ```
    pub fn to_csv(&self) -> String {
        let layers = self.epochs.first().map_or(0, |e| e.layers.len());
        let mut s = String::from("epoch,train_loss,val_loss,lr,updates");
        for k in 0..layers {
            s += &format!(",grad_norm_{k},mean_{k},std_{k},saturated_{k}");
        }
        s.push('\n');
        for e in &self.epochs {
            let val = e.val_loss.map(|v| v.to_string()).unwrap_or_default();
            s += &format!("{},{},{val},{},{}", e.epoch, e.train_loss, e.lr, e.updates);
            for l in &e.layers {
                s += &format!(",{},{},{},{}", l.grad_norm, l.mean, l.std, l.saturated);
            }
            s.push('\n');
        }
        s
    }

    /// Writes [`to_csv`](Self::to_csv) to a file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn write_csv(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_csv()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The training loss (and the validation loss, if any) per epoch as an
    /// SVG line chart, 640 x 400, with a logarithmic loss axis when the
    /// losses are all positive and span more than a factor of 20.
    pub fn loss_curve_svg(&self) -> String {
        crate::curve::loss_curve(self)
    }

    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }
    /// Training loss per epoch.
    pub fn train_loss(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.train_loss).collect()
    }
    /// Validation loss per epoch (empty without validation data).
    pub fn val_loss(&self) -> Vec<f64> {
        self.epochs.iter().filter_map(|e| e.val_loss).collect()
    }
}

/// The progress bar of a training run (nothing without the `progress`
/// feature, or when `TrainConfig::progress` is off).
struct Progress {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(cfg: &TrainConfig) -> Self {
        #[cfg(feature = "progress")]
        {
            let bar = cfg.progress.then(|| {
                let bar = indicatif::ProgressBar::new(cfg.epochs as u64);
                let style = indicatif::ProgressStyle::with_template(
                    "{bar:30} epoch {pos}/{len}  {msg}  {elapsed} elapsed, {eta} left",
                )
                .expect("a valid template");
                bar.set_style(style);
                bar
            });
            Progress { bar }
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = cfg;
            Progress {}
        }
    }

    fn epoch(&self, record: &EpochRecord) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            let msg = match record.val_loss {
                Some(v) => format!("loss {:.4}  val {v:.4}", record.train_loss),
                None => format!("loss {:.4}", record.train_loss),
            };
            bar.set_message(msg);
            bar.inc(1);
        }
        #[cfg(not(feature = "progress"))]
        let _ = record;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// `sum g^2` in `f64` (no overflow for `f32` gradients), with four
/// independent accumulators so the loop vectorises.
fn sum_of_squares<F: Float>(g: &[F]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = g.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().map(|v| v.as_f64().powi(2)).sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v.as_f64() * v.as_f64();
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// What the per-epoch callback asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this epoch.
    Stop,
}

impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Parameters<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: LossFor<F, O::Act>,
{
    /// Trains on inputs `x` (one sample per row) and targets `y`, and returns
    /// what happened epoch by epoch. Calling it again continues training
    /// (the optimiser's state and the schedule carry on; see
    /// [`reset_optimizer`](Self::reset_optimizer)).
    ///
    /// ```
    /// use mlp_core::prelude::*;
    /// use ndarray::Array2;
    ///
    /// // y = 2 x1 - x2 from 50 samples.
    /// let x = Array2::from_shape_fn((50, 2), |(i, j)| ((i * 2 + j) as f64 * 0.7).sin());
    /// let y = Array2::from_shape_fn((50, 1), |(i, _)| 2.0 * x[[i, 0]] - x[[i, 1]]);
    /// let mut rng = mlp_core::rng(0);
    /// let hidden = Dense::<2, 8, _, f64>::new(Tanh, Init::XavierNormal, &mut rng);
    /// let output = Dense::<8, 1, _, f64>::new(Identity, Init::XavierNormal, &mut rng);
    /// let mut net = Network::new(hidden, output, Mse, rng);
    /// let cfg = TrainConfig::new().epochs(200).batch(Batch::Mini(10)).optimizer(Adam::new(0.01));
    /// let history = net.fit(x.view(), y.view(), &cfg)?;
    /// assert!(history.last().unwrap().train_loss < 0.01);
    /// assert_eq!(history.epochs.len(), 200);
    /// # Ok::<(), mlp_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// Bad data ([`Network::check_data`]) or configuration
    /// ([`Error::InvalidConfig`]) are reported before anything changes.
    /// [`Error::NonFiniteLoss`] stops training before the step that would
    /// have made the loss, a gradient or a weight non-finite; the network keeps
    /// the weights of the last finite step.
    pub fn fit(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        cfg: &TrainConfig,
    ) -> Result<History>
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        self.fit_with(x, y, cfg, None, |_, _| Control::Continue)
    }

    /// [`fit`](Self::fit) with explicit validation data (overriding
    /// `validation_split`) and a callback run after every epoch, which sees
    /// the epoch's record and the network as it stands, so it can measure
    /// anything (an accuracy, say) with [`predict_batch`](Self::predict_batch)
    /// or [`evaluate`](Self::evaluate), and stop training.
    ///
    /// ```
    /// # use mlp_core::prelude::*;
    /// # use ndarray::array;
    /// # let mut rng = mlp_core::rng(1);
    /// # let hidden = Dense::<2, 4, Tanh, f64>::new(Tanh, Init::XavierNormal, &mut rng);
    /// # let output = Dense::<4, 1, Sigmoid, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
    /// # let mut net = Network::new(hidden, output, Bce, rng);
    /// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    /// let y = array![[0.0], [1.0], [1.0], [0.0]];
    /// let cfg = TrainConfig::new().epochs(5000).batch(Batch::Full).optimizer(Sgd::new(1.0));
    /// let history = net.fit_with(x.view(), y.view(), &cfg, None, |epoch, net| {
    ///     let out = net.predict_batch(x.view()).unwrap();
    ///     let right = out.iter().zip(&y).all(|(o, t)| (*o > 0.5) == (*t > 0.5));
    ///     // Stop at the first epoch that classifies all four points.
    ///     if right { Control::Stop } else { Control::Continue }
    /// })?;
    /// assert!(history.stopped_early && history.epochs.len() < 5000);
    /// # Ok::<(), mlp_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Self::fit), plus bad validation data.
    pub fn fit_with(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        cfg: &TrainConfig,
        validation: Option<(ArrayView2<'_, F>, ArrayView2<'_, F>)>,
        mut on_epoch: impl FnMut(&EpochRecord, &Self) -> Control,
    ) -> Result<History>
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        cfg.validate()?;
        self.validate()?;
        self.check_data(x, y)?;
        // Which rows train and which validate; validation rows refer to `vx, vy`.
        let n_all = x.nrows();
        let (mut train_rows, val_rows, vx, vy): (Vec<usize>, Vec<usize>, _, _) = match validation {
            Some((vx, vy)) => {
                self.check_data(vx, vy)?;
                ((0..n_all).collect(), (0..vx.nrows()).collect(), vx, vy)
            }
            None if cfg.validation_split > 0.0 => {
                let n_val = (n_all as f64 * cfg.validation_split).floor() as usize;
                if n_val == 0 || n_val == n_all {
                    return Err(Error::InvalidConfig(format!(
                        "validation_split {} of {n_all} rows leaves {n_val} for validation and {} for training; \
                         both need at least one",
                        cfg.validation_split,
                        n_all - n_val
                    )));
                }
                (
                    (0..n_all - n_val).collect(),
                    (n_all - n_val..n_all).collect(),
                    x,
                    y,
                )
            }
            None => ((0..n_all).collect(), Vec::new(), x, y),
        };
        let n = train_rows.len();
        let batch = cfg.batch.size(n);
        let dense_layers = self.weight_tensors();
        let mut grad_norm_sums = vec![0.0; dense_layers];
        let mut history = History::default();
        let mut best = (f64::INFINITY, 0usize, Vec::<F>::new());
        let mut since_best = 0;
        self.prepare_optimizer(&cfg.optimizer);
        // Data in standard layout is read as slices, looked up once.
        let flat = x.as_slice().zip(y.as_slice());

        let base_order = train_rows.clone();
        let progress = Progress::new(cfg);
        for epoch in 0..cfg.epochs {
            if cfg.shuffle && batch < n {
                // A fresh permutation of the rows each epoch (as PyTorch's
                // RandomSampler draws one), so an epoch's order depends on
                // the random stream alone, not on how training was split
                // into `fit` calls.
                train_rows.copy_from_slice(&base_order);
                train_rows.shuffle(&mut self.rng);
            }
            // Epochs count on across `fit` calls (until the optimiser state
            // is reset), so a schedule continues where the last call stopped.
            let global = self.epochs;
            let lr = cfg.schedule.lr(cfg.optimizer.lr(), global);
            let mut loss_sum = 0.0;
            grad_norm_sums.iter_mut().for_each(|s| *s = 0.0);
            let mut updates = 0;
            let mut last_rows = 0;
            // A full batch is never shuffled, so the rows gathered in the
            // first epoch stay in the batch buffers, unless the validation
            // loss gathers its own rows into them.
            let gathered = epoch > 0 && batch >= n && val_rows.is_empty();
            for idx in train_rows.chunks(batch) {
                let rows = if gathered {
                    n
                } else {
                    let idx = idx.iter().copied();
                    match flat {
                        Some((xs, ys)) => self.gather_flat(xs, ys, idx),
                        None => self.gather(x, y, idx),
                    }
                };
                let Some(loss) = self.train_step(rows, lr, cfg) else {
                    return Err(Error::NonFiniteLoss {
                        epoch: global + 1,
                        step: updates + 1,
                        history: Box::new(history),
                    });
                };
                loss_sum += loss;
                updates += 1;
                last_rows = rows;
                if cfg.record_stats {
                    self.accumulate_grad_norms(&mut grad_norm_sums);
                }
            }
            let layers = if cfg.record_stats {
                self.layer_stats(&grad_norm_sums, updates, last_rows)
            } else {
                Vec::new()
            };
            let penalty = self.penalty(cfg);
            let val_loss =
                (!val_rows.is_empty()).then(|| self.loss_over(vx, vy, &val_rows, batch) + penalty);
            self.epochs += 1;
            let record = EpochRecord {
                epoch: global + 1,
                train_loss: loss_sum / n as f64,
                val_loss,
                lr,
                updates,
                layers,
            };
            let monitored = val_loss.unwrap_or(record.train_loss);
            progress.epoch(&record);
            let control = on_epoch(&record, self);
            history.epochs.push(record);
            if control == Control::Stop {
                history.stopped_early = true;
                break;
            }
            if let Some(es) = cfg.early_stopping {
                if monitored < best.0 - es.min_delta {
                    best.0 = monitored;
                    best.1 = global + 1;
                    since_best = 0;
                    if es.restore_best {
                        self.copy_params(&mut best.2);
                    }
                } else {
                    since_best += 1;
                    if since_best >= es.patience {
                        history.stopped_early = true;
                        break;
                    }
                }
            }
        }
        if let Some(es) = cfg.early_stopping {
            history.best_epoch = (best.1 > 0).then_some(best.1);
            if es.restore_best && best.1 > 0 {
                self.restore_params(&best.2);
            }
        }
        Ok(history)
    }

    /// One optimiser update from one batch (Keras' `train_on_batch`), with the
    /// optimiser, clipping and penalties of `cfg` at its base learning rate.
    /// Returns the batch's mean loss before the update. Once the network has
    /// seen a batch of this size, this allocates nothing.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn train_on_batch(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        cfg: &TrainConfig,
    ) -> Result<f64>
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        cfg.validate()?;
        self.validate()?;
        self.check_data(x, y)?;
        self.prepare_optimizer(&cfg.optimizer);
        let rows = self.gather(x, y, 0..x.nrows());
        let loss = self.train_step(rows, cfg.optimizer.lr(), cfg);
        loss.map(|l| l / rows as f64)
            .ok_or_else(|| Error::NonFiniteLoss {
                epoch: self.epochs + 1,
                step: 1,
                history: Box::default(),
            })
    }

    /// Sizes every layer's optimiser state for `opt` (once, before the
    /// steps of [`train_step`](Self::train_step)), first resetting it if it
    /// was built by another rule (see [`reset_optimizer`](Self::reset_optimizer)).
    fn prepare_optimizer(&mut self, opt: &Optimizer) {
        if self.optimizer.is_some_and(|old| !old.same_rule(opt)) {
            self.reset_optimizer();
        }
        self.optimizer = Some(*opt);
        self.visit_params(&mut |p| opt.prepare(p.state, p.value.len()));
    }

    /// One update from the gathered batch of `rows` samples: forward, output
    /// error, backward, penalties, clipping, then the optimiser step, which
    /// happens only if everything stays finite. Returns the batch's summed
    /// loss (with penalty), or `None` if something became non-finite.
    /// The optimiser state must have been sized by
    /// [`prepare_optimizer`](Self::prepare_optimizer). Allocates nothing
    /// once the buffers exist (after the first step).
    pub(crate) fn train_step(&mut self, rows: usize, lr: f64, cfg: &TrainConfig) -> Option<f64>
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        let data_loss = if rows == 1 && H::STACK && O::STACK && !self.hidden.penalised() {
            self.backprop_one()
        } else {
            self.backprop(rows, true)
        };
        let data_loss = data_loss.as_f64();

        // Penalties (part of the objective, so they are clipped with the rest).
        let mut penalty = 0.0;
        if cfg.penalised() {
            self.visit_params(&mut |mut p| {
                let (value, grad) = p.weights_mut();
                for (g, &w) in grad.iter_mut().zip(value.iter()) {
                    *g += cfg.penalty_grad(w);
                    penalty += cfg.penalty(w);
                }
            });
        }
        let loss = data_loss + penalty * rows as f64;
        if !loss.is_finite() {
            return None;
        }
        // A NaN or infinite gradient makes the step non-finite, which the check
        // below catches; clipping must not hide it first (`max` and `min`
        // ignore NaN), so the clipped paths test the gradients themselves.
        match cfg.clip {
            Some(Clip::Value(c)) => {
                let mut finite = true;
                self.visit_params(&mut |p| {
                    finite &= p.grad.iter().fold(true, |ok, g| ok & g.is_finite());
                });
                if !finite {
                    return None;
                }
                let c = F::from_f64(c);
                self.visit_params(&mut |p| p.grad.iter_mut().for_each(|g| *g = g.max(-c).min(c)));
            }
            Some(Clip::Norm(c)) => {
                let mut sq_norm = 0.0;
                self.visit_params(&mut |p| sq_norm += sum_of_squares(p.grad));
                if !sq_norm.is_finite() {
                    return None;
                }
                if sq_norm.sqrt() > c {
                    let scale = F::from_f64(c / sq_norm.sqrt());
                    self.visit_params(&mut |p| p.grad.iter_mut().for_each(|g| *g *= scale));
                }
            }
            None => {}
        }
        // Check the step, then take it: a failed check leaves the network as it was.
        let t = self.steps + 1;
        let rule = cfg.optimizer.rule::<F>(lr, t);
        let mut check = CheckStep { rule, finite: true };
        self.visit_params_with(&mut check);
        if !check.finite {
            return None;
        }
        self.visit_params_with(&mut TakeStep(rule));
        self.steps = t;
        Some(loss)
    }

    /// Forward and backward over the gathered batch of `rows` samples, leaving
    /// `a`, `h`, `delta` and the averaged gradients in every layer. Returns the
    /// summed loss. This is the book's algorithm, step by step (chapter 6
    /// shows it from the `ANCHOR` lines).
    // ANCHOR: backprop
    pub(crate) fn backprop(&mut self, rows: usize, training: bool) -> F
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        let (ni, no) = (Self::INPUTS, Self::OUTPUTS);
        // Forward: a = W h + b, h' = phi(a), layer by layer; then the loss.
        let loss = self.forward_loss(rows, training);
        // Output layer: delta_m = phi_m'(a_m) (.) dL/dh_m (fused for sigmoid+bce, softmax+ce).
        self.grad_h.ensure_len(rows * no);
        let (act, a, h, delta) = self.output.parts_mut(rows);
        self.loss.delta(
            act,
            a,
            h,
            &self.yb[..rows * no],
            &mut self.grad_h[..rows * no],
            delta,
            no,
        );
        // Hidden layers, last to first: delta_l = phi_l'(a_l) (.) (W_{l+1}^T delta_{l+1});
        // every layer: grad_w = delta^T h_prev / rows, grad_b = mean of delta.
        // The output layer writes dL/dh for the top hidden layer into that
        // layer's delta buffer (nothing, without hidden layers).
        let x = &self.xb[..rows * ni];
        let (top, grad_top) = self.hidden.output_and_grad(x, rows);
        self.output.backward_from_delta(top, rows, grad_top);
        self.hidden.backward(x, rows, &mut []);
        loss
    }
    // ANCHOR_END: backprop

    /// [`backprop`](Self::backprop) for a batch of one sample in a network
    /// of small layers: the same steps and kernels, with every intermediate
    /// value on the stack and the whole pass inlined into one function, so
    /// an online update pays no per-layer call and buffer overhead. The
    /// results are the same bits (`tests::one_sample_path_matches_batch_path`).
    pub(crate) fn backprop_one(&mut self) -> F
    where
        H: Backward<F>,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act>,
    {
        let (ni, no) = (Self::INPUTS, Self::OUTPUTS);
        let mut x = <H::In as Width>::zeros::<F>();
        x.as_mut().copy_from_slice(&self.xb[..ni]);
        let (output, loss, y) = (&mut self.output, &self.loss, &self.yb[..no]);
        let mut pass = Pass {
            training: true,
            rng: &mut self.rng,
        };
        let (total, _) = self.hidden.backprop_one(&x, &mut pass, |h, _| {
            output.backprop_one(h, |act, a, h, delta| {
                // Forward ends in the loss; backward starts from delta_m.
                let total = loss.total(act, a, h, y, no);
                let mut grad_h = <O::Out as Width>::zeros::<F>();
                loss.delta(act, a, h, y, grad_h.as_mut(), delta, no);
                total
            })
        });
        total
    }

    fn weight_tensors(&mut self) -> usize {
        let mut n = 0;
        self.visit_params(&mut |p| n += (p.weights > 0) as usize);
        n
    }

    fn accumulate_grad_norms(&mut self, sums: &mut [f64]) {
        let mut k = 0;
        self.visit_params(&mut |p| {
            if p.weights > 0 {
                sums[k] += sum_of_squares(&p.grad[..p.weights]).sqrt();
                k += 1;
            }
        });
    }

    fn layer_stats(&self, grad_norm_sums: &[f64], updates: usize, rows: usize) -> Vec<LayerStats> {
        let mut stats = Vec::new();
        self.visit_layers(rows, &mut |layer| {
            if let crate::LayerView::Dense(d) = layer {
                let n = d.h.len().max(1) as f64;
                let mean = d.h.iter().map(|v| v.as_f64()).sum::<f64>() / n;
                let var = d.h.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
                stats.push(LayerStats {
                    grad_norm: grad_norm_sums[stats.len()] / updates.max(1) as f64,
                    mean,
                    std: var.sqrt(),
                    saturated: d.saturated,
                });
            }
        });
        stats
    }

    /// The penalty term of the objective at the current weights.
    fn penalty(&mut self, cfg: &TrainConfig) -> f64 {
        let mut penalty = 0.0;
        if cfg.penalised() {
            self.visit_params(&mut |p| {
                penalty += p.value[..p.weights]
                    .iter()
                    .map(|&w| cfg.penalty(w))
                    .sum::<f64>();
            });
        }
        penalty
    }

    fn copy_params(&mut self, buf: &mut Vec<F>) {
        buf.clear();
        self.visit_params(&mut |p| buf.extend_from_slice(p.value));
    }

    fn restore_params(&mut self, buf: &[F]) {
        let mut at = 0;
        self.visit_params(&mut |p| {
            p.value.copy_from_slice(&buf[at..at + p.value.len()]);
            at += p.value.len();
        });
    }
}

/// Whether the step of `rule` keeps every parameter finite (see
/// [`Rule::step_is_finite`]), block by block.
struct CheckStep<F> {
    rule: Rule<F>,
    finite: bool,
}

impl<F: Float> ParamVisitor<F> for CheckStep<F> {
    #[inline(always)]
    fn visit(&mut self, p: Param<'_, F>) {
        self.finite &= self.rule.step_is_finite(p.value, p.grad, p.state);
    }
}

/// Takes the step of a rule (see [`Rule::step`]), block by block.
struct TakeStep<F>(Rule<F>);

impl<F: Float> ParamVisitor<F> for TakeStep<F> {
    #[inline(always)]
    fn visit(&mut self, p: Param<'_, F>) {
        self.0.step(p.value, p.grad, p.state);
    }
}

#[cfg(test)]
mod tests {
    use crate::activation::Derivative;
    use crate::layer::{Backward, OutputLayer, Takes};
    use crate::loss::DeltaFor;
    use crate::prelude::*;
    use crate::{LayerView, Parameters};

    /// Everything a step leaves behind, as bits: the loss, every layer's
    /// `a`, `h`, `delta` and gradients, and the next draw of the RNG.
    fn state<H, O, L, F>(net: &mut Network<H, O, L, F>, loss: F) -> Vec<u64>
    where
        F: Float,
        H: Parameters<F>,
        O: OutputLayer<F> + Takes<F, H::Out>,
        L: crate::Loss<F>,
    {
        let mut bits = vec![loss.as_f64().to_bits()];
        net.visit_layers(1, &mut |layer| {
            if let LayerView::Dense(d) = layer {
                for v in [d.a, d.h, d.delta, d.grad_w] {
                    bits.extend(v.iter().map(|v| v.as_f64().to_bits()));
                }
                bits.extend(d.grad_b.iter().map(|v| v.as_f64().to_bits()));
            }
        });
        bits.push(rand::Rng::next_u64(&mut net.rng));
        bits
    }

    /// Trains `net` online for a few epochs (through the one-sample path),
    /// then, at every sample, compares one step through the one-sample
    /// path with one through the batch path, on clones.
    fn one_sample_path_agrees<H, O, L, F>(mut net: Network<H, O, L, F>, x: &[F], y: &[F])
    where
        F: Float,
        H: Backward<F> + Clone,
        O: OutputLayer<F> + Takes<F, H::Out> + Clone,
        O::Act: Derivative<F>,
        L: DeltaFor<F, O::Act> + Clone,
    {
        assert!(H::STACK && O::STACK);
        let (ni, no) = (
            Network::<H, O, L, F>::INPUTS,
            Network::<H, O, L, F>::OUTPUTS,
        );
        let rows = x.len() / ni;
        let xs = ndarray::ArrayView2::from_shape((rows, ni), x).unwrap();
        let ys = ndarray::ArrayView2::from_shape((rows, no), y).unwrap();
        let cfg = TrainConfig::new()
            .epochs(5)
            .batch(Batch::Stochastic)
            .optimizer(Sgd::new(0.1));
        net.fit(xs, ys, &cfg).unwrap();
        for r in 0..rows {
            let (mut one, mut batch) = (net.clone(), net.clone());
            for n in [&mut one, &mut batch] {
                n.xb = crate::buffer::Buffer::from_slice(&x[r * ni..(r + 1) * ni]);
                n.yb = crate::buffer::Buffer::from_slice(&y[r * no..(r + 1) * no]);
            }
            let (l1, lb) = (one.backprop_one(), batch.backprop(1, true));
            assert_eq!(state(&mut one, l1), state(&mut batch, lb), "sample {r}");
        }
    }

    fn data<F: Float>(n: usize, seed: f64) -> Vec<F> {
        (0..n)
            .map(|i| F::from_f64((i as f64 * 0.77 + seed).sin() * 1.5))
            .collect()
    }

    #[test]
    fn one_sample_path_matches_batch_path() {
        // The book's XOR network, in f32.
        let mut rng = crate::rng(1);
        let net = Network::new(
            Dense::<2, 4, Sigmoid>::new(Sigmoid, Init::XavierNormal, &mut rng),
            Dense::<4, 1, Sigmoid>::new(Sigmoid, Init::XavierNormal, &mut rng),
            Bce,
            rng,
        );
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        one_sample_path_agrees(net, &x, &[0.0, 1.0, 1.0, 0.0]);

        // Two hidden layers with dropout between them, softmax and
        // cross-entropy, in f64: the masks must be drawn identically.
        let net = dropout_net(2);
        let y: Vec<f64> = (0..7)
            .flat_map(|r| (0..3).map(move |k| (r % 3 == k) as u8 as f64))
            .collect();
        one_sample_path_agrees(net, &data(21, 0.3), &y);

        // No hidden layer, an element-wise loss, 13 outputs (groups of 8, 4, 1).
        let mut rng = crate::rng(3);
        let output = Dense::<3, 13, Identity>::new(Identity, Init::XavierUniform, &mut rng);
        let net = Network::new(Input::<3>, output, Mse, rng);
        one_sample_path_agrees(net, &data(15, 0.1), &data(65, 0.7));

        // Large layers keep the batch path (the blocked products sum in another order).
        const { assert!(!<Dense<64, 64, Relu> as Backward<f32>>::STACK) };
        const { assert!(<Dense<63, 64, Relu> as Backward<f32>>::STACK) };
    }

    /// A full batch is gathered once per `fit` and kept across epochs until
    /// the validation loss gathers over it: three epochs in one call train
    /// exactly as three calls of one epoch each (each gathers afresh), with
    /// or without validation data in between, and with a validation split.
    #[test]
    fn a_full_batch_is_gathered_once_and_regathered_after_validation() {
        let params = |net: &mut Network<_, _, _, f64>| {
            let mut p = Vec::new();
            net.copy_params(&mut p);
            p.iter().map(|v: &f64| v.to_bits()).collect::<Vec<_>>()
        };
        let y: Vec<f64> = (0..7)
            .flat_map(|r| (0..3).map(move |k| (r % 3 == k) as u8 as f64))
            .collect();
        let (xv, yv) = (data::<f64>(21, 0.3), y);
        let x = ndarray::ArrayView2::from_shape((7, 3), &xv).unwrap();
        let y = ndarray::ArrayView2::from_shape((7, 3), &yv).unwrap();
        // Validation rows as many as the training rows, but other values,
        // so training on them by mistake changes the weights.
        let vxv = data::<f64>(21, 1.9);
        let vx = ndarray::ArrayView2::from_shape((7, 3), &vxv).unwrap();
        let cfg = TrainConfig::new()
            .batch(Batch::Full)
            .optimizer(Sgd::new(0.2).momentum(0.5));

        let mut stepwise = dropout_net(5);
        for _ in 0..3 {
            stepwise.fit(x, y, &cfg.clone().epochs(1)).unwrap();
        }
        let mut at_once = dropout_net(5);
        at_once.fit(x, y, &cfg.clone().epochs(3)).unwrap();
        assert_eq!(params(&mut at_once), params(&mut stepwise));

        let mut validated = dropout_net(5);
        let h = validated
            .fit_with(x, y, &cfg.clone().epochs(3), Some((vx, y)), |_, _| {
                Control::Continue
            })
            .unwrap();
        assert!(h.epochs.iter().all(|e| e.val_loss.is_some()));
        assert_eq!(params(&mut validated), params(&mut stepwise));

        // A validation split: the first 5 rows train, the last 2 validate.
        let split = cfg.clone().validation_split(2.0 / 7.0);
        let mut stepwise = dropout_net(6);
        for _ in 0..3 {
            stepwise
                .fit(
                    x.slice(ndarray::s![..5, ..]),
                    y.slice(ndarray::s![..5, ..]),
                    &split.clone().validation_split(0.0).epochs(1),
                )
                .unwrap();
        }
        let mut at_once = dropout_net(6);
        at_once.fit(x, y, &split.clone().epochs(3)).unwrap();
        assert_eq!(params(&mut at_once), params(&mut stepwise));
    }

    /// 3-9 tanh, dropout 0.3, 9-5 relu, 5-3 softmax with cross-entropy, in
    /// f64, from `seed`.
    #[allow(clippy::type_complexity)]
    fn dropout_net(
        seed: u64,
    ) -> Network<
        crate::Chain<crate::Chain<Dense<3, 9, Tanh, f64>, Dropout<9, f64>>, Dense<9, 5, Relu, f64>>,
        Dense<5, 3, Softmax, f64>,
        CrossEntropy,
        f64,
    > {
        let mut rng = crate::rng(seed);
        let hidden = Dense::<3, 9, Tanh, f64>::new(Tanh, Init::HeNormal, &mut rng)
            .then(Dropout::<9, f64>::new(0.3).unwrap())
            .then(Dense::<9, 5, Relu, f64>::new(
                Relu,
                Init::HeNormal,
                &mut rng,
            ));
        let output = Dense::<5, 3, Softmax, f64>::new(Softmax, Init::XavierNormal, &mut rng);
        Network::new(hidden, output, CrossEntropy, rng)
    }

    /// The statically dispatched visit that the optimiser step uses hands
    /// over the same blocks, in the same order, as `visit_params`: through
    /// dense layers, a dropout layer (the default method) and the output.
    #[test]
    fn both_visits_see_the_same_blocks() {
        use crate::layer::{Param, ParamVisitor};
        type Block = (usize, usize, usize, usize);
        struct Record(Vec<Block>);
        impl ParamVisitor<f64> for Record {
            fn visit(&mut self, p: Param<'_, f64>) {
                let at = |s: &[f64]| s.as_ptr() as usize;
                self.0
                    .push((at(p.value), p.value.len(), at(p.grad), p.weights));
                assert_eq!(p.grad.len(), p.value.len());
            }
        }
        let mut net = dropout_net(4);
        let mut by_dyn = Record(Vec::new());
        net.visit_params(&mut |p| by_dyn.visit(p));
        let mut by_type = Record(Vec::new());
        net.visit_params_with(&mut by_type);
        assert_eq!(by_dyn.0.len(), 3);
        assert_eq!(
            by_dyn.0.iter().map(|b| (b.1, b.3)).collect::<Vec<_>>(),
            [(3 * 9 + 9, 27), (9 * 5 + 5, 45), (5 * 3 + 3, 15)]
        );
        assert_eq!(by_dyn.0, by_type.0);
    }
}
