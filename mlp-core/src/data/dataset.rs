//! A labelled data set read from CSV: features, integer class labels, and
//! the splits and targets training needs.

use crate::{Error, Float, Result};
use ndarray::{Array2, Axis};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Samples (one per row of `x`) with a class label each, as read from a CSV
/// file whose last column is an integer label (the layout of scikit-learn's
/// bundled data sets and of the files in the project's `data/` folder).
///
/// ```
/// use mlp_core::data::Dataset;
/// let iris = Dataset::<f32>::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv"))?;
/// assert_eq!((iris.len(), iris.x.ncols(), iris.classes()), (150, 4, 3));
/// let (train, test) = iris.split(0.2, &mut mlp_core::rng(0))?;
/// assert_eq!((train.len(), test.len()), (120, 30));
/// let y = train.one_hot()?;                 // 120 x 3, for softmax + cross_entropy
/// # assert_eq!(y.dim(), (120, 3));
/// # Ok::<(), mlp_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<F: Float> {
    /// The features, one sample per row.
    pub x: Array2<F>,
    /// The class of each sample, `0..classes()`.
    pub labels: Vec<usize>,
    /// The feature names from the header.
    pub features: Vec<String>,
}

impl<F: Float> Dataset<F> {
    /// A data set from its parts.
    ///
    /// # Errors
    /// [`Error::RowMismatch`] if `x` and `labels` differ in length,
    /// [`Error::ShapeMismatch`] if `features` is not one name per column,
    /// [`Error::NonFiniteValue`] for NaN or infinite features.
    pub fn new(x: Array2<F>, labels: Vec<usize>, features: Vec<String>) -> Result<Self> {
        if x.nrows() != labels.len() {
            return Err(Error::RowMismatch {
                inputs: x.nrows(),
                targets: labels.len(),
            });
        }
        crate::dense::check_shape("feature names", x.ncols(), features.len())?;
        crate::dense::check_finite("features", x.view())?;
        Ok(Dataset {
            x,
            labels,
            features,
        })
    }

    /// Reads a CSV file (gzipped if it starts with the gzip magic bytes):
    /// a header row of names, then one sample per line, every column a
    /// number and the last one the integer class label.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened or read;
    /// [`Error::BadFile`] naming the line (and column) of the first problem:
    /// a missing header, a row of the wrong length, a field that is not a
    /// finite number, a label that is not a non-negative integer, no rows,
    /// corrupt gzip data.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| Error::BadFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut reader = BufReader::new(file);
        let gzipped = reader
            .fill_buf()
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?
            .starts_with(&[0x1f, 0x8b]);
        if gzipped {
            Self::from_reader(flate2::bufread::MultiGzDecoder::new(reader)).map_err(bad)
        } else {
            Self::from_reader(reader).map_err(bad)
        }
    }

    /// Parses CSV text in the layout of [`read_csv`](Self::read_csv) from
    /// any reader (plain text; gzip is handled by `read_csv`).
    ///
    /// # Errors
    /// What is wrong, naming the line and column.
    pub fn from_reader(reader: impl Read) -> std::result::Result<Self, String> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let header = csv.headers().map_err(|e| csv_error(&e))?.clone();
        if header.len() < 2 {
            return Err(format!(
                "line 1: the header names {} column(s); expected the features, then a label",
                header.len()
            ));
        }
        let width = header.len() - 1;
        let features: Vec<String> = header.iter().take(width).map(str::to_string).collect();
        let mut values = Vec::new();
        let mut labels = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_error(&e)),
            }
            let line = record.position().map_or(0, |p| p.line());
            for (j, field) in record.iter().take(width).enumerate() {
                let v: f64 = field
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "line {line}, column {} ({}): {field:?} is not a finite number",
                            j + 1,
                            features[j]
                        )
                    })?;
                values.push(F::from_f64(v));
            }
            let field = &record[width];
            let label = field.parse::<usize>().map_err(|_| {
                format!(
                    "line {line}, column {} ({}): the label {field:?} is not a non-negative integer",
                    width + 1,
                    header.get(width).unwrap_or("label")
                )
            })?;
            labels.push(label);
        }
        if labels.is_empty() {
            return Err("the file has a header but no rows".to_string());
        }
        let x = Array2::from_shape_vec((labels.len(), width), values).expect("rows x features");
        Ok(Dataset {
            x,
            labels,
            features,
        })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of classes: the largest label plus one.
    pub fn classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |&m| m + 1)
    }

    /// The samples `rows`, in that order.
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`] naming the first row index that is not
    /// below [`len`](Self::len) (as "label" the index, as "classes" the length).
    pub fn select(&self, rows: &[usize]) -> Result<Self> {
        if let Some((index, &row)) = rows.iter().enumerate().find(|(_, r)| **r >= self.len()) {
            return Err(Error::LabelOutOfRange {
                index,
                label: row,
                classes: self.len(),
            });
        }
        Ok(Dataset {
            x: self.x.select(Axis(0), rows),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
            features: self.features.clone(),
        })
    }

    /// A stratified train/test split, shuffled from `rng`: each class keeps
    /// its share in both parts (scikit-learn's `train_test_split(...,
    /// stratify=y)`). Returns `(train, test)`.
    ///
    /// # Errors
    /// As [`stratified_split`](super::stratified_split).
    pub fn split<R: rand::Rng + ?Sized>(
        &self,
        test_fraction: f64,
        rng: &mut R,
    ) -> Result<(Self, Self)> {
        let (train, test) = super::stratified_split(&self.labels, test_fraction, rng)?;
        Ok((self.select(&train)?, self.select(&test)?))
    }

    /// The labels one-hot encoded, `len() x classes()`, for a softmax output
    /// with `cross_entropy`.
    ///
    /// # Errors
    /// As [`one_hot`](super::one_hot).
    pub fn one_hot(&self) -> Result<Array2<F>> {
        super::one_hot(&self.labels, self.classes())
    }

    /// The labels as one column of `0`s and `1`s, `len() x 1`, for a single
    /// sigmoid output with `bce`.
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`] for a label above 1.
    pub fn binary_targets(&self) -> Result<Array2<F>> {
        binary_targets(&self.labels)
    }
}

/// Labels `0` and `1` as an `n x 1` column of floats, the target shape of a
/// single sigmoid output with `bce`.
///
/// # Errors
/// [`Error::LabelOutOfRange`] for a label above 1; [`Error::EmptyData`] for none.
pub fn binary_targets<F: Float>(labels: &[usize]) -> Result<Array2<F>> {
    if labels.is_empty() {
        return Err(Error::EmptyData { what: "labels" });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 1) {
        return Err(Error::LabelOutOfRange {
            index,
            label,
            classes: 2,
        });
    }
    Ok(Array2::from_shape_fn((labels.len(), 1), |(i, _)| {
        F::from_f64(labels[i] as f64)
    }))
}

/// A csv error in words, with its line.
fn csv_error(e: &csv::Error) -> String {
    let line = e
        .position()
        .map(|p| format!("line {}: ", p.line()))
        .unwrap_or_default();
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{line}{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => format!("{line}the text is not valid UTF-8"),
        csv::ErrorKind::Io(io) => format!("{line}cannot read it: {io}"),
        _ => format!("{line}{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Dataset<f64>, String> {
        Dataset::from_reader(text.as_bytes())
    }

    #[test]
    fn reads_features_and_labels() {
        let d = parse("a,b,label\n1,2,0\n 3.5 ,-4e-1,2\n").unwrap();
        assert_eq!(d.features, ["a", "b"]);
        assert_eq!(d.x, ndarray::array![[1.0, 2.0], [3.5, -0.4]]);
        assert_eq!((d.labels.clone(), d.classes()), (vec![0, 2], 3));
        assert_eq!(d.one_hot().unwrap().row(1).to_vec(), [0.0, 0.0, 1.0]);
        assert!(d.binary_targets().is_err());
    }

    #[test]
    fn errors_name_the_line_and_column() {
        for (text, words) in [
            (
                "a,b,label\n1,2,0\n1,x,1\n",
                "line 3, column 2 (b): \"x\" is not a finite number",
            ),
            (
                "a,b,label\n1,2,0\n1,2\n",
                "line 3: 2 fields where the header has 3",
            ),
            (
                "a,b,label\n1,nan,0\n",
                "line 2, column 2 (b): \"nan\" is not a finite number",
            ),
            (
                "a,b,label\n1,2,-1\n",
                "line 2, column 3 (label): the label \"-1\" is not a non-negative integer",
            ),
            ("a,b,label\n1,2,1.5\n", "the label \"1.5\""),
            ("a,b,label\n", "a header but no rows"),
            ("", "the header names 0 column(s)"),
            ("label\n1\n", "the header names 1 column(s)"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(words), "{text:?}: {err}");
        }
        let err = Dataset::<f32>::from_reader(&b"a,label\n\xff,1\n"[..]).unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn select_and_split_keep_rows_together() {
        let text: String = std::iter::once("v,label\n".to_string())
            .chain((0..20).map(|i| format!("{i},{}\n", i % 2)))
            .collect();
        let d = parse(&text).unwrap();
        let (train, test) = d.split(0.25, &mut crate::rng(3)).unwrap();
        // ceil(0.25 * 20) = 5 test rows; the two classes' quotas of 2.5
        // are rounded down and the row left over goes to class 0.
        assert_eq!((train.len(), test.len()), (15, 5));
        for part in [&train, &test] {
            for (row, &label) in part.x.column(0).iter().zip(&part.labels) {
                assert_eq!(*row as usize % 2, label, "a row kept its label");
            }
        }
        assert_eq!(
            test.labels.iter().filter(|&&l| l == 0).count(),
            3,
            "stratified"
        );
        assert!(matches!(
            d.select(&[0, 20]),
            Err(Error::LabelOutOfRange {
                index: 1,
                label: 20,
                ..
            })
        ));
    }
}
