// Chapter 12: the network! macro.
// Run from the repository's root: cargo run --release --example ch12_network_macro
// (add `-- --exercises` for the solutions to the exercises).
use mlp::prelude::*;
use mlp_book::Page;
use ndarray::{Array2, array};
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

fn xor() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        array![[0.0], [1.0], [1.0], [0.0]],
    )
}

/// Full-batch SGD at 0.5, as in chapter 3.
fn xor_settings(epochs: usize) -> TrainConfig {
    TrainConfig::new()
        .epochs(epochs)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5))
}

// ANCHOR: item
mlp::network! {
    /// The XOR network of chapter 3, as a type of its own.
    pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7; dtype f64
}

/// A struct can hold a declared network, and a function can take one.
struct Experiment {
    net: Xor,
    epochs: usize,
}
// ANCHOR_END: item

// ANCHOR: generic
/// Trains any network on XOR and reports how it did: one bound, `Model`,
/// is all a generic function needs.
fn train_xor<M: Model<Float = f64>>(net: &mut M, epochs: usize) -> String {
    let (x, y) = xor();
    net.fit(x.view(), y.view(), &xor_settings(epochs)).unwrap();
    let out = net.predict_batch(x.view()).unwrap();
    let right = out
        .iter()
        .zip(&y)
        .filter(|(o, t)| (**o > 0.5) == (**t > 0.5))
        .count();
    format!(
        "{} parameters, loss {:.4}, {right}/4 right",
        M::PARAMS,
        net.evaluate(x.view(), y.view()).unwrap()
    )
}
// ANCHOR_END: generic

mlp::network! {
    Wider: input 2 => dense 8 relu => dropout 0.1 => dense 8 relu => dense 1 sigmoid;
        loss bce; init he; dtype f64
}

pub fn chapter() -> Page {
    let mut out = Page::new();
    // ANCHOR: smallest
    // Logistic regression: one dense layer, a sigmoid and its loss.
    let logistic = mlp::network! { input 2 => dense 1 sigmoid; loss bce };
    // ANCHOR_END: smallest
    out.section("smallest");
    write!(out, "{}", logistic.summary()).unwrap();

    // ANCHOR: hidden
    let mut net = mlp::network! {
        input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; dtype f64
    };
    let (x, y) = xor();
    net.fit(x.view(), y.view(), &xor_settings(1000)).unwrap();
    let predictions = net.predict_batch(x.view()).unwrap();
    // ANCHOR_END: hidden
    out.section("hidden");
    write!(out, "{}", net.summary()).unwrap();
    writeln!(
        out,
        "after 1000 epochs: {}",
        predictions
            .iter()
            .map(|p| format!("{p:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();

    // ANCHOR: clauses
    let a = mlp::network! { input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; seed 1 };
    let b = mlp::network! { input 2 => dense 4 tanh => dense 1 sigmoid; seed 1; loss bce };
    let c = mlp::network! { input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; seed 2 };
    let he = mlp::network! { input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he };
    // ANCHOR_END: clauses
    out.section("clauses");
    writeln!(
        out,
        "clauses in another order, same seed: same weights: {}",
        a.get_weights() == b.get_weights()
    )
    .unwrap();
    writeln!(
        out,
        "another seed: same weights: {}",
        a.get_weights() == c.get_weights()
    )
    .unwrap();
    let w = &he.get_weights()[0];
    writeln!(out, "init he: first layer's weights {} (biases {}: ReLU units start active)", w.0.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" "), w.1.iter().map(|v| format!("{v:.1}")).collect::<Vec<_>>().join(" ")).unwrap();
    let out_layer = &he.get_weights()[1];
    writeln!(
        out,
        "the output layer starts at zero: {}",
        out_layer.0.iter().all(|&v| v == 0.0)
    )
    .unwrap();

    // ANCHOR: seeds
    // `seed` takes any expression of type u64: here, the loop's variable.
    let mut learned = 0;
    for s in 0..20 {
        let mut net = mlp::network! {
            input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he; seed s; dtype f64
        };
        let (x, y) = xor();
        net.fit(x.view(), y.view(), &xor_settings(2000)).unwrap();
        let p = net.predict_batch(x.view()).unwrap();
        learned +=
            p.iter().zip(&y).all(|(p, t)| (*p > 0.5) == (*t > 0.5)) as usize;
    }
    // ANCHOR_END: seeds
    out.section("seeds");
    writeln!(
        out,
        "the mission's line learned XOR from {learned} of seeds 0-19"
    )
    .unwrap();
    out.fact("learned", learned);

    // ANCHOR: use_item
    let mut experiment = Experiment {
        net: Xor::default(),
        epochs: 500,
    };
    let report = train_xor(&mut experiment.net, experiment.epochs);
    // ANCHOR_END: use_item
    out.section("item");
    writeln!(
        out,
        "Xor::INPUTS {}, Xor::OUTPUTS {}, Xor::PARAMS {}, Xor::SEED {}",
        Xor::INPUTS,
        Xor::OUTPUTS,
        Xor::PARAMS,
        Xor::SEED
    )
    .unwrap();
    writeln!(out, "Xor, trained {} epochs: {report}", experiment.epochs)
        .unwrap();
    writeln!(
        out,
        "Wider, trained 500 epochs: {}",
        train_xor(&mut Wider::new(3), 500)
    )
    .unwrap();

    // ANCHOR: by_hand
    // What `Xor::new(7)` builds, written out: the same layers, the same draws
    // from the same generator, in the same order.
    let mut rng = mlp::rng(7);
    let hidden = Dense::<2, 4, _, f64>::new(Tanh, Init::XavierNormal, &mut rng);
    let output = Dense::<4, 1, _, f64>::new(Sigmoid, Init::Zeros, &mut rng);
    let mut by_hand = Network::new(hidden, output, Bce, rng);
    let mut declared = Xor::new(7);
    let (x, y) = xor();
    by_hand.fit(x.view(), y.view(), &xor_settings(500)).unwrap();
    declared
        .fit(x.view(), y.view(), &xor_settings(500))
        .unwrap();
    let identical = by_hand.get_weights() == declared.get_weights();
    // ANCHOR_END: by_hand
    out.section("by_hand");
    writeln!(out, "after 500 epochs, by hand and declared: bit-identical weights: {identical}").unwrap();
    out.end();
    out
}

mlp::network! {
    Deep: input 3 => dense 5 tanh => dense 7 relu => dense 6 elu => dense 2 softmax; loss cross_entropy
}

pub fn exercises() -> Page {
    let mut out = Page::new();
    // ANCHOR: ex1
    // (3 x 5 + 5) + (5 x 7 + 7) + (7 x 6 + 6) + (6 x 2 + 2)
    let by_hand = (3 * 5 + 5) + (5 * 7 + 7) + (7 * 6 + 6) + (6 * 2 + 2);
    let net = Deep::new(0);
    // ANCHOR_END: ex1
    out.section("ex1");
    writeln!(
        out,
        "by hand {by_hand}, Deep::PARAMS {}, param_count() {}",
        Deep::PARAMS,
        net.param_count()
    )
    .unwrap();
    write!(out, "{}", net.summary()).unwrap();

    // ANCHOR: ex2
    fn accuracy<M: Model<Float = f64>>(
        net: &M,
        x: &Array2<f64>,
        y: &Array2<f64>,
    ) -> f64 {
        let out = net.predict_batch(x.view()).unwrap();
        let right = out
            .iter()
            .zip(y)
            .filter(|(o, t)| (**o > 0.5) == (**t > 0.5))
            .count();
        right as f64 / y.len() as f64
    }
    let (x, y) = xor();
    let mut nets = (Xor::new(1), Wider::new(1));
    nets.0.fit(x.view(), y.view(), &xor_settings(300)).unwrap();
    nets.1.fit(x.view(), y.view(), &xor_settings(300)).unwrap();
    // ANCHOR_END: ex2
    out.section("ex2");
    writeln!(
        out,
        "Xor   {} parameters: accuracy {:.2}",
        <Xor as Model>::PARAMS,
        accuracy(&nets.0, &x, &y)
    )
    .unwrap();
    writeln!(
        out,
        "Wider {} parameters: accuracy {:.2}",
        <Wider as Model>::PARAMS,
        accuracy(&nets.1, &x, &y)
    )
    .unwrap();
    out.end();
    out
}
