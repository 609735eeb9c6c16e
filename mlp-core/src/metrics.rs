//! How good a trained network is: the confusion matrix with per-class
//! precision, recall and F1 for classifiers, mean squared error and R^2 for
//! regression. They follow scikit-learn's definitions (`confusion_matrix`,
//! `classification_report`, `mean_squared_error`, `r2_score`).

use crate::dense::check_finite;
use crate::{Error, Float, Result};
use ndarray::{Array2, ArrayView2};
use std::fmt;

/// Counts of (true class, predicted class) pairs: `counts[[t, p]]` samples
/// of class `t` were predicted as `p`.
///
/// ```
/// use mlp_core::metrics::ConfusionMatrix;
/// let truth = [0, 0, 1, 1, 2, 2];
/// let predicted = [0, 1, 1, 1, 2, 0];
/// let cm = ConfusionMatrix::new(&predicted, &truth, 3)?;
/// assert_eq!(cm.counts[[0, 1]], 1);      // one 0 taken for a 1
/// assert_eq!(cm.accuracy(), 4.0 / 6.0);
/// assert_eq!(cm.recall(1), 1.0);         // every 1 was found
/// assert_eq!(cm.precision(1), 2.0 / 3.0); // but a 0 was called 1 too
/// print!("{cm}");                        // the matrix and a per-class report
/// # Ok::<(), mlp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `classes x classes`: rows are true classes, columns predictions.
    pub counts: Array2<usize>,
}

/// Precision, recall and F1 of one class, and how many samples it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Of the samples predicted as this class, the fraction that are:
    /// `tp / (tp + fp)` (0 when nothing was predicted as it).
    pub precision: f64,
    /// Of the samples of this class, the fraction found: `tp / (tp + fn)`.
    pub recall: f64,
    /// The harmonic mean `2 p r / (p + r)` (0 when both are 0).
    pub f1: f64,
    /// Samples of this class (scikit-learn's "support").
    pub support: usize,
}

impl ConfusionMatrix {
    /// Counts `predicted` against the true `labels`, for classes `0..classes`.
    ///
    /// # Errors
    /// [`Error::RowMismatch`] if the lengths differ, [`Error::EmptyData`] if
    /// there are none, [`Error::LabelOutOfRange`] for a class `>= classes`.
    pub fn new(predicted: &[usize], labels: &[usize], classes: usize) -> Result<Self> {
        if predicted.len() != labels.len() {
            return Err(Error::RowMismatch {
                inputs: predicted.len(),
                targets: labels.len(),
            });
        }
        if labels.is_empty() {
            return Err(Error::EmptyData { what: "labels" });
        }
        for list in [labels, predicted] {
            if let Some((index, &label)) = list.iter().enumerate().find(|(_, l)| **l >= classes) {
                return Err(Error::LabelOutOfRange {
                    index,
                    label,
                    classes,
                });
            }
        }
        let mut counts = Array2::zeros((classes, classes));
        for (&p, &t) in predicted.iter().zip(labels) {
            counts[[t, p]] += 1;
        }
        Ok(ConfusionMatrix { counts })
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.counts.nrows()
    }

    /// The number of samples counted.
    pub fn total(&self) -> usize {
        self.counts.sum()
    }

    /// The fraction predicted correctly: the diagonal over the total.
    pub fn accuracy(&self) -> f64 {
        self.counts.diag().sum() as f64 / self.total() as f64
    }

    /// Precision of class `c`: `tp / (tp + fp)`, 0 if nothing was predicted as `c`.
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.counts[[c, c]], self.counts.column(c).sum())
    }

    /// Recall of class `c`: `tp / (tp + fn)`, 0 if `c` has no samples.
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.counts[[c, c]], self.counts.row(c).sum())
    }

    /// F1 of class `c`: `2 p r / (p + r)`, 0 if both are 0.
    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Precision, recall, F1 and support of every class.
    pub fn scores(&self) -> Vec<ClassScores> {
        (0..self.classes())
            .map(|c| ClassScores {
                precision: self.precision(c),
                recall: self.recall(c),
                f1: self.f1(c),
                support: self.counts.row(c).sum(),
            })
            .collect()
    }

    /// The unweighted mean of the classes' F1 scores (scikit-learn's
    /// `f1_score(average="macro")`).
    pub fn macro_f1(&self) -> f64 {
        (0..self.classes()).map(|c| self.f1(c)).sum::<f64>() / self.classes() as f64
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for ConfusionMatrix {
    /// The matrix (rows: true class, columns: predicted class), then
    /// precision, recall, F1 and support per class, as scikit-learn's
    /// `classification_report` lays them out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.classes();
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(k.to_string().len())
            .max(2);
        writeln!(f, "true \\ predicted")?;
        write!(f, "{:>6}", "")?;
        for c in 0..k {
            write!(f, " {c:>width$}")?;
        }
        writeln!(f)?;
        for t in 0..k {
            write!(f, "{t:>6}")?;
            for p in 0..k {
                write!(f, " {:>width$}", self.counts[[t, p]])?;
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>6} {:>9} {:>9} {:>9} {:>9}",
            "class", "precision", "recall", "f1", "support"
        )?;
        for (c, s) in self.scores().iter().enumerate() {
            writeln!(
                f,
                "{c:>6} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                s.precision, s.recall, s.f1, s.support
            )?;
        }
        writeln!(
            f,
            "{:>6} {:>29.4} {:>9}",
            "acc.",
            self.accuracy(),
            self.total()
        )?;
        writeln!(
            f,
            "{:>6} {:>29.4} {:>9}",
            "macro",
            self.macro_f1(),
            self.total()
        )
    }
}

/// Mean squared error over every element, `mean((y_hat - y)^2)` (scikit-learn's
/// `mean_squared_error` with uniform weights). It is *not* the value of the
/// `mse` loss, which halves the squares and sums over the `K` outputs of a
/// sample: for `K` outputs, the `mse` loss is `K/2` times this.
///
/// # Errors
/// [`Error::ShapeMismatch`] or [`Error::RowMismatch`] if the shapes differ,
/// [`Error::EmptyData`] if empty, [`Error::NonFiniteValue`] for NaN or infinity.
pub fn mean_squared_error<F: Float>(
    predicted: ArrayView2<'_, F>,
    target: ArrayView2<'_, F>,
) -> Result<f64> {
    check_pair(predicted, target)?;
    let sum: f64 = predicted
        .iter()
        .zip(target)
        .map(|(p, t)| (p.as_f64() - t.as_f64()).powi(2))
        .sum();
    Ok(sum / predicted.len() as f64)
}

/// The coefficient of determination, `R^2 = 1 - SS_res / SS_tot`, of each
/// output column, averaged over the columns (scikit-learn's `r2_score`,
/// `multioutput="uniform_average"`). 1 is a perfect fit, 0 is no better than
/// predicting each column's mean; it can be negative. A constant target
/// column scores 1 if predicted exactly and 0 otherwise, as in scikit-learn.
///
/// # Errors
/// As [`mean_squared_error`].
pub fn r2_score<F: Float>(predicted: ArrayView2<'_, F>, target: ArrayView2<'_, F>) -> Result<f64> {
    check_pair(predicted, target)?;
    let mut total = 0.0;
    for (p, t) in predicted.columns().into_iter().zip(target.columns()) {
        let mean = t.iter().map(|v| v.as_f64()).sum::<f64>() / t.len() as f64;
        let ss_tot: f64 = t.iter().map(|v| (v.as_f64() - mean).powi(2)).sum();
        let ss_res: f64 = p
            .iter()
            .zip(t)
            .map(|(p, t)| (p.as_f64() - t.as_f64()).powi(2))
            .sum();
        total += match (ss_tot == 0.0, ss_res == 0.0) {
            (_, true) => 1.0,
            (true, false) => 0.0,
            (false, false) => 1.0 - ss_res / ss_tot,
        };
    }
    Ok(total / predicted.ncols() as f64)
}

fn check_pair<F: Float>(predicted: ArrayView2<'_, F>, target: ArrayView2<'_, F>) -> Result<()> {
    crate::dense::check_shape("target columns", predicted.ncols(), target.ncols())?;
    if predicted.nrows() != target.nrows() {
        return Err(Error::RowMismatch {
            inputs: predicted.nrows(),
            targets: target.nrows(),
        });
    }
    if predicted.is_empty() {
        return Err(Error::EmptyData {
            what: "predictions",
        });
    }
    check_finite("predictions", predicted)?;
    check_finite("targets", target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// A case worked by hand: 10 samples of 3 classes.
    ///
    /// true 0: predicted 0, 0, 0, 1    (tp0 = 3, fn0 = 1)
    /// true 1: predicted 1, 1, 2       (tp1 = 2, fn1 = 1)
    /// true 2: predicted 2, 2, 0       (tp2 = 2, fn2 = 1)
    /// Column sums (predicted): 0 -> 4, 1 -> 3, 2 -> 3.
    /// precision = 3/4, 2/3, 2/3; recall = 3/4, 2/3, 2/3; f1 equal to both;
    /// accuracy 7/10.
    #[test]
    fn a_hand_computed_confusion_matrix() {
        let truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
        let pred = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0];
        let cm = ConfusionMatrix::new(&pred, &truth, 3).unwrap();
        assert_eq!(cm.counts, array![[3, 1, 0], [0, 2, 1], [1, 0, 2]]);
        assert_eq!(cm.accuracy(), 0.7);
        assert_eq!(
            (cm.precision(0), cm.recall(0), cm.f1(0)),
            (0.75, 0.75, 0.75)
        );
        assert!((cm.precision(2) - 2.0 / 3.0).abs() < 1e-15);
        assert!((cm.macro_f1() - (0.75 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        assert_eq!(cm.scores()[1].support, 3);
        let table = cm.to_string();
        assert!(table.contains("     0  3  1  0\n"), "{table}");
        assert!(
            table.contains("     0    0.7500    0.7500    0.7500         4"),
            "{table}"
        );
        // A class never predicted has precision 0, not NaN.
        let cm = ConfusionMatrix::new(&[0, 0], &[0, 1], 2).unwrap();
        assert_eq!((cm.precision(1), cm.recall(1), cm.f1(1)), (0.0, 0.0, 0.0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            ConfusionMatrix::new(&[0], &[0, 1], 2),
            Err(Error::RowMismatch { .. })
        ));
        assert!(matches!(
            ConfusionMatrix::new(&[], &[], 2),
            Err(Error::EmptyData { .. })
        ));
        assert!(matches!(
            ConfusionMatrix::new(&[0, 3], &[0, 1], 2),
            Err(Error::LabelOutOfRange {
                index: 1,
                label: 3,
                ..
            })
        ));
        let a = array![[1.0f64]];
        assert!(mean_squared_error(a.view(), array![[1.0, 2.0]].view()).is_err());
        assert!(r2_score(a.view(), array![[f64::NAN]].view()).is_err());
    }

    /// By hand: predictions [1, 2, 3] for [1, 2, 5] give squared errors
    /// 0, 0, 4, so the MSE is 4/3; the targets' mean is 8/3, SS_tot =
    /// (25 + 4 + 49) / 9 = 26/3, SS_res = 4, R^2 = 1 - 12/26 = 7/13. The
    /// `mse` loss on this 1-output data is half the MSE.
    #[test]
    fn regression_metrics_by_hand() {
        let p = array![[1.0], [2.0], [3.0]];
        let t = array![[1.0], [2.0], [5.0]];
        assert!((mean_squared_error(p.view(), t.view()).unwrap() - 4.0 / 3.0).abs() < 1e-15);
        assert!((r2_score(p.view(), t.view()).unwrap() - 7.0 / 13.0).abs() < 1e-15);
        // Two columns average; a constant column predicted exactly scores 1.
        let p = array![[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]];
        let t = array![[1.0, 7.0], [2.0, 7.0], [5.0, 7.0]];
        assert!((r2_score(p.view(), t.view()).unwrap() - (7.0 / 13.0 + 1.0) / 2.0).abs() < 1e-15);
    }
}
