//! Save a trained network as safetensors, and load one back, for the round
//! trip with PyTorch (`scripts/torch_roundtrip.py`).
//!
//! ```sh
//! cargo run --example save_load                 # train XOR, save it and its outputs
//! python3 scripts/torch_roundtrip.py target/roundtrip
//! cargo run --example save_load -- --check target/roundtrip/torch_xor.safetensors \
//!     target/roundtrip/torch_xor.csv            # PyTorch's file, PyTorch's outputs
//! ```

use mlp::prelude::*;
use ndarray::array;
use std::path::Path;

mlp::network! {
    /// The network saved and loaded: the same declaration on both sides.
    Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7
}

fn main() -> Result<(), mlp::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => save(Path::new("target/roundtrip")),
        [flag, model, outputs] if flag == "--check" => {
            check(Path::new(model), Path::new(outputs))
        }
        _ => {
            eprintln!(
                "usage: save_load [--check MODEL.safetensors OUTPUTS.csv]"
            );
            std::process::exit(2);
        }
    }
}

/// Trains XOR, saves the network and the outputs it gives on the four inputs.
fn save(dir: &Path) -> Result<(), mlp::Error> {
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let mut net = Xor::default();
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg)?;
    let io = |source| mlp::Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    net.save(dir.join("xor.safetensors"))?;
    let mut csv = String::from("x1,x2,y_hat\n");
    for row in x.rows() {
        let out = net.predict(&[row[0], row[1]])[0];
        csv += &format!("{},{},{:.9}\n", row[0], row[1], out);
    }
    std::fs::write(dir.join("xor.csv"), &csv).map_err(io)?;
    println!("{}", net.describe());
    println!(
        "saved {} and the outputs:\n{csv}",
        dir.join("xor.safetensors").display()
    );
    Ok(())
}

/// Loads a saved network and compares its outputs with the ones in `outputs`.
fn check(model: &Path, outputs: &Path) -> Result<(), mlp::Error> {
    let mut net = Xor::new(0);
    net.load(model)?;
    let text =
        std::fs::read_to_string(outputs).map_err(|source| mlp::Error::Io {
            path: outputs.to_path_buf(),
            source,
        })?;
    let mut worst = 0.0f32;
    for line in text.lines().skip(1) {
        let v: Vec<f32> = line
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if v.len() != 3 {
            return Err(mlp::Error::BadFile {
                path: outputs.to_path_buf(),
                reason: format!("expected x1,x2,y_hat, got {line:?}"),
            });
        }
        let ours = net.predict(&[v[0], v[1]])[0];
        println!(
            "x = ({}, {}): file says {:.7}, mlp gives {:.7}",
            v[0], v[1], v[2], ours
        );
        worst = worst.max((ours - v[2]).abs());
    }
    println!("largest difference {worst:.2e}");
    if worst > 1e-6 {
        eprintln!("the outputs differ by more than 1e-6");
        std::process::exit(1);
    }
    Ok(())
}
