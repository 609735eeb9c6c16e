//! Reading MNIST (LeCun, Cortes & Burges) from its original IDX files.
//!
//! The four files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
//! gzipped as distributed) go in one folder. MNIST is not shipped with `mlp`;
//! download the four files from a mirror of the original site and pass their
//! folder to [`load`].

use crate::{Error, Float, Result};
use ndarray::Array2;
use std::io::{BufRead, BufReader, Read};
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
    let images_path = file(dir, &format!("{split}-images-idx3-ubyte"));
    let x = read_images(&images_path)?;
    let y = read_labels(file(dir, &format!("{split}-labels-idx1-ubyte")))?;
    if x.nrows() != y.len() {
        return Err(Error::BadFile {
            path: images_path,
            reason: format!("{} images but {} labels", x.nrows(), y.len()),
        });
    }
    Ok((x, y))
}

/// `dir/name` if it exists, else `dir/name.gz`.
fn file(dir: &Path, name: &str) -> PathBuf {
    let plain = dir.join(name);
    if plain.exists() {
        plain
    } else {
        dir.join(format!("{name}.gz"))
    }
}

/// Reads one IDX image file (magic `0x00000803`: unsigned bytes, `n x 28 x 28`),
/// plain or gzipped, with pixels scaled to `[0, 1]`. Also reads files of the
/// same format under other names (Fashion-MNIST, KMNIST).
///
/// The header is read first, from the stream; the pixels are then read as
/// they arrive, so memory follows what the file really holds, not what its
/// header claims.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or read, [`Error::BadFile`] for
/// a wrong magic number or image size, truncated or trailing data, or a
/// corrupt gzip stream.
pub fn read_images<F: Float>(path: impl AsRef<Path>) -> Result<Array2<F>> {
    let path = path.as_ref();
    parse(path, |r| images_from_idx(r))
}

/// Reads one IDX label file (magic `0x00000801`: unsigned bytes, `n` labels
/// `0..=9`), plain or gzipped.
///
/// # Errors
/// As [`read_images`], and [`Error::BadFile`] for a label above 9.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<usize>> {
    let path = path.as_ref();
    parse(path, |r| labels_from_idx(r))
}

/// [`read_images`] from a stream (a file already open, bytes in memory),
/// plain or gzipped; errors name the file `<reader>`.
///
/// ```
/// // A header for one 28 x 28 image, and its pixels.
/// let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28];
/// idx.extend(std::iter::repeat(255).take(784));
/// let images = mlp_core::data::mnist::images_from_reader::<f32>(idx.as_slice())?;
/// assert_eq!(images.dim(), (1, 784));
/// assert!(mlp_core::data::mnist::images_from_reader::<f32>(&idx[..100]).is_err());
/// # Ok::<(), mlp_core::Error>(())
/// ```
///
/// # Errors
/// As [`read_images`].
pub fn images_from_reader<F: Float>(reader: impl Read) -> Result<Array2<F>> {
    parse_stream(BufReader::new(reader), Path::new("<reader>"), |r| {
        images_from_idx(r)
    })
}

/// [`read_labels`] from a stream, plain or gzipped.
///
/// # Errors
/// As [`read_labels`].
pub fn labels_from_reader(reader: impl Read) -> Result<Vec<usize>> {
    parse_stream(BufReader::new(reader), Path::new("<reader>"), |r| {
        labels_from_idx(r)
    })
}

/// Opens `path` and hands it to [`parse_stream`].
fn parse<T>(path: &Path, parse: impl FnOnce(&mut dyn Read) -> Result<T, Bad>) -> Result<T> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_stream(BufReader::new(file), path, parse)
}

/// Decompresses `reader` if it starts with the gzip magic and hands the
/// stream to `parse`; errors name `path`.
fn parse_stream<T, R: BufRead>(
    mut reader: R,
    path: &Path,
    parse: impl FnOnce(&mut dyn Read) -> Result<T, Bad>,
) -> Result<T> {
    let gzipped = reader
        .fill_buf()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .starts_with(&[0x1f, 0x8b]);
    let result = if gzipped {
        // Every member of a multi-member gzip file, as `gunzip` reads it.
        parse(&mut flate2::bufread::MultiGzDecoder::new(reader))
    } else {
        parse(&mut reader)
    };
    result.map_err(|bad| match bad {
        Bad::Format(reason) => Error::BadFile {
            path: path.to_path_buf(),
            reason,
        },
        Bad::Io(source) if is_corrupt(&source) => Error::BadFile {
            path: path.to_path_buf(),
            reason: format!("cannot decompress it: {source}"),
        },
        Bad::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Whether a read error means bad data (a corrupt gzip stream) rather than
/// a failing device.
fn is_corrupt(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof)
}

/// Why a stream is not a valid IDX file.
#[derive(Debug)]
pub(crate) enum Bad {
    /// The bytes arrived but do not fit the format.
    Format(String),
    /// Reading failed.
    Io(std::io::Error),
}

impl From<String> for Bad {
    fn from(reason: String) -> Self {
        Bad::Format(reason)
    }
}

/// The `N`-byte header: its big-endian 32-bit fields.
fn header<const N: usize>(r: &mut dyn Read) -> Result<[usize; N], Bad> {
    let mut fields = [0usize; N];
    for (k, field) in fields.iter_mut().enumerate() {
        let mut b = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match r.read(&mut b[got..]) {
                Ok(0) => {
                    return Err(Bad::Format(format!(
                        "the header is truncated: {} of {} bytes",
                        4 * k + got,
                        4 * N
                    )));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Bad::Io(e)),
            }
        }
        *field = u32::from_be_bytes(b) as usize;
    }
    Ok(fields)
}

/// Reads exactly `len` bytes of `what`, then checks that nothing follows.
/// Memory grows with the bytes that really arrive (a header that claims a
/// billion images costs nothing until they come).
fn body(r: &mut dyn Read, len: usize, what: &str) -> Result<Vec<u8>, Bad> {
    // Start small; `read_to_end` doubles the buffer as data arrives.
    let mut bytes = Vec::with_capacity(len.min(1 << 16));
    r.take(len as u64)
        .read_to_end(&mut bytes)
        .map_err(Bad::Io)?;
    if bytes.len() < len {
        return Err(Bad::Format(format!(
            "the data is truncated: {} {what} bytes, the header promises {len}",
            bytes.len()
        )));
    }
    let mut extra = [0u8; 1];
    if r.read(&mut extra).map_err(Bad::Io)? != 0 {
        return Err(Bad::Format(format!(
            "more than the {len} {what} bytes the header promises"
        )));
    }
    Ok(bytes)
}

/// Parses an IDX image stream (magic 0x00000803, unsigned bytes, 3 dimensions).
pub(crate) fn images_from_idx<F: Float>(r: &mut dyn Read) -> Result<Array2<F>, Bad> {
    let [magic, n, rows, cols] = header::<4>(r)?;
    if magic != 0x0803 {
        return Err(Bad::Format(format!(
            "magic number {magic:#010x}, expected 0x00000803 (IDX images of unsigned bytes)"
        )));
    }
    if (rows, cols) != (28, 28) {
        return Err(Bad::Format(format!(
            "images are {rows} x {cols}, expected 28 x 28"
        )));
    }
    let pixels = body(r, n * 784, "pixel")?;
    let scale = F::from_f64(1.0 / 255.0);
    let values = pixels
        .iter()
        .map(|&p| F::from_f64(f64::from(p)) * scale)
        .collect();
    Ok(Array2::from_shape_vec((n, 784), values).expect("n x 784 pixels were read"))
}

/// Parses an IDX label stream (magic 0x00000801, unsigned bytes, 1 dimension).
pub(crate) fn labels_from_idx(r: &mut dyn Read) -> Result<Vec<usize>, Bad> {
    let [magic, n] = header::<2>(r)?;
    if magic != 0x0801 {
        return Err(Bad::Format(format!(
            "magic number {magic:#010x}, expected 0x00000801 (IDX labels of unsigned bytes)"
        )));
    }
    let labels = body(r, n, "label")?;
    if let Some(at) = labels.iter().position(|&l| l > 9) {
        return Err(Bad::Format(format!(
            "label {} at position {at} is not a digit",
            labels[at]
        )));
    }
    Ok(labels.iter().map(|&l| usize::from(l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn idx_images(n: u32, rows: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 3];
        for d in [n, rows, 28] {
            v.extend(d.to_be_bytes());
        }
        v.extend(pixels);
        v
    }

    fn format_error<T: std::fmt::Debug>(r: Result<T, Bad>) -> String {
        match r {
            Err(Bad::Format(reason)) => reason,
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A file of its own in the temporary folder, removed when dropped.
    struct TempFile(PathBuf);
    impl TempFile {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("mlp-mnist-{}-{name}", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            TempFile(path)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn parses_and_rejects_idx() {
        let img = idx_images(1, 28, &[255; 784]);
        let x = images_from_idx::<f32>(&mut &img[..]).unwrap();
        assert_eq!(x.dim(), (1, 784));
        assert_eq!(x[[0, 0]], 1.0);
        let truncated = format_error(images_from_idx::<f32>(&mut &img[..100]));
        assert!(
            truncated.contains("84 pixel bytes, the header promises 784"),
            "{truncated}"
        );
        let mut long = img.clone();
        long.push(0);
        assert!(format_error(images_from_idx::<f32>(&mut &long[..])).contains("more than"));
        assert!(
            format_error(images_from_idx::<f32>(
                &mut &idx_images(1, 27, &[0; 756])[..]
            ))
            .contains("27 x 28")
        );
        assert!(format_error(images_from_idx::<f32>(&mut &[0u8, 0, 8][..])).contains("truncated"));
        let labels = [0u8, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9];
        assert_eq!(labels_from_idx(&mut &labels[..]).unwrap(), vec![7, 2, 9]);
        assert!(
            format_error(labels_from_idx(&mut &[0u8, 0, 8, 1, 0, 0, 0, 1, 12][..]))
                .contains("not a digit")
        );
        assert!(format_error(labels_from_idx(&mut &img[..])).contains("magic"));
    }

    /// A header that claims 10^9 images over a few real ones is rejected
    /// once the stream ends, having held only what the stream held (the
    /// old reader decompressed everything, then trusted the header).
    #[test]
    fn a_lying_header_costs_only_the_real_bytes() {
        let lying = idx_images(1_000_000_000, 28, &[7; 3 * 784]);
        let file = TempFile::new("lying.gz", &gzip(&lying));
        let err = read_images::<f32>(&file.0).unwrap_err().to_string();
        assert!(
            err.contains("2352 pixel bytes, the header promises 784000000000"),
            "{err}"
        );
    }

    /// `gzip -c a b > c`, or `cat a.gz b.gz`: two members, read as one stream.
    #[test]
    fn reads_a_multi_member_gzip() {
        let img = idx_images(2, 28, &[51; 2 * 784]);
        let (a, b) = img.split_at(100);
        let mut two = gzip(a);
        two.extend(gzip(b));
        let file = TempFile::new("two-members.gz", &two);
        let x = read_images::<f64>(&file.0).unwrap();
        assert_eq!(x.dim(), (2, 784));
        assert_eq!(x[[1, 783]], 0.2);
    }

    #[test]
    fn corrupt_gzip_is_a_bad_file() {
        let mut gz = gzip(&idx_images(1, 28, &[1; 784]));
        let mid = gz.len() / 2;
        gz[mid..].iter_mut().for_each(|b| *b ^= 0x5a);
        let file = TempFile::new("corrupt.gz", &gz);
        let err = read_images::<f32>(&file.0).unwrap_err();
        assert!(matches!(err, Error::BadFile { .. }), "{err}");
        // Cut short inside the deflate stream.
        let gz = gzip(&idx_images(1, 28, &[1; 784]));
        let file = TempFile::new("cut.gz", &gz[..gz.len() / 2]);
        let err = read_images::<f32>(&file.0).unwrap_err();
        assert!(matches!(err, Error::BadFile { .. }), "{err}");
    }

    #[test]
    fn missing_folder_names_the_file() {
        let err = load::<f32>("/nonexistent/mnist").unwrap_err();
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    }
}
