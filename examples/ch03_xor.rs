// Chapter 3: XOR and hidden layers. Run: cargo run --example ch03_xor
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

/// Whether `net` puts every XOR point on the right side of 0.5.
fn solves<H, O, L>(net: &Network<H, O, L, f64>) -> bool
where
    H: mlp::Parameters<f64>,
    O: mlp::OutputLayer<f64> + mlp::Takes<f64, H::Out>,
    L: mlp::Loss<f64>,
{
    let (x, y) = xor_data();
    let y_hat = net.predict_batch(x.view()).unwrap();
    y_hat
        .iter()
        .zip(y.iter())
        .all(|(o, t)| (*o > 0.5) == (*t > 0.5))
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let (x, y) = xor_data();

    out.section("truth_table");
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
    out.section("learned");
    writeln!(out, "Backprop, 2-2-1 sigmoid, seed 3:").unwrap();
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
    let at = |e: usize| history.epochs[e - 1].train_loss;
    out.fact("loss_1", format!("{:.4}", at(1)));
    out.fact("loss_100", format!("{:.4}", at(100)));
    out.fact("loss_500", format!("{:.6}", at(500)));
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
        if solves(&net) {
            solved.push(seed)
        } else {
            stalled.push(seed)
        }
    }
    // ANCHOR_END: seeds
    out.section("seeds");
    writeln!(
        out,
        "20 seeds: {} learn XOR, {} stall",
        solved.len(),
        stalled.len()
    )
    .unwrap();
    out.fact("solved", solved.len());
    out.fact("stalled", stalled.len());
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
    out.fact("stall_loss", {
        let (h, _) = learned(stalled[0]);
        format!("{:.4}", h.last().unwrap().train_loss)
    });

    // ANCHOR: plateau
    // At a stall the gradient is small but not zero, and the loss keeps
    // creeping down: a plateau, not a minimum.
    let (_, mut stuck) = learned(stalled[0]);
    let g = stuck.gradients(x.view(), y.view()).unwrap();
    let norm = g
        .layers
        .iter()
        .flat_map(|(gw, gb)| gw.iter().chain(gb.iter()))
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    let largest = |net: &NetXor| {
        let layers = net.get_weights();
        layers
            .iter()
            .flat_map(|(w, _)| w.iter().map(|v| v.abs()))
            .fold(0.0, f64::max)
    };
    let (before, w_before) =
        (stuck.evaluate(x.view(), y.view()).unwrap(), largest(&stuck));
    let more = TrainConfig::new()
        .epochs(100_000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(2.0).momentum(0.9));
    stuck.fit(x.view(), y.view(), &more).unwrap();
    let (after, w_after) =
        (stuck.evaluate(x.view(), y.view()).unwrap(), largest(&stuck));
    // ANCHOR_END: plateau
    out.section("plateau");
    writeln!(
        out,
        "seed {}: gradient norm at the stall {norm:.2e}",
        stalled[0]
    )
    .unwrap();
    writeln!(
        out,
        "  after 100000 more epochs: loss {before:.8} -> {after:.8}, largest |w| {w_before:.2} -> {w_after:.2}"
    )
    .unwrap();
    out.fact("plateau_norm", format!("{norm:.1e}"));

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
    out.section("collapse");
    writeln!(
        out,
        "Two identity layers collapse to W = {:.4}, b = {:.4}",
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
    out.section("sine");
    writeln!(
        out,
        "sin(x) with 16 tanh units: mean squared error {mse:.2e} on 200 test points"
    )
    .unwrap();
    let worst = pred
        .iter()
        .zip(test.iter())
        .map(|(p, x)| (p - x.sin()).abs())
        .fold(0.0, f64::max);
    writeln!(out, "  largest error {worst:.4}").unwrap();
    for (name, svg) in figures() {
        out.figure(name, svg);
    }
    out
}

/// The chapter's figures: `(file name, SVG)`. Each shades where the
/// network's output is above 0.5 and marks the four XOR points.
fn figures() -> Vec<(&'static str, String)> {
    use mlp_book::plot::{CAPTION, Mark, PALETTE, legend_row, style_mesh};
    use plotters::prelude::*;
    let (x, y) = xor_data();
    let shade = RGBColor(205, 225, 245);
    let region = |name: &str, f: &dyn Fn(f64, f64) -> f64| -> String {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (440, 470))
                .into_drawing_area();
            root.fill(&WHITE).unwrap();
            let (top, legend) = root.split_vertically(430);
            let mut chart = ChartBuilder::on(&top)
                .caption(name, CAPTION)
                .margin(12)
                .x_label_area_size(46)
                .y_label_area_size(54)
                .build_cartesian_2d(-0.5f64..1.5, -0.5f64..1.5)
                .unwrap();
            let cells = 80;
            let step = 2.0 / cells as f64;
            let mut squares = Vec::new();
            for i in 0..cells {
                for j in 0..cells {
                    let (x1, x2) =
                        (-0.5 + i as f64 * step, -0.5 + j as f64 * step);
                    if f(x1 + step / 2.0, x2 + step / 2.0) > 0.5 {
                        squares.push(Rectangle::new(
                            [(x1, x2), (x1 + step, x2 + step)],
                            shade.filled(),
                        ));
                    }
                }
            }
            chart.draw_series(squares).unwrap();
            style_mesh(&mut chart, "x1", "x2");
            let points = x.rows().into_iter().zip(y.iter()).map(|(r, &t)| {
                let style = if t > 0.5 {
                    PALETTE[0].filled()
                } else {
                    PALETTE[1].stroke_width(3)
                };
                Circle::new((r[0], r[1]), 8, style)
            });
            chart.draw_series(points).unwrap();
            legend_row(
                &legend,
                &[
                    (Mark::Patch(shade), "output > 0.5"),
                    (Mark::Dot(PALETTE[0]), "target 1"),
                    (Mark::Ring(PALETTE[1]), "target 0"),
                ],
            );
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

/// `phi(a) = a^2`, `phi'(a) = 2a`: a polynomial activation, for exercise 3.
#[derive(Debug, Clone, Copy)]
struct Square;
impl<F: mlp::Float> mlp::Elementwise<F> for Square {
    const NAME: &'static str = "square";
    fn phi(&self, a: F) -> F {
        a * a
    }
}
impl<F: mlp::Float> mlp::ElementwiseDerivative<F> for Square {
    fn dphi(&self, a: F, _h: F) -> F {
        F::from_f64(2.0) * a
    }
}
mlp::elementwise_activation!(Square);

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    let (x, y) = xor_data();

    out.section("ex1");
    // ANCHOR: ex1
    // Hidden units OR and AND; the output fires for "OR and not AND".
    let hidden = Dense::<2, 2, _, f64>::from_weights(
        array![[1.0, 1.0], [1.0, 1.0]],
        array![-0.5, -1.5],
        Step,
    )
    .unwrap();
    let output = Dense::<2, 1, _, f64>::from_weights(
        array![[1.0, -1.0]],
        array![-0.5],
        Step,
    )
    .unwrap();
    let net = Network::new(hidden, output, Mse, mlp::rng(0));
    // ANCHOR_END: ex1
    writeln!(out, "x1 x2 | OR AND | y_hat").unwrap();
    for row in x.rows() {
        let h = net.hidden().infer(&[row[0], row[1]]);
        let y_hat = net.predict(&[row[0], row[1]])[0];
        writeln!(
            out,
            "{:>2} {:>2} | {:>2} {:>3} | {:>5}",
            row[0], row[1], h[0], h[1], y_hat
        )
        .unwrap();
    }

    out.section("ex2");
    // ANCHOR: ex2
    // The chapter's stalled seeds, with three hidden units instead of two.
    let mut results = Vec::new();
    for seed in [8, 9, 17] {
        let mut rng = mlp::rng(seed);
        let hidden =
            Dense::<2, 3, _, f64>::new(Sigmoid, Init::Uniform(1.0), &mut rng);
        let output =
            Dense::<3, 1, _, f64>::new(Sigmoid, Init::Uniform(1.0), &mut rng);
        let mut net = Network::new(hidden, output, Mse, rng);
        let cfg = TrainConfig::new()
            .epochs(5000)
            .batch(Batch::Full)
            .optimizer(Sgd::new(2.0).momentum(0.9));
        let history = net.fit(x.view(), y.view(), &cfg).unwrap();
        results.push((seed, history.last().unwrap().train_loss, solves(&net)));
    }
    // ANCHOR_END: ex2
    for (seed, loss, ok) in results {
        writeln!(
            out,
            "seed {seed:>2}, 2-3-1: final loss {loss:.2e}, learns XOR: {ok}"
        )
        .unwrap();
    }

    out.section("ex3");
    // ANCHOR: ex3
    // |x| on [-1, 1]: square hidden units and a linear output can only
    // build a quadratic, so they do no better than the best quadratic.
    let n = 101;
    let xs =
        Array2::from_shape_fn((n, 1), |(i, _)| -1.0 + 2.0 * i as f64 / 100.0);
    let ys = xs.mapv(f64::abs);
    let cfg = TrainConfig::new()
        .epochs(5000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let mut rng = mlp::rng(1);
    let hidden =
        Dense::<1, 16, _, f64>::new(Square, Init::XavierNormal, &mut rng);
    let output =
        Dense::<16, 1, _, f64>::new(Identity, Init::XavierNormal, &mut rng);
    let mut square = Network::new(hidden, output, Mse, rng);
    square.fit(xs.view(), ys.view(), &cfg).unwrap();
    let mut tanh = network! {
        input 1 => dense 16 tanh => dense 1 identity; loss mse; seed 1; dtype f64
    };
    tanh.fit(xs.view(), ys.view(), &cfg).unwrap();
    // The best quadratic c0 + c2 x^2 (|x| is even) by least squares.
    let (s0, s2, s4, t0, t2) =
        xs.iter()
            .zip(&ys)
            .fold((0.0, 0.0, 0.0, 0.0, 0.0), |a, (&x, &y)| {
                (
                    a.0 + 1.0,
                    a.1 + x * x,
                    a.2 + x.powi(4),
                    a.3 + y,
                    a.4 + y * x * x,
                )
            });
    let c2 = (s0 * t2 - s2 * t0) / (s0 * s4 - s2 * s2);
    let c0 = (t0 - c2 * s2) / s0;
    let quad = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 0.5 * (c0 + c2 * x * x - y).powi(2))
        .sum::<f64>()
        / n as f64;
    // ANCHOR_END: ex3
    let sq = square.evaluate(xs.view(), ys.view()).unwrap();
    let th = tanh.evaluate(xs.view(), ys.view()).unwrap();
    writeln!(out, "loss (1/2 squared error) fitting |x| on [-1, 1]:").unwrap();
    writeln!(out, "  best quadratic          {quad:.2e}").unwrap();
    writeln!(out, "  16 square units         {sq:.2e}").unwrap();
    writeln!(out, "  16 tanh units           {th:.2e}").unwrap();
    out
}
