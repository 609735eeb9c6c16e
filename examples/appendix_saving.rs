// Appendix: saving, loading, and PyTorch.
// Run from the repository's root: cargo run --release --example appendix_saving
use mlp::data::Standardizer;
use mlp::prelude::*;
use mlp_book::Page;
use ndarray::array;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    print!("{}", chapter().printed());
}

// ANCHOR: nets
mlp::network! {
    Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7
}
mlp::network! {
    /// The same shape with another activation.
    XorRelu: input 2 => dense 4 relu => dense 1 sigmoid; loss bce
}
mlp::network! {
    /// One more hidden unit.
    Xor5: input 2 => dense 5 tanh => dense 1 sigmoid; loss bce
}
mlp::network! {
    /// A dropout layer, which moves the second Linear to position 3.
    XorDropout: input 2 => dense 4 tanh => dropout 0.1 => dense 1 sigmoid; loss bce
}
// ANCHOR_END: nets

pub fn chapter() -> Page {
    let mut out = Page::new();
    let dir = std::env::temp_dir()
        .join(format!("mlp-book-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // ANCHOR: save
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let mut net = Xor::default();
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let path = dir.join("xor.safetensors");
    net.save(&path).unwrap();
    // ANCHOR_END: save

    // ANCHOR: inspect
    // The file, read with Hugging Face's own safetensors crate.
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    // ANCHOR_END: inspect
    out.section("file");
    let mut names = file.names();
    names.sort();
    for name in names {
        let t = file.tensor(name).unwrap();
        writeln!(out, "{name:<16} {:?} {:?}", t.dtype(), t.shape()).unwrap();
    }
    let mut keys: Vec<_> = meta
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    keys.sort();
    for (k, v) in keys {
        writeln!(out, "metadata {k}: {v}").unwrap();
    }

    // ANCHOR: load
    let mut fresh = Xor::new(123);
    fresh.load(&path).unwrap();
    let same = fresh.get_weights() == net.get_weights();
    // ANCHOR_END: load
    out.section("load");
    writeln!(
        out,
        "loaded into a fresh Xor: the same weights, bit for bit: {same}"
    )
    .unwrap();

    // ANCHOR: refuse
    let mut other = XorRelu::new(0);
    let before = other.get_weights();
    let e1 = other.load(&path).unwrap_err();
    let unchanged = other.get_weights() == before;
    let e2 = Xor5::new(0).load(&path).unwrap_err();
    let e3 = XorDropout::new(0).load(&path).unwrap_err();
    // ANCHOR_END: refuse
    out.section("refuse");
    for e in [&e1, &e2, &e3] {
        writeln!(
            out,
            "{}",
            e.to_string().replace(&dir.display().to_string(), "DIR")
        )
        .unwrap();
    }
    writeln!(out, "the refusing network is unchanged: {unchanged}").unwrap();

    // ANCHOR: standardizer
    let data = array![[1.0f32, 200.0], [3.0, 400.0], [5.0, 900.0]];
    let scale = Standardizer::fit(data.view()).unwrap();
    let scale_path = dir.join("scale.safetensors");
    scale.save(&scale_path).unwrap();
    let back = Standardizer::<f32>::load(&scale_path).unwrap();
    let agree = back.transform(data.view()).unwrap()
        == scale.transform(data.view()).unwrap();
    // ANCHOR_END: standardizer
    out.section("standardizer");
    writeln!(
        out,
        "a standardizer saved and loaded transforms the same: {agree}"
    )
    .unwrap();
    writeln!(
        out,
        "a network file is not a standardizer: {}",
        Standardizer::<f32>::load(&path)
            .unwrap_err()
            .to_string()
            .replace(&dir.display().to_string(), "DIR")
    )
    .unwrap();

    // ANCHOR: torch
    // A file written by PyTorch (scripts/torch_roundtrip.py): its weights
    // after one step of torch.optim.SGD, and the outputs PyTorch computed.
    let mut from_torch = Xor::new(0);
    from_torch.load("tests/data/torch_xor.safetensors").unwrap();
    let csv = std::fs::read_to_string("tests/data/torch_xor.csv").unwrap();
    let mut largest = 0.0f32;
    for line in csv.lines().skip(1) {
        let v: Vec<f32> = line.split(',').map(|s| s.parse().unwrap()).collect();
        let ours = from_torch.predict(&[v[0], v[1]])[0];
        largest = largest.max((ours - v[2]).abs());
    }
    // ANCHOR_END: torch
    out.section("torch");
    writeln!(out, "PyTorch's file: {}", from_torch.describe()).unwrap();
    writeln!(
        out,
        "largest difference from PyTorch's own outputs: {largest:.1e}"
    )
    .unwrap();
    out.fact("torch_diff", format!("{largest:.1e}"));
    std::fs::remove_dir_all(&dir).ok();
    out.end();
    out
}
