//! Saving and loading networks as [safetensors], with PyTorch's names and
//! layouts, so a trained network moves to `torch.nn.Sequential` and back.
//!
//! A network is saved as the `state_dict` of the `torch.nn.Sequential` that
//! computes the same function: each dense layer is a `Linear` followed by its
//! activation module (`Identity` for `identity`), each dropout layer a
//! `Dropout`. The dense layer whose `Linear` sits at position `k` of that
//! sequence is stored as `layers.k.weight` (`out x in`, as `nn.Linear` stores
//! it) and `layers.k.bias`. For `input 2 => dense 4 tanh => dense 1 sigmoid`
//! that is `layers.0.*` and `layers.2.*`, the keys of
//! `nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())`
//! held in an attribute `layers`. The file's metadata describes the
//! architecture (every layer, the loss, the float type) so that loading
//! into a different network is refused with the first difference named;
//! `scripts/torch_roundtrip.py` builds the PyTorch model from it.
//!
//! The format is read and written here, without a JSON library: the header
//! is a small JSON object, parsed with bounded depth, and every size and
//! offset is checked before any data is used (`format.rs`). Files written
//! by Hugging Face's reference implementation load, and files written here
//! load there (`scripts/torch_roundtrip.py` checks both directions).
//!
//! [safetensors]: https://github.com/huggingface/safetensors

mod format;
mod json;

use crate::data::Standardizer;
use crate::layer::{LayerView, OutputLayer, Parameters, Takes};
use crate::loss::Loss;
use crate::network::Network;
use crate::{Error, Float, Result};
use format::{Dtype, Tensor};
use json::{Json, quote};
use ndarray::{Array1, Array2};
use std::borrow::Cow;
use std::path::Path;

/// The value of the metadata key `format` in every file `mlp` writes.
pub const FORMAT: &str = "mlp";

/// One layer as the file's metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// A dense layer: widths and activation (with parameters, as `describe`
    /// writes it: `relu`, `leaky_relu(0.1)`).
    Dense {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
        /// The activation's name.
        activation: String,
    },
    /// A dropout layer with drop probability `p`.
    Dropout {
        /// The drop probability.
        p: f64,
        /// The width it acts on.
        width: usize,
    },
    /// A corruption layer (`nn.Identity` in PyTorch: it only acts while training).
    Noise {
        /// How it corrupts.
        corruption: crate::Corruption,
        /// The width it acts on.
        width: usize,
    },
}

impl std::fmt::Display for LayerSpec {
    /// In `network!`'s words: `dense 2->4 tanh`, `dropout 0.5`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerSpec::Dense {
                inputs,
                outputs,
                activation,
            } => write!(f, "dense {inputs}->{outputs} {activation}"),
            LayerSpec::Dropout { p, .. } => write!(f, "dropout {p}"),
            LayerSpec::Noise { corruption, .. } => write!(f, "noise {}", corruption.describe()),
        }
    }
}

/// A tensor of float values, as little-endian bytes.
fn tensor<F: Float>(shape: Vec<usize>, values: impl Iterator<Item = F>) -> Tensor<'static> {
    let mut bytes = Vec::new();
    for v in values {
        v.push_le_bytes(&mut bytes);
    }
    Tensor {
        dtype: dtype::<F>(),
        shape,
        data: Cow::Owned(bytes),
    }
}

fn dtype<F: Float>() -> Dtype {
    if F::NAME == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

fn bad_file(path: &Path, reason: impl Into<String>) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a file read from `path`.
fn parse<'a>(bytes: &'a [u8], path: &Path) -> Result<format::File<'a>> {
    format::read(bytes).map_err(|e| bad_file(path, format!("it is not a safetensors file: {e}")))
}

/// Reads a tensor's values, checking its name, shape and float type.
fn values<F: Float>(
    file: &format::File<'_>,
    name: &str,
    shape: &[usize],
    path: &Path,
) -> Result<Vec<F>> {
    let t = file
        .tensors
        .get(name)
        .ok_or_else(|| bad_file(path, format!("it has no tensor {name}")))?;
    if t.shape != shape {
        return Err(bad_file(
            path,
            format!(
                "{name} has shape {:?}, this network needs {shape:?}",
                t.shape
            ),
        ));
    }
    if t.dtype != dtype::<F>() {
        return Err(bad_file(
            path,
            format!(
                "{name} holds {} values, this network computes in {}",
                t.dtype.name(),
                F::NAME
            ),
        ));
    }
    let size = std::mem::size_of::<F>();
    Ok(t.data.chunks_exact(size).map(F::from_le_bytes).collect())
}

impl<H, O, L, F> Network<H, O, L, F>
where
    F: Float,
    H: Parameters<F>,
    O: OutputLayer<F> + Takes<F, H::Out>,
    L: Loss<F>,
{
    /// The layers, first to last, as a saved file describes them.
    pub fn architecture(&self) -> Vec<LayerSpec> {
        let mut layers = Vec::new();
        self.visit_layers(0, &mut |layer| {
            layers.push(match layer {
                LayerView::Dense(d) => LayerSpec::Dense {
                    inputs: d.w.ncols(),
                    outputs: d.w.nrows(),
                    activation: d.activation,
                },
                LayerView::Dropout { p, width } => LayerSpec::Dropout { p, width },
                LayerView::Noise { corruption, width } => LayerSpec::Noise { corruption, width },
            })
        });
        layers
    }

    /// The network in `network!`'s words: `input 2 => dense 4 tanh => dense
    /// 1 sigmoid; loss bce; dtype f32`.
    pub fn describe(&self) -> String {
        let mut s = format!("input {}", Self::INPUTS);
        for layer in self.architecture() {
            match layer {
                LayerSpec::Dense {
                    outputs,
                    activation,
                    ..
                } => s.push_str(&format!(" => dense {outputs} {activation}")),
                LayerSpec::Dropout { p, .. } => s.push_str(&format!(" => dropout {p}")),
                LayerSpec::Noise { corruption, .. } => {
                    s.push_str(&format!(" => noise {}", corruption.describe()))
                }
            }
        }
        format!("{s}; loss {}; dtype {}", self.loss.describe(), F::NAME)
    }

    /// The names of the dense layers' tensors in the equivalent
    /// `torch.nn.Sequential`: `layers.k` for each dense layer.
    fn torch_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut k = 0;
        for layer in self.architecture() {
            match layer {
                LayerSpec::Dense { .. } => {
                    names.push(format!("layers.{k}"));
                    k += 2; // the Linear and its activation module
                }
                LayerSpec::Dropout { .. } | LayerSpec::Noise { .. } => k += 1,
            }
        }
        names
    }

    /// The architecture as the JSON list stored under `mlp.layers`.
    fn layers_json(&self) -> String {
        let names = self.torch_names();
        let mut dense = names.iter();
        let items: Vec<String> = self
            .architecture()
            .into_iter()
            .map(|layer| match layer {
                LayerSpec::Dense {
                    inputs,
                    outputs,
                    activation,
                } => format!(
                    "{{\"type\":\"dense\",\"in\":{inputs},\"out\":{outputs},\"activation\":{},\"name\":{}}}",
                    quote(&activation),
                    quote(dense.next().expect("a name per dense layer"))
                ),
                LayerSpec::Dropout { p, width } => {
                    format!("{{\"type\":\"dropout\",\"p\":{p},\"width\":{width}}}")
                }
                LayerSpec::Noise { corruption, width } => {
                    let (kind, value) = match corruption {
                        crate::Corruption::Gaussian(s) => ("gaussian", s),
                        crate::Corruption::Mask(p) => ("mask", p),
                    };
                    format!(
                        "{{\"type\":\"noise\",\"kind\":\"{kind}\",\"value\":{value},\"width\":{width}}}"
                    )
                }
            })
            .collect();
        format!("[{}]", items.join(","))
    }

    /// The network as safetensors bytes: see the [module](crate::save) for the
    /// names, layouts and metadata.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let tensors: Vec<(String, Tensor<'static>)> = self
            .torch_names()
            .into_iter()
            .zip(self.get_weights())
            .flat_map(|(name, (w, b))| {
                [
                    (
                        format!("{name}.weight"),
                        tensor::<F>(w.shape().to_vec(), w.iter().copied()),
                    ),
                    (
                        format!("{name}.bias"),
                        tensor::<F>(vec![b.len()], b.iter().copied()),
                    ),
                ]
            })
            .collect();
        let metadata = [
            ("format", FORMAT.to_string()),
            ("mlp.version", "1".to_string()),
            ("mlp.network", self.describe()),
            ("mlp.inputs", Self::INPUTS.to_string()),
            ("mlp.layers", self.layers_json()),
            ("mlp.loss", self.loss.describe()),
            ("mlp.dtype", F::NAME.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v));
        format::write(&tensors, &metadata)
    }

    /// Saves the weights and biases, with the architecture in the metadata,
    /// as a safetensors file that PyTorch loads (see the [module](crate::save)).
    ///
    /// ```no_run
    /// # use mlp_core::prelude::*;
    /// # let mut rng = mlp_core::rng(1);
    /// # let hidden = Dense::<2, 4, Tanh>::new(Tanh, Init::XavierNormal, &mut rng);
    /// # let output = Dense::<4, 1, Sigmoid>::new(Sigmoid, Init::XavierNormal, &mut rng);
    /// # let mut net = Network::new(hidden, output, Bce, rng);
    /// net.save("xor.safetensors")?;
    /// // ... later, or in another program, into a network of the same shape:
    /// net.load("xor.safetensors")?;
    /// # Ok::<(), mlp_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write(path.as_ref(), &self.to_safetensors())
    }

    /// Loads weights and biases saved by [`save`](Self::save) (or written in
    /// the same layout by PyTorch) into this network, all or nothing. The
    /// optimiser state is reset.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::BadFile`] if it is
    /// not a safetensors file, or describes another architecture (the first
    /// difference is named: a layer, a width, an activation, the loss, the
    /// float type), or lacks a tensor, or has one of the wrong shape or
    /// type, or an extra one; [`Error::InvalidParameters`] for a NaN or
    /// infinite value. The network is unchanged on any error.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.load_safetensors(&read(path)?, path)
    }

    /// [`load`](Self::load) from bytes already in memory; `path` names them
    /// in errors.
    ///
    /// # Errors
    /// As [`load`](Self::load), without [`Error::Io`].
    pub fn load_safetensors(&mut self, bytes: &[u8], path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = parse(bytes, path)?;
        self.check_metadata(|key| file.metadata.get(key).cloned(), path)?;
        let names = self.torch_names();
        let expected: Vec<String> = names
            .iter()
            .flat_map(|n| [format!("{n}.weight"), format!("{n}.bias")])
            .collect();
        if let Some(extra) = file.tensors.keys().find(|n| !expected.contains(n)) {
            return Err(bad_file(
                path,
                format!(
                    "it has a tensor {extra} that this network does not (it expects {})",
                    expected.join(", ")
                ),
            ));
        }
        let mut layers = Vec::new();
        for (name, (w, _)) in names.iter().zip(self.get_weights()) {
            let (out, inp) = w.dim();
            let wv = values::<F>(&file, &format!("{name}.weight"), &[out, inp], path)?;
            let bv = values::<F>(&file, &format!("{name}.bias"), &[out], path)?;
            let w = Array2::from_shape_vec((out, inp), wv).expect("out x in values");
            layers.push((w, Array1::from(bv)));
        }
        self.set_weights(&layers)
    }

    /// Compares a file's metadata with this network; the first difference
    /// is an error.
    fn check_metadata(&self, get: impl Fn(&str) -> Option<String>, path: &Path) -> Result<()> {
        let differ = |what: String| {
            Err(bad_file(
                path,
                format!("it holds a different network: {what}"),
            ))
        };
        if get("format").as_deref() != Some(FORMAT) {
            // Written by something else in the same layout: the tensors'
            // names and shapes are all there is to check.
            return Ok(());
        }
        if let Some(dtype) = get("mlp.dtype")
            && dtype != F::NAME
        {
            return differ(format!(
                "the file is {dtype}, this network computes in {}",
                F::NAME
            ));
        }
        if let Some(inputs) = get("mlp.inputs")
            && inputs != Self::INPUTS.to_string()
        {
            return differ(format!(
                "the file's network takes {inputs} inputs, this one {}",
                Self::INPUTS
            ));
        }
        if let Some(json) = get("mlp.layers") {
            let theirs = parse_layers(&json).map_err(|why| {
                bad_file(path, format!("its mlp.layers metadata is malformed: {why}"))
            })?;
            let ours = self.architecture();
            for (k, (a, b)) in theirs.iter().zip(&ours).enumerate() {
                if a != b {
                    return differ(format!("layer {k} is {a} in the file, {b} in this network"));
                }
            }
            if theirs.len() != ours.len() {
                return differ(format!(
                    "the file has {} layers, this network {}",
                    theirs.len(),
                    ours.len()
                ));
            }
        }
        if let Some(loss) = get("mlp.loss")
            && loss != self.loss.describe()
        {
            return differ(format!(
                "the file's loss is {loss}, this network's {}",
                self.loss.describe()
            ));
        }
        Ok(())
    }
}

/// Reads the `mlp.layers` JSON list.
fn parse_layers(json: &str) -> std::result::Result<Vec<LayerSpec>, String> {
    let value = Json::parse(json)?;
    let items = value.as_array().ok_or("not a list")?;
    items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let field = |name: &str| item.get(name).ok_or(format!("layer {k} has no {name}"));
            let count = |name: &str| {
                field(name)?
                    .as_usize()
                    .ok_or(format!("layer {k}: {name} is not a count"))
            };
            match field("type")?.as_str() {
                Some("dense") => Ok(LayerSpec::Dense {
                    inputs: count("in")?,
                    outputs: count("out")?,
                    activation: field("activation")?
                        .as_str()
                        .ok_or(format!("layer {k}: activation is not text"))?
                        .to_string(),
                }),
                Some("dropout") => Ok(LayerSpec::Dropout {
                    p: field("p")?
                        .as_f64()
                        .ok_or(format!("layer {k}: p is not a number"))?,
                    width: count("width")?,
                }),
                Some("noise") => {
                    let value = field("value")?
                        .as_f64()
                        .ok_or(format!("layer {k}: value is not a number"))?;
                    let corruption = match field("kind")?.as_str() {
                        Some("gaussian") => crate::Corruption::Gaussian(value),
                        Some("mask") => crate::Corruption::Mask(value),
                        other => return Err(format!("layer {k}: unknown noise kind {other:?}")),
                    };
                    Ok(LayerSpec::Noise {
                        corruption,
                        width: count("width")?,
                    })
                }
                other => Err(format!("layer {k} has an unknown type {other:?}")),
            }
        })
        .collect()
}

impl<F: Float> Standardizer<F> {
    /// The fitted means and standard deviations as safetensors bytes
    /// (tensors `mean` and `std`).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let n = self.mean.len();
        let tensors = [
            (
                "mean".to_string(),
                tensor::<F>(vec![n], self.mean.iter().copied()),
            ),
            (
                "std".to_string(),
                tensor::<F>(vec![n], self.std.iter().copied()),
            ),
        ];
        let metadata = [
            ("format", FORMAT.to_string()),
            ("mlp.kind", "standardizer".to_string()),
            ("mlp.dtype", F::NAME.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v));
        format::write(&tensors, &metadata)
    }

    /// Saves the fitted scaling, so that a loaded network sees its inputs
    /// scaled exactly as in training.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write(path.as_ref(), &self.to_safetensors())
    }

    /// Loads a scaling saved by [`save`](Self::save).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::BadFile`] if it is
    /// not a saved standardizer of this float type, or a value is not finite
    /// (or a standard deviation is not positive).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_bytes(&read(path)?, path)
    }

    /// [`load`](Self::load) from the bytes of a file (what
    /// [`to_safetensors`](Self::to_safetensors) wrote).
    ///
    /// # Errors
    /// As [`load`](Self::load), naming the file `<bytes>`.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes(bytes, Path::new("<bytes>"))
    }

    fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let file = parse(bytes, path)?;
        let n = file
            .tensors
            .get("mean")
            .ok_or_else(|| bad_file(path, "it has no tensor mean: not a saved standardizer"))?
            .shape
            .clone();
        if n.len() != 1 {
            return Err(bad_file(
                path,
                format!("mean has shape {n:?}, expected one dimension"),
            ));
        }
        let mean = values::<F>(&file, "mean", &n, path)?;
        let std = values::<F>(&file, "std", &n, path)?;
        if let Some(i) = mean.iter().position(|v| !v.is_finite()) {
            return Err(bad_file(path, format!("mean [{i}] is not finite")));
        }
        if let Some(i) = std.iter().position(|v| !(v.is_finite() && *v > F::zero())) {
            return Err(bad_file(
                path,
                format!("std [{i}] is not a positive finite number"),
            ));
        }
        Ok(Standardizer {
            mean: Array1::from(mean),
            std: Array1::from(std),
        })
    }
}
