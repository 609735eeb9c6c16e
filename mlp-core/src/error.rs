//! The one error type of the engine.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong when data meets a network.
///
/// ```
/// use mlp_core::prelude::*;
/// use ndarray::Array2;
///
/// let mut rng = mlp_core::rng(0);
/// let hidden = Dense::<2, 4, _>::new(Tanh, Init::XavierNormal, &mut rng);
/// let output = Dense::<4, 1, _>::new(Sigmoid, Init::XavierNormal, &mut rng);
/// let mut net = Network::new(hidden, output, Bce, rng);
/// let three_columns = Array2::<f32>::zeros((5, 3));
/// let err = net.fit(three_columns.view(), Array2::zeros((5, 1)).view(), &TrainConfig::new())
///     .unwrap_err();
/// assert!(matches!(err, Error::ShapeMismatch { expected: 2, got: 3, .. }));
/// assert_eq!(err.to_string(), "shape mismatch in input columns: the network expects 2, got 3");
/// ```
///
/// Every variant carries what a user needs to fix the call: the expected and
/// actual sizes, the row and column of a bad value, the epoch at which
/// training diverged. No variant is produced by a bug in the engine: those
/// are panics, and tests keep them out.
#[non_exhaustive]
pub enum Error {
    /// An array has the wrong number of columns (or elements) for the network.
    ShapeMismatch {
        /// What was being checked, e.g. `"input columns"`.
        what: &'static str,
        /// The size the network needs.
        expected: usize,
        /// The size that was passed.
        got: usize,
    },
    /// Two arrays that must pair row for row have different row counts.
    RowMismatch {
        /// Rows of the inputs.
        inputs: usize,
        /// Rows of the targets.
        targets: usize,
    },
    /// There is nothing to train on or evaluate.
    EmptyData {
        /// What was empty, e.g. `"training inputs"`.
        what: &'static str,
    },
    /// An input or target holds NaN or an infinity.
    NonFiniteValue {
        /// Which array, e.g. `"inputs"`.
        what: &'static str,
        /// Row of the first bad value.
        row: usize,
        /// Column of the first bad value.
        col: usize,
    },
    /// A target lies outside what the loss accepts (e.g. a BCE target of 2).
    InvalidTarget {
        /// Row of the first bad target.
        row: usize,
        /// Why it is invalid.
        reason: String,
    },
    /// A class label is not below the number of classes.
    LabelOutOfRange {
        /// Position of the label.
        index: usize,
        /// The label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// The loss or a gradient became NaN or infinite during training.
    ///
    /// Training stops before applying the step that would have corrupted the
    /// network, so the weights are those of the last finite step.
    NonFiniteLoss {
        /// The epoch (from 1, counted as in [`History`](crate::History)) in
        /// which it happened.
        epoch: usize,
        /// The update step within that epoch (from 1).
        step: usize,
        /// The epochs that finished before it (empty where there is no
        /// history, as for the single-layer rules).
        history: Box<crate::History>,
    },
    /// Parameters given to a network (or found in it) do not fit it: the
    /// wrong number of layers, a weight matrix of the wrong shape, a NaN.
    InvalidParameters {
        /// The dense layer, counting from 0 (the number of layers when the
        /// count is wrong).
        layer: usize,
        /// What does not fit.
        reason: String,
    },
    /// A hyper-parameter is out of its range (a batch size of 0, a negative
    /// learning rate, a validation fraction of 1.5, ...).
    InvalidConfig(String),
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file was read but its contents do not fit (bad header, wrong tensor
    /// names or shapes, truncated data).
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "shape mismatch in {what}: the network expects {expected}, got {got}"
            ),
            Error::RowMismatch { inputs, targets } => write!(
                f,
                "inputs have {inputs} rows but targets have {targets}; \
                 each input row needs exactly one target row"
            ),
            Error::EmptyData { what } => write!(f, "{what} are empty: need at least one row"),
            Error::NonFiniteValue { what, row, col } => write!(
                f,
                "{what} contain NaN or infinity at row {row}, column {col}; \
                 clean or impute the data before training"
            ),
            Error::InvalidTarget { row, reason } => {
                write!(f, "invalid target in row {row}: {reason}")
            }
            Error::LabelOutOfRange {
                index,
                label,
                classes,
            } => write!(
                f,
                "label {label} at position {index} is out of range: \
                 there are {classes} classes, so labels must be 0..={}",
                classes.saturating_sub(1)
            ),
            Error::NonFiniteLoss { epoch, step, .. } => write!(
                f,
                "training diverged: the loss or a gradient became NaN or infinite \
                 in epoch {epoch}, step {step}; the network keeps the weights of \
                 the last finite step. Try a smaller learning rate, gradient \
                 clipping, or standardised inputs"
            ),
            Error::InvalidParameters { layer, reason } => {
                write!(f, "invalid parameters for dense layer {layer}: {reason}")
            }
            Error::InvalidConfig(msg) => write!(f, "invalid configuration: {msg}"),
            Error::Io { path, source } => write!(f, "cannot access {}: {source}", path.display()),
            Error::BadFile { path, reason } => {
                write!(f, "{} does not fit: {reason}", path.display())
            }
        }
    }
}

/// Prints the [`Display`](fmt::Display) text, so that `main` returning
/// `Result<(), mlp::Error>` shows a message a user can act on
/// (`Error: training diverged: ...`) instead of a struct dump. The
/// alternate form `{:#?}` shows the variant and its fields.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(self, f);
        }
        match self {
            Error::ShapeMismatch {
                what,
                expected,
                got,
            } => f
                .debug_struct("ShapeMismatch")
                .field("what", what)
                .field("expected", expected)
                .field("got", got)
                .finish(),
            Error::RowMismatch { inputs, targets } => f
                .debug_struct("RowMismatch")
                .field("inputs", inputs)
                .field("targets", targets)
                .finish(),
            Error::EmptyData { what } => f.debug_struct("EmptyData").field("what", what).finish(),
            Error::NonFiniteValue { what, row, col } => f
                .debug_struct("NonFiniteValue")
                .field("what", what)
                .field("row", row)
                .field("col", col)
                .finish(),
            Error::InvalidTarget { row, reason } => f
                .debug_struct("InvalidTarget")
                .field("row", row)
                .field("reason", reason)
                .finish(),
            Error::LabelOutOfRange {
                index,
                label,
                classes,
            } => f
                .debug_struct("LabelOutOfRange")
                .field("index", index)
                .field("label", label)
                .field("classes", classes)
                .finish(),
            Error::NonFiniteLoss {
                epoch,
                step,
                history,
            } => f
                .debug_struct("NonFiniteLoss")
                .field("epoch", epoch)
                .field("step", step)
                .field("finished_epochs", &history.epochs.len())
                .finish(),
            Error::InvalidParameters { layer, reason } => f
                .debug_struct("InvalidParameters")
                .field("layer", layer)
                .field("reason", reason)
                .finish(),
            Error::InvalidConfig(m) => f.debug_tuple("InvalidConfig").field(m).finish(),
            Error::Io { path, source } => f
                .debug_struct("Io")
                .field("path", path)
                .field("source", source)
                .finish(),
            Error::BadFile { path, reason } => f
                .debug_struct("BadFile")
                .field("path", path)
                .field("reason", reason)
                .finish(),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
