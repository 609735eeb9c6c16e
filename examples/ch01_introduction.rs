// Chapter 1: the three-line network. Run: cargo run --example ch01_introduction
use mlp::prelude::*;
use ndarray::array;
use std::fmt::Write;

fn main() {
    print!("{}", chapter());
}

/// Everything this chapter prints (snapshot-tested by tests/book.rs).
pub fn chapter() -> String {
    let mut out = String::new();
    // ANCHOR: network
    let mut net = network! {
        input 2 => dense 4 tanh => dense 1 sigmoid;
        loss bce; init xavier; seed 7
    };
    // ANCHOR_END: network
    writeln!(out, "{}", net.summary()).unwrap();

    // ANCHOR: train
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    let history = net.fit(x.view(), y.view(), &cfg).unwrap();
    // ANCHOR_END: train

    for e in history
        .epochs
        .iter()
        .filter(|e| e.epoch == 1 || e.epoch % 250 == 0)
    {
        writeln!(out, "epoch {:>4}  loss {:.4}", e.epoch, e.train_loss)
            .unwrap();
    }
    // ANCHOR: predict
    writeln!(out, "\n x1  x2 | target  output").unwrap();
    for (row, t) in x.rows().into_iter().zip(y.iter()) {
        let y_hat: [f32; 1] = net.predict(&[row[0], row[1]]);
        writeln!(
            out,
            "{:>3} {:>3} | {:>6}  {:.4}",
            row[0], row[1], t, y_hat[0]
        )
        .unwrap();
    }
    // ANCHOR_END: predict
    out
}
