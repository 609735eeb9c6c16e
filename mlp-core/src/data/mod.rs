//! Data helpers: one-hot targets, class predictions, splits, scaling, and
//! readers for the reference data sets.
//!
//! ```
//! use mlp_core::data::{accuracy, classes, one_hot, split, Standardizer};
//! use ndarray::array;
//!
//! let y = one_hot::<f32>(&[2, 0, 1], 3)?;                 // targets for softmax
//! assert_eq!(y.row(0).to_vec(), [0.0, 0.0, 1.0]);
//! let outputs = array![[0.1f32, 0.2, 0.7], [0.8, 0.1, 0.1], [0.3, 0.4, 0.3]];
//! assert_eq!(classes(outputs.view()), [2, 0, 1]);        // arg-max per row
//! assert_eq!(accuracy(&[2, 0, 1], &[2, 0, 0])?, 2.0 / 3.0);
//! let (train, test) = split(10, 0.3, &mut mlp_core::rng(0))?;
//! assert_eq!((train.len(), test.len()), (7, 3));
//! let x = array![[1.0, 10.0], [3.0, 30.0]];
//! let scale = Standardizer::fit(x.view())?;              // fit on training data only
//! assert_eq!(scale.transform(x.view())?, array![[-1.0, -1.0], [1.0, 1.0]]);
//! # Ok::<(), mlp_core::Error>(())
//! ```

mod dataset;
pub mod mnist;

pub use dataset::{Dataset, binary_targets};

use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;

/// One-hot rows for class labels: row `i` has a 1 in column `labels[i]`.
///
/// # Errors
/// [`Error::LabelOutOfRange`] for a label `>= classes`;
/// [`Error::EmptyData`] for no labels; [`Error::InvalidConfig`] if the
/// `labels.len() x classes` matrix cannot be allocated.
pub fn one_hot<F: Float>(labels: &[usize], classes: usize) -> Result<Array2<F>> {
    if labels.is_empty() {
        return Err(Error::EmptyData { what: "labels" });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(Error::LabelOutOfRange {
            index,
            label,
            classes,
        });
    }
    let mut y = zeros_checked((labels.len(), classes))?;
    for (index, &label) in labels.iter().enumerate() {
        y[[index, label]] = F::one();
    }
    Ok(y)
}

/// An `rows x cols` matrix of zeros, or an error (not an abort) when the
/// size overflows or the memory is not there.
pub(crate) fn zeros_checked<F: Float>((rows, cols): (usize, usize)) -> Result<Array2<F>> {
    let too_big = || {
        Error::InvalidConfig(format!(
            "a {rows} x {cols} matrix of {} does not fit in memory",
            F::NAME
        ))
    };
    let len = rows.checked_mul(cols).ok_or_else(too_big)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_big())?;
    v.resize(len, F::zero());
    Ok(Array2::from_shape_vec((rows, cols), v).expect("rows x cols values"))
}

/// The predicted class of each row: the arg-max for several outputs, or
/// `h > 0.5` for a single (sigmoid) output.
pub fn classes<F: Float>(outputs: ArrayView2<'_, F>) -> Vec<usize> {
    outputs
        .rows()
        .into_iter()
        .map(|row| {
            if row.len() == 1 {
                (row[0] > F::from_f64(0.5)) as usize
            } else {
                row.iter()
                    .enumerate()
                    .fold((0, F::neg_infinity()), |best, (i, &v)| {
                        if v > best.1 { (i, v) } else { best }
                    })
                    .0
            }
        })
        .collect()
}

/// The fraction of predictions equal to the labels.
///
/// # Errors
/// [`Error::RowMismatch`] if the lengths differ, [`Error::EmptyData`] if empty.
pub fn accuracy(predicted: &[usize], labels: &[usize]) -> Result<f64> {
    if predicted.len() != labels.len() {
        return Err(Error::RowMismatch {
            inputs: predicted.len(),
            targets: labels.len(),
        });
    }
    if labels.is_empty() {
        return Err(Error::EmptyData { what: "labels" });
    }
    Ok(predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len() as f64)
}

/// Row indices for a stratified train/test split: each class keeps its share
/// in both parts. Shuffled from `rng`; returns `(train, test)`.
///
/// As scikit-learn's `train_test_split(..., stratify=labels)`, the test part
/// has `ceil(test_fraction * n)` rows, shared among the classes in
/// proportion to their sizes (the rows left over after rounding down go to
/// the classes with the largest remainders, ties to the smaller label).
///
/// # Errors
/// [`Error::InvalidConfig`] unless `0 < test_fraction < 1` and both parts
/// get at least one row; [`Error::EmptyData`] for no labels.
pub fn stratified_split<R: rand::Rng + ?Sized>(
    labels: &[usize],
    test_fraction: f64,
    rng: &mut R,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_test = split_size(labels.len(), test_fraction)?;
    // The rows of each class present, in increasing order of label (a
    // label of 10^11 is one more class, not 10^11 empty ones).
    let mut by_class = std::collections::BTreeMap::<usize, Vec<usize>>::new();
    for (i, &label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(i);
    }
    // Each class's share of the test rows: floors, then largest remainders.
    let n = labels.len() as f64;
    let quotas: Vec<f64> = by_class
        .values()
        .map(|r| n_test as f64 * r.len() as f64 / n)
        .collect();
    let mut shares: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        (quotas[b] - quotas[b].floor()).total_cmp(&(quotas[a] - quotas[a].floor()))
    });
    let missing = n_test - shares.iter().sum::<usize>();
    for &k in order.iter().take(missing) {
        shares[k] += 1;
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (mut rows, share) in by_class.into_values().zip(shares) {
        rows.shuffle(rng);
        test.extend_from_slice(&rows[..share]);
        train.extend_from_slice(&rows[share..]);
    }
    train.shuffle(rng);
    test.shuffle(rng);
    Ok((train, test))
}

/// Row indices for a plain (unstratified) shuffled train/test split of `n`
/// rows, with `ceil(test_fraction * n)` test rows; returns `(train, test)`.
///
/// # Errors
/// As [`stratified_split`].
pub fn split<R: rand::Rng + ?Sized>(
    n: usize,
    test_fraction: f64,
    rng: &mut R,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_test = split_size(n, test_fraction)?;
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(rng);
    let train = rows.split_off(n_test);
    Ok((train, rows))
}

/// The number of test rows, `ceil(test_fraction * n)`, if both parts get one.
fn split_size(n: usize, test_fraction: f64) -> Result<usize> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::InvalidConfig(format!(
            "test fraction must be in (0, 1), got {test_fraction}"
        )));
    }
    if n == 0 {
        return Err(Error::EmptyData { what: "labels" });
    }
    let n_test = (test_fraction * n as f64).ceil() as usize;
    if n_test >= n {
        return Err(Error::InvalidConfig(format!(
            "a test fraction of {test_fraction} of {n} rows leaves none for training"
        )));
    }
    Ok(n_test)
}

/// Per-column standardisation `(x - mean) / std`, fitted on training data and
/// applied unchanged to test data (scikit-learn's `StandardScaler`).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer<F: Float> {
    /// Column means.
    pub mean: Array1<F>,
    /// Column standard deviations (1 where a column is constant).
    pub std: Array1<F>,
}

impl<F: Float> Standardizer<F> {
    /// Fits means and standard deviations column by column.
    ///
    /// # Errors
    /// [`Error::EmptyData`] for no rows.
    pub fn fit(x: ArrayView2<'_, F>) -> Result<Self> {
        if x.nrows() == 0 {
            return Err(Error::EmptyData { what: "inputs" });
        }
        let n = F::from_f64(x.nrows() as f64);
        let mean = x.sum_axis(Axis(0)) / n;
        let var = (&x - &mean).mapv(|d| d * d).sum_axis(Axis(0)) / n;
        let std = var.mapv(|v| if v > F::zero() { v.sqrt() } else { F::one() });
        Ok(Standardizer { mean, std })
    }

    /// Applies the fitted scaling.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the column count differs from the fit.
    pub fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        crate::dense::check_shape("input columns", self.mean.len(), x.ncols())?;
        Ok((&x - &self.mean) / &self.std)
    }
}
