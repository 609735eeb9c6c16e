// Chapter 1: a network in one line. Run: cargo run --example ch01_introduction
// (add `-- --exercises` for the solutions to the exercises).
use mlp::prelude::*;
use mlp_book::Page;
use ndarray::array;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

/// Everything this chapter prints and the numbers its text quotes
/// (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    // ANCHOR: network
    let mut net = network! {
        input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he
    };
    // ANCHOR_END: network
    out.section("summary");
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

    out.section("loss");
    for e in history
        .epochs
        .iter()
        .filter(|e| e.epoch == 1 || e.epoch % 250 == 0)
    {
        writeln!(out, "epoch {:>4}  loss {:.4}", e.epoch, e.train_loss)
            .unwrap();
    }
    out.fact("first_loss", format!("{:.4}", history.epochs[0].train_loss));
    out.section("predict");
    // ANCHOR: predict
    writeln!(out, " x1  x2 | target  output").unwrap();
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

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    out.section("ex1");
    // ANCHOR: ex1
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    mlp::network! {
        /// The one-line network with two hidden units instead of four.
        Narrow: input 2 => dense 2 relu => dense 1 sigmoid; loss bce; init he
    }
    let mut learned = Vec::new();
    for seed in 0..10 {
        let mut net = Narrow::new(seed);
        net.fit(x.view(), y.view(), &cfg).unwrap();
        let out = net.predict_batch(x.view()).unwrap();
        if out.iter().zip(&y).all(|(o, t)| (*o > 0.5) == (*t > 0.5)) {
            learned.push(seed);
        }
    }
    // ANCHOR_END: ex1
    writeln!(out, "2 hidden units learn XOR from the seeds {learned:?}")
        .unwrap();
    out.fact("ex1_learned", learned.len());
    out
}
