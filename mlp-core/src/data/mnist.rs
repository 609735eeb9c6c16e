//! Reading MNIST (LeCun, Cortes & Burges) from its original IDX files.
//!
//! The four files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
//! gzipped as distributed) go in one folder. MNIST is not shipped with `mlp`;
//! download the four files from a mirror of the original site and pass their
//! folder to [`load`].

use crate::{Error, Float, Result};
use ndarray::Array2;
use std::io::Read;
use std::path::{Path, PathBuf};

/// MNIST, with pixels scaled to `[0, 1]` (one image of 28 x 28 = 784 values
/// per row) and labels `0..=9`.
#[derive(Debug, Clone)]
pub struct Mnist<F: Float> {
    /// 60 000 training images, `60000 x 784`.
    pub train_x: Array2<F>,
    /// Their labels.
    pub train_labels: Vec<usize>,
    /// 10 000 test images, `10000 x 784`.
    pub test_x: Array2<F>,
    /// Their labels.
    pub test_labels: Vec<usize>,
}

/// Loads the four MNIST files from `dir` (plain or `.gz`).
///
/// # Errors
/// [`Error::Io`] naming the file that is missing or unreadable, and
/// [`Error::BadFile`] for a wrong magic number, wrong image size, truncated
/// data, a label above 9, or image and label counts that differ.
pub fn load<F: Float>(dir: impl AsRef<Path>) -> Result<Mnist<F>> {
    let dir = dir.as_ref();
    let (train_x, train_labels) = pair(dir, "train")?;
    let (test_x, test_labels) = pair(dir, "t10k")?;
    Ok(Mnist {
        train_x,
        train_labels,
        test_x,
        test_labels,
    })
}

fn pair<F: Float>(dir: &Path, split: &str) -> Result<(Array2<F>, Vec<usize>)> {
    let (images_path, images) = read(dir, &format!("{split}-images-idx3-ubyte"))?;
    let (labels_path, labels) = read(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let x = images_from_idx(&images).map_err(|reason| Error::BadFile {
        path: images_path.clone(),
        reason,
    })?;
    let y = labels_from_idx(&labels).map_err(|reason| Error::BadFile {
        path: labels_path,
        reason,
    })?;
    if x.nrows() != y.len() {
        return Err(Error::BadFile {
            path: images_path,
            reason: format!("{} images but {} labels", x.nrows(), y.len()),
        });
    }
    Ok((x, y))
}

/// Reads `name` or `name.gz` from `dir`, decompressing as needed.
fn read(dir: &Path, name: &str) -> Result<(PathBuf, Vec<u8>)> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    let path = if plain.exists() { plain } else { gz };
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let raw = std::fs::read(&path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Ok((path, bytes))
    } else {
        Ok((path, raw))
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Result<usize, String> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| "the header is truncated".to_string())
}

/// Parses an IDX image file (magic 0x00000803, unsigned bytes, 3 dimensions).
pub(crate) fn images_from_idx<F: Float>(bytes: &[u8]) -> Result<Array2<F>, String> {
    let magic = be_u32(bytes, 0)?;
    if magic != 0x0803 {
        return Err(format!(
            "magic number {magic:#010x}, expected 0x00000803 (IDX images of unsigned bytes)"
        ));
    }
    let (n, rows, cols) = (be_u32(bytes, 4)?, be_u32(bytes, 8)?, be_u32(bytes, 12)?);
    if (rows, cols) != (28, 28) {
        return Err(format!("images are {rows} x {cols}, expected 28 x 28"));
    }
    let pixels = &bytes[16..];
    if pixels.len() != n * 784 {
        return Err(format!(
            "{} pixel bytes for {n} images, expected {}",
            pixels.len(),
            n * 784
        ));
    }
    let scale = F::from_f64(1.0 / 255.0);
    Ok(Array2::from_shape_fn((n, 784), |(i, j)| {
        F::from_f64(f64::from(pixels[i * 784 + j])) * scale
    }))
}

/// Parses an IDX label file (magic 0x00000801, unsigned bytes, 1 dimension).
pub(crate) fn labels_from_idx(bytes: &[u8]) -> Result<Vec<usize>, String> {
    let magic = be_u32(bytes, 0)?;
    if magic != 0x0801 {
        return Err(format!(
            "magic number {magic:#010x}, expected 0x00000801 (IDX labels of unsigned bytes)"
        ));
    }
    let n = be_u32(bytes, 4)?;
    let labels = &bytes[8..];
    if labels.len() != n {
        return Err(format!("{} label bytes, expected {n}", labels.len()));
    }
    if let Some(at) = labels.iter().position(|&l| l > 9) {
        return Err(format!(
            "label {} at position {at} is not a digit",
            labels[at]
        ));
    }
    Ok(labels.iter().map(|&l| usize::from(l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_images(n: u32, rows: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 3];
        for d in [n, rows, 28] {
            v.extend(d.to_be_bytes());
        }
        v.extend(pixels);
        v
    }

    #[test]
    fn parses_and_rejects_idx() {
        let img = idx_images(1, 28, &[255; 784]);
        let x = images_from_idx::<f32>(&img).unwrap();
        assert_eq!(x.dim(), (1, 784));
        assert_eq!(x[[0, 0]], 1.0);
        assert!(
            images_from_idx::<f32>(&img[..100])
                .unwrap_err()
                .contains("pixel bytes")
        );
        assert!(
            images_from_idx::<f32>(&idx_images(1, 27, &[0; 756]))
                .unwrap_err()
                .contains("27 x 28")
        );
        assert!(
            images_from_idx::<f32>(&[0, 0, 8])
                .unwrap_err()
                .contains("truncated")
        );
        let labels = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9];
        assert_eq!(labels_from_idx(&labels).unwrap(), vec![7, 2, 9]);
        assert!(
            labels_from_idx(&[0, 0, 8, 1, 0, 0, 0, 1, 12])
                .unwrap_err()
                .contains("not a digit")
        );
        assert!(labels_from_idx(&img).unwrap_err().contains("magic"));
    }

    #[test]
    fn missing_folder_names_the_file() {
        let err = load::<f32>("/nonexistent/mnist").unwrap_err();
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    }
}
