//! Data helpers: one-hot targets, class predictions, splits, scaling, and
//! readers for the reference data sets.

pub mod mnist;

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
/// # Errors
/// [`Error::InvalidConfig`] unless `0 < test_fraction < 1`;
/// [`Error::EmptyData`] for no labels.
pub fn stratified_split<R: rand::Rng + ?Sized>(
    labels: &[usize],
    test_fraction: f64,
    rng: &mut R,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::InvalidConfig(format!(
            "test fraction must be in (0, 1), got {test_fraction}"
        )));
    }
    if labels.is_empty() {
        return Err(Error::EmptyData { what: "labels" });
    }
    // The rows of each class present, in increasing order of label (a
    // label of 10^11 is one more class, not 10^11 empty ones).
    let mut by_class = std::collections::BTreeMap::<usize, Vec<usize>>::new();
    for (i, &label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(i);
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut rows in by_class.into_values() {
        rows.shuffle(rng);
        let n_test = (rows.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.shuffle(rng);
    test.shuffle(rng);
    Ok((train, test))
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
