// Chapter 3: XOR and hidden layers. Run: cargo run --example ch03_xor
use mlp::prelude::*;
use ndarray::{Array2, array};
use std::fmt::Write;

fn main() {
    print!("{}", chapter());
}

fn xor_data() -> (Array2<f64>, Array2<f64>) {
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    (x, y)
}

// ANCHOR: hand_built
/// The XOR network of the lecture notes (Cheng, eqs. 1a-1c): the first hidden
/// unit fires unless both inputs are on (NAND), the second if either is on
/// (OR), and the output fires only if both hidden units do (AND).
fn hand_built()
-> Network<Dense<2, 2, Step, f64>, Dense<2, 1, Step, f64>, Mse, f64> {
    // Rows are units: [w1, w2], with the biases separately.
    let w1 = array![[-1.0, -1.0], [1.0, 1.0]];
    let b1 = array![1.5, -0.5];
    let w2 = array![[1.0, 1.0]];
    let b2 = array![-1.0];
    let hidden = Dense::from_weights(w1, b1, Step).unwrap();
    let output = Dense::from_weights(w2, b2, Step).unwrap();
    Network::new(hidden, output, Mse, mlp::rng(0))
}
// ANCHOR_END: hand_built

// ANCHOR: learned
/// A 2-2-1 sigmoid network trained by backprop from small random weights.
fn learned(seed: u64) -> (History, NetXor) {
    let (x, y) = xor_data();
    let mut rng = mlp::rng(seed);
    let hidden = Dense::new(Sigmoid, Init::Uniform(1.0), &mut rng);
    let output = Dense::new(Sigmoid, Init::Uniform(1.0), &mut rng);
    let mut net = Network::new(hidden, output, Mse, rng);
    let cfg = TrainConfig::new()
        .epochs(5000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(2.0).momentum(0.9));
    let history = net.fit(x.view(), y.view(), &cfg).unwrap();
    (history, net)
}
type NetXor =
    Network<Dense<2, 2, Sigmoid, f64>, Dense<2, 1, Sigmoid, f64>, Mse, f64>;
// ANCHOR_END: learned

/// Everything this chapter prints (snapshot-tested by tests/book.rs).
pub fn chapter() -> String {
    let mut out = String::new();
    let (x, y) = xor_data();

    // ANCHOR: truth_table
    let net = hand_built();
    writeln!(out, "x1 x2 | h1 (NAND) h2 (OR) | y_hat target").unwrap();
    for (row, t) in x.rows().into_iter().zip(y.iter()) {
        let input = [row[0], row[1]];
        let h = net.hidden().infer(&input);
        let y_hat = net.predict(&input);
        writeln!(
            out,
            "{:>2} {:>2} | {:>9} {:>7} | {:>5} {:>6}",
            row[0], row[1], h[0], h[1], y_hat[0], t
        )
        .unwrap();
    }
    // ANCHOR_END: truth_table

    let (history, net) = learned(3);
    writeln!(out, "\nBackprop, 2-2-1 sigmoid, seed 3:").unwrap();
    for e in history
        .epochs
        .iter()
        .filter(|e| [1, 10, 100, 500, 1000, 2000, 5000].contains(&e.epoch))
    {
        writeln!(out, "  epoch {:>4}  loss {:.6}", e.epoch, e.train_loss)
            .unwrap();
    }
    let outputs = net.predict_batch(x.view()).unwrap();
    writeln!(out, "  outputs {:.4?}", outputs.column(0).to_vec()).unwrap();
    let w = net.hidden().weights();
    let b = net.hidden().bias();
    for u in 0..2 {
        writeln!(
            out,
            "  hidden unit {u}: w = [{:.3}, {:.3}], b = {:.3}",
            w[[u, 0]],
            w[[u, 1]],
            b[u]
        )
        .unwrap();
    }

    // ANCHOR: seeds
    let mut solved = Vec::new();
    let mut stalled = Vec::new();
    for seed in 0..20 {
        let (_, net) = learned(seed);
        let y_hat = net.predict_batch(x.view()).unwrap();
        let right = y_hat
            .iter()
            .zip(y.iter())
            .all(|(o, t)| (*o > 0.5) == (*t > 0.5));
        if right {
            solved.push(seed)
        } else {
            stalled.push(seed)
        }
    }
    // ANCHOR_END: seeds
    writeln!(
        out,
        "\n20 seeds: {} learn XOR, {} stall",
        solved.len(),
        stalled.len()
    )
    .unwrap();
    writeln!(out, "  stalled seeds: {stalled:?}").unwrap();
    for &seed in &stalled {
        let (h, net) = learned(seed);
        let y_hat = net.predict_batch(x.view()).unwrap();
        writeln!(
            out,
            "  seed {seed}: final loss {:.4}, outputs {:.3?}",
            h.last().unwrap().train_loss,
            y_hat.column(0).to_vec()
        )
        .unwrap();
    }

    // ANCHOR: collapse
    // Two layers without a nonlinearity ...
    let w1 = array![[0.5, -1.2], [1.5, 0.3], [-0.7, 0.8]];
    let l1 = Dense::<2, 3, _, f64>::from_weights(
        w1,
        array![0.1, -0.4, 0.25],
        Identity,
    )
    .unwrap();
    let w2 = array![[1.1, -0.6, 0.9]];
    let l2 =
        Dense::<3, 1, _, f64>::from_weights(w2, array![0.3], Identity).unwrap();
    // ... are the single layer W = W2 W1, b = W2 b1 + b2.
    let w = l2.weights().dot(&l1.weights());
    let b = l2.weights().dot(&l1.bias()) + l2.bias();
    let deep = Network::new(l1, l2, Mse, mlp::rng(0));
    // ANCHOR_END: collapse
    writeln!(
        out,
        "\nTwo identity layers collapse to W = {:.4}, b = {:.4}",
        w, b
    )
    .unwrap();
    for input in [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] {
        let two = deep.predict(&input)[0];
        let one = w[[0, 0]] * input[0] + w[[0, 1]] * input[1] + b[0];
        writeln!(
            out,
            "  x = {input:?}: two layers {two:+.6}, one layer {one:+.6}"
        )
        .unwrap();
    }

    // ANCHOR: sine
    let n = 64;
    let pi = std::f64::consts::PI;
    let xs = Array2::from_shape_fn((n, 1), |(i, _)| {
        -pi + 2.0 * pi * i as f64 / (n - 1) as f64
    });
    let ys = xs.mapv(f64::sin);
    let mut sine = network! {
        input 1 => dense 16 tanh => dense 1 identity;
        loss mse; seed 1; dtype f64
    };
    let cfg = TrainConfig::new()
        .epochs(3000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    sine.fit(xs.view(), ys.view(), &cfg).unwrap();
    // ANCHOR_END: sine
    let test =
        Array2::from_shape_fn((200, 1), |(i, _)| -3.1 + 6.2 * i as f64 / 199.0);
    let pred = sine.predict_batch(test.view()).unwrap();
    let mse = pred
        .iter()
        .zip(test.iter())
        .map(|(p, x)| (p - x.sin()).powi(2))
        .sum::<f64>()
        / 200.0;
    writeln!(
        out,
        "\nsin(x) with 16 tanh units: mean squared error {mse:.2e} on 200 test points"
    )
    .unwrap();
    let worst = pred
        .iter()
        .zip(test.iter())
        .map(|(p, x)| (p - x.sin()).abs())
        .fold(0.0, f64::max);
    writeln!(out, "  largest error {worst:.4}").unwrap();
    out
}

/// The chapter's figures: `(file name, SVG)`.
pub fn figures() -> Vec<(&'static str, String)> {
    use plotters::prelude::*;
    let (x, y) = xor_data();
    let region = |name: &str, f: &dyn Fn(f64, f64) -> f64| -> String {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (360, 340))
                .into_drawing_area();
            root.fill(&WHITE).unwrap();
            let mut chart = ChartBuilder::on(&root)
                .caption(name, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(44)
                .build_cartesian_2d(-0.5f64..1.5, -0.5f64..1.5)
                .unwrap();
            chart
                .configure_mesh()
                .disable_mesh()
                .x_label_formatter(&|v| {
                    format!("{:.1}", (v * 10.0).round() / 10.0 + 0.0)
                })
                .y_label_formatter(&|v| {
                    format!("{:.1}", (v * 10.0).round() / 10.0 + 0.0)
                })
                .x_desc("x1")
                .y_desc("x2")
                .draw()
                .unwrap();
            let cells = 40;
            let step = 2.0 / cells as f64;
            let mut squares = Vec::new();
            for i in 0..cells {
                for j in 0..cells {
                    let (x1, x2) =
                        (-0.5 + i as f64 * step, -0.5 + j as f64 * step);
                    let v = f(x1 + step / 2.0, x2 + step / 2.0).clamp(0.0, 1.0);
                    // White for 0, light blue for 1.
                    let c = RGBColor(
                        (255.0 - 110.0 * v) as u8,
                        (255.0 - 70.0 * v) as u8,
                        255,
                    );
                    squares.push(Rectangle::new(
                        [(x1, x2), (x1 + step, x2 + step)],
                        c.filled(),
                    ));
                }
            }
            chart.draw_series(squares).unwrap();
            let points = x.rows().into_iter().zip(y.iter()).map(|(r, &t)| {
                let style = if t > 0.5 {
                    BLUE.filled()
                } else {
                    RED.stroke_width(2)
                };
                Circle::new((r[0], r[1]), 7, style)
            });
            chart.draw_series(points).unwrap();
            root.present().unwrap();
        }
        svg
    };
    let hand = hand_built();
    let (_, net) = learned(3);
    let hand_svg =
        region("Hand-built step network", &|a, b| hand.predict(&[a, b])[0]);
    let learned_svg = region("Learned by backprop (seed 3)", &|a, b| {
        net.predict(&[a, b])[0]
    });
    vec![
        ("ch03_hand_built.svg", hand_svg),
        ("ch03_learned.svg", learned_svg),
    ]
}
