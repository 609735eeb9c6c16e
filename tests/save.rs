//! Saving and loading: safetensors with PyTorch's names and layouts, the
//! architecture in the metadata, every mismatch refused before anything
//! changes, and a file written by PyTorch itself.

use mlp::Error;
use mlp::data::Standardizer;
use mlp::prelude::*;
use ndarray::{Array2, array};
use std::path::PathBuf;

mlp::network! {
    Classifier: input 3 => dense 5 tanh => dropout 0.2 => dense 4 relu => dense 2 softmax;
        loss cross_entropy; init he; seed 1
}
mlp::network! {
    OtherActivation: input 3 => dense 5 relu => dropout 0.2 => dense 4 relu => dense 2 softmax;
        loss cross_entropy; seed 1
}
mlp::network! {
    NoDropout: input 3 => dense 5 tanh => dense 4 relu => dense 2 softmax; loss cross_entropy; seed 1
}
mlp::network! {
    Wider: input 3 => dense 6 tanh => dropout 0.2 => dense 4 relu => dense 2 softmax;
        loss cross_entropy; seed 1
}
mlp::network! {
    Double: input 3 => dense 5 tanh => dropout 0.2 => dense 4 relu => dense 2 softmax;
        loss cross_entropy; seed 1; dtype f64
}
mlp::network! {
    Binary: input 3 => dense 5 tanh => dense 1 sigmoid; loss bce; seed 2
}
mlp::network! {
    BinaryMse: input 3 => dense 5 tanh => dense 1 sigmoid; loss mse; seed 2
}

/// A file in the temporary folder, removed when dropped.
struct Temp(PathBuf);
impl Temp {
    fn new(name: &str) -> Self {
        Temp(std::env::temp_dir().join(format!("mlp-save-{}-{name}", std::process::id())))
    }
}
impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bits(layers: &[(Array2<f32>, ndarray::Array1<f32>)]) -> Vec<u32> {
    layers
        .iter()
        .flat_map(|(w, b)| {
            w.iter()
                .chain(b.iter())
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn trained() -> Classifier {
    let mut net = Classifier::new(1);
    let x = Array2::from_shape_fn((16, 3), |(i, j)| ((i * 3 + j) as f32 * 0.37).sin());
    let y = mlp::data::one_hot::<f32>(&(0..16).map(|i| i % 2).collect::<Vec<_>>(), 2).unwrap();
    net.fit(
        x.view(),
        y.view(),
        &TrainConfig::new().epochs(20).optimizer(Adam::new(0.01)),
    )
    .unwrap();
    net
}

#[test]
fn a_saved_network_loads_bit_for_bit() {
    let net = trained();
    let file = Temp::new("round.safetensors");
    net.save(&file.0).unwrap();
    let mut other = Classifier::new(99);
    assert_ne!(bits(&other.get_weights()), bits(&net.get_weights()));
    other.load(&file.0).unwrap();
    assert_eq!(bits(&other.get_weights()), bits(&net.get_weights()));
    let x = array![[0.3f32, -1.2, 0.8]];
    assert_eq!(
        other.predict_batch(x.view()).unwrap(),
        net.predict_batch(x.view()).unwrap()
    );
    assert_eq!(other.optimizer_steps(), 0, "loading resets the optimiser");
}

#[test]
fn the_file_has_pytorch_names_layouts_and_the_architecture() {
    let bytes = trained().to_safetensors();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    // Sequential(Linear, Tanh, Dropout, Linear, ReLU, Linear, Softmax).
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.3.bias",
            "layers.3.weight",
            "layers.5.bias",
            "layers.5.weight"
        ]
    );
    assert_eq!(
        file.tensor("layers.0.weight").unwrap().shape(),
        [5, 3],
        "out x in"
    );
    assert_eq!(file.tensor("layers.5.bias").unwrap().shape(), [2]);
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().as_ref().unwrap();
    assert_eq!(meta.get("format").unwrap(), "mlp");
    assert_eq!(
        meta.get("mlp.network").unwrap(),
        "input 3 => dense 5 tanh => dropout 0.2 => dense 4 relu => dense 2 softmax; loss cross_entropy; dtype f32"
    );
    assert_eq!(meta.get("mlp.dtype").unwrap(), "f32");
    assert!(
        meta.get("mlp.layers")
            .unwrap()
            .contains(r#""name":"layers.3""#)
    );
}

/// Each mismatch names the first difference and leaves the network as it was.
#[test]
fn a_different_network_is_refused_with_the_first_difference() {
    let file = Temp::new("refuse.safetensors");
    trained().save(&file.0).unwrap();
    macro_rules! check {
        ($net:expr, $words:expr) => {{
            let mut net = $net;
            let before = net.get_weights();
            let err = net.load(&file.0).unwrap_err();
            assert!(matches!(err, Error::BadFile { .. }), "{err}");
            assert!(err.to_string().contains($words), "{err}");
            let after = net.get_weights();
            assert_eq!(before.len(), after.len());
            for ((w0, b0), (w1, b1)) in before.iter().zip(&after) {
                assert_eq!(w0, w1);
                assert_eq!(b0, b1);
            }
        }};
    }
    check!(
        OtherActivation::new(1),
        "layer 0 is dense 3->5 tanh in the file, dense 3->5 relu in this network"
    );
    check!(
        Wider::new(1),
        "layer 0 is dense 3->5 tanh in the file, dense 3->6 tanh in this network"
    );
    check!(
        NoDropout::new(1),
        "layer 1 is dropout 0.2 in the file, dense 5->4 relu in this network"
    );
    check!(
        Double::new(1),
        "the file is f32, this network computes in f64"
    );
    check!(
        Binary::new(1),
        "layer 1 is dropout 0.2 in the file, dense 5->1 sigmoid in this network"
    );

    let binary = Temp::new("binary.safetensors");
    Binary::new(3).save(&binary.0).unwrap();
    let mut mse = BinaryMse::new(2);
    let err = mse.load(&binary.0).unwrap_err();
    assert!(
        err.to_string()
            .contains("the file's loss is bce, this network's mse"),
        "{err}"
    );
}

#[test]
fn broken_files_are_errors() {
    let mut net = Classifier::new(1);
    let before = bits(&net.get_weights());
    let good = trained().to_safetensors();
    let missing = net.load("/nonexistent/net.safetensors").unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
    for (name, bytes) in [
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        (
            "random",
            (0..500u32).map(|i| (i * 97 % 251) as u8).collect(),
        ),
        ("huge header", {
            let mut b = good.clone();
            b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
            b
        }),
    ] {
        let err = net.load_safetensors(&bytes, name).unwrap_err();
        assert!(matches!(err, Error::BadFile { .. }), "{name}: {err}");
        assert!(
            err.to_string().contains("not a safetensors file"),
            "{name}: {err}"
        );
    }
    // A NaN inside a valid file.
    let mut layers = trained().get_weights();
    layers[1].0[[2, 1]] = f32::NAN;
    let mut poisoned = Classifier::new(1);
    poisoned.set_weights(&layers).unwrap_err();
    assert_eq!(bits(&net.get_weights()), before);
}

/// A file written by PyTorch: `scripts/torch_roundtrip.py` built the
/// `nn.Sequential` from a file `mlp` saved, took one SGD step in PyTorch and
/// saved the result, with the outputs PyTorch computed for four probe
/// inputs. Loaded here, the network must give PyTorch's outputs to 1e-6.
#[test]
fn a_file_written_by_pytorch_loads_and_agrees() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    mlp::network! {
        Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7
    }
    let mut net = Xor::new(0);
    net.load(dir.join("torch_xor.safetensors")).unwrap();
    let text = std::fs::read_to_string(dir.join("torch_xor.csv")).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let v: Vec<f32> = line.split(',').map(|s| s.parse().unwrap()).collect();
        let ours = net.predict(&[v[0], v[1]])[0];
        assert!(
            (ours - v[2]).abs() < 1e-6,
            "x = {:?}: mlp {ours}, PyTorch {}",
            &v[..2],
            v[2]
        );
        rows += 1;
    }
    assert_eq!(rows, 4);
}

#[test]
fn a_standardizer_round_trips_and_refuses_other_files() {
    let x = array![[1.0, 200.0], [3.0, 400.0], [5.0, 900.0]];
    let s = Standardizer::fit(x.view()).unwrap();
    let file = Temp::new("scale.safetensors");
    s.save(&file.0).unwrap();
    let back = Standardizer::<f64>::load(&file.0).unwrap();
    assert_eq!(back, s);
    assert!(
        matches!(
            Standardizer::<f32>::load(&file.0),
            Err(Error::BadFile { .. })
        ),
        "dtype differs"
    );
    let net = Temp::new("not-a-scale.safetensors");
    trained().save(&net.0).unwrap();
    let err = Standardizer::<f32>::load(&net.0).unwrap_err();
    assert!(
        err.to_string().contains("not a saved standardizer"),
        "{err}"
    );
}
