// Chapter 8: initialisation.
// Run from the repository's root: cargo run --release --example ch08_init
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::{Dataset, Standardizer};
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series};
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
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    (x, y)
}

/// The digits, standardised: 1797 images of 64 pixels, 10 classes.
fn digits() -> (Array2<f64>, Array2<f64>) {
    let data = Dataset::<f64>::read_csv("data/digits.csv.gz").unwrap();
    let x = Standardizer::fit(data.x.view())
        .unwrap()
        .transform(data.x.view())
        .unwrap();
    (x, data.one_hot().unwrap())
}

// ANCHOR: stack
/// Hidden layers of width 64, one per token after the `;`, each drawn by
/// `init`: `stack!(Relu, init, &mut rng; 1 2 3)` is three layers.
macro_rules! stack {
    ($act:expr, $init:expr, $rng:expr; $first:tt $($rest:tt)*) => {{
        let s = Dense::<64, 64, _, f64>::new($act, $init, $rng);
        $(let s = { let _ = $rest; s.then(Dense::<64, 64, _, f64>::new($act, $init, $rng)) };)*
        s
    }};
}
// ANCHOR_END: stack

/// Per hidden layer: the spread (standard deviation) of its outputs, the
/// fraction of saturated units, and the size (L2 norm) of its weight
/// gradient, from one traced pass over `x`.
fn layer_stats<H>(
    net: &mut Network<H, Dense<64, 10, Softmax, f64>, CrossEntropy, f64>,
    x: &Array2<f64>,
    y: &Array2<f64>,
) -> Vec<(f64, f64, f64)>
where
    H: mlp::Backward<f64, In = mlp::Const<64>, Out = mlp::Const<64>>,
{
    let t = net.trace(x.view(), y.view()).unwrap();
    let mut stats = Vec::new();
    for (layer, saturated) in t.layers.iter().zip(saturation(&t)) {
        let grad = layer.grad_w.iter().map(|g| g * g).sum::<f64>().sqrt();
        stats.push((layer.h.std(0.0), saturated, grad));
    }
    stats.pop(); // the output layer
    stats
}

/// The fraction of each layer's outputs that sit where the activation is
/// nearly flat: |h| > 0.99 for tanh (whose slope is then below 0.02),
/// h = 0 for ReLU.
fn saturation(t: &mlp::Trace<f64>) -> Vec<f64> {
    t.layers
        .iter()
        .map(|l| {
            let flat = |h: f64| {
                if l.activation == "tanh" {
                    h.abs() > 0.99
                } else {
                    h <= 0.0
                }
            };
            l.h.iter().filter(|&&h| flat(h)).count() as f64 / l.h.len() as f64
        })
        .collect()
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let (x, y) = xor();

    out.section("symmetry");
    // ANCHOR: symmetry
    // 2-3-1 tanh network on XOR, every weight starting at the same value.
    let symmetric = |value: f64| {
        let mut rng = mlp::rng(0);
        let hidden = Dense::<2, 3, _, f64>::new(Tanh, Init::Zeros, &mut rng);
        let output = Dense::<3, 1, _, f64>::new(Sigmoid, Init::Zeros, &mut rng);
        let mut net = Network::new(hidden, output, Bce, rng);
        let mut layers = net.get_weights();
        layers[0].0.fill(value);
        layers[1].0.fill(value);
        net.set_weights(&layers).unwrap();
        let cfg = TrainConfig::new()
            .epochs(2000)
            .batch(Batch::Full)
            .optimizer(Sgd::new(0.5));
        net.fit(x.view(), y.view(), &cfg).unwrap();
        net
    };
    let (zeros, halves) = (symmetric(0.0), symmetric(0.5));
    // ANCHOR_END: symmetry
    for (name, net) in [("all weights 0", &zeros), ("all weights 0.5", &halves)]
    {
        let w = net.hidden().weights();
        writeln!(out, "{name}, after 2000 epochs:").unwrap();
        for u in 0..3 {
            writeln!(
                out,
                "  hidden unit {u}: w = [{:+.4}, {:+.4}], b = {:+.4}",
                w[[u, 0]],
                w[[u, 1]],
                net.hidden().bias()[u]
            )
            .unwrap();
        }
        let outputs = net.predict_batch(x.view()).unwrap();
        writeln!(out, "  outputs {:.3}", outputs.column(0)).unwrap();
    }

    out.section("schemes");
    // ANCHOR: schemes
    // The standard deviation each scheme draws, for 64 inputs and 32
    // outputs: measured over the 2048 weights of one layer, and by formula.
    let mut rng = mlp::rng(1);
    let schemes = [
        ("xavier (normal)", Init::XavierNormal),
        ("xavier_uniform", Init::XavierUniform),
        ("he (normal)", Init::HeNormal),
        ("he_uniform", Init::HeUniform),
        ("lecun", Init::LecunNormal),
    ];
    for (name, init) in schemes {
        let layer = Dense::<64, 32, _, f64>::new(Identity, init, &mut rng);
        let measured = layer.weights().std(0.0);
        writeln!(
            out,
            "{name:<16} formula {:.4}  drawn {measured:.4}",
            init.std(64, 32)
        )
        .unwrap();
    }
    // ANCHOR_END: schemes

    // ANCHOR: saturate
    // Ten tanh layers of width 64 on the digits, one pass, three schemes.
    let (dx, dy) = digits();
    let tanh_stats = |init: Init| {
        let mut rng = mlp::rng(2);
        let hidden = stack!(Tanh, init, &mut rng; 1 2 3 4 5 6 7 8 9 10);
        let output = Dense::<64, 10, _, f64>::new(Softmax, init, &mut rng);
        let mut net = Network::new(hidden, output, CrossEntropy, rng);
        layer_stats(&mut net, &dx, &dy)
    };
    let tanh_schemes = [
        ("N(0, 1)", Init::Normal(1.0)),
        ("Xavier", Init::XavierNormal),
        ("He", Init::HeNormal),
    ];
    let tanh_runs: Vec<_> = tanh_schemes
        .iter()
        .map(|&(name, init)| (name, tanh_stats(init)))
        .collect();
    // ANCHOR_END: saturate
    out.section("tanh");
    writeln!(out, "ten tanh layers: spread of h / saturated fraction / ||dL/dW|| per layer").unwrap();
    for (name, stats) in &tanh_runs {
        writeln!(out, "  {name}").unwrap();
        for (k, (std, sat, grad)) in stats.iter().enumerate() {
            if [0, 1, 4, 9].contains(&k) {
                writeln!(
                    out,
                    "    layer {:>2}: {std:>7.4} {sat:>7.3} {grad:>10.2e}",
                    k + 1
                )
                .unwrap();
            }
        }
    }
    let ratio = |s: &[(f64, f64, f64)]| s[0].2 / s[9].2;
    out.fact(
        "normal_saturated",
        format!("{:.0}%", 100.0 * tanh_runs[0].1[9].1),
    );
    out.fact("normal_ratio", format!("{:.0}", ratio(&tanh_runs[0].1)));
    out.fact("xavier_ratio", format!("{:.1}", ratio(&tanh_runs[1].1)));

    // ANCHOR: deep_relu
    // Thirty ReLU layers, biases at zero as in He et al. (2015), trained
    // for 20 epochs from Xavier's and from He's start.
    let relu_run = |init: Init| {
        let mut rng = mlp::rng(1);
        let hidden = stack!(Relu, init, &mut rng;
            1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30);
        let output = Dense::<64, 10, _, f64>::new(Softmax, init, &mut rng);
        let mut net = Network::new(hidden, output, CrossEntropy, rng);
        let mut layers = net.get_weights();
        layers.iter_mut().for_each(|(_, b)| b.fill(0.0));
        net.set_weights(&layers).unwrap();
        let at_start = layer_stats(&mut net, &dx, &dy);
        let cfg = TrainConfig::new()
            .epochs(20)
            .batch(Batch::Mini(32))
            .optimizer(Sgd::new(0.01));
        let history = net.fit(dx.view(), dy.view(), &cfg).unwrap();
        (at_start, history.train_loss())
    };
    let (xavier, he) = (relu_run(Init::XavierNormal), relu_run(Init::HeNormal));
    // ANCHOR_END: deep_relu
    out.section("relu");
    writeln!(
        out,
        "thirty ReLU layers at the start: spread of h / ||dL/dW|| per layer"
    )
    .unwrap();
    writeln!(out, "  layer        Xavier                He").unwrap();
    for k in [0, 9, 19, 29] {
        let (a, b) = (xavier.0[k], he.0[k]);
        writeln!(
            out,
            "  {:>5}  {:>9.2e} {:>9.2e}  {:>9.2e} {:>9.2e}",
            k + 1,
            a.0,
            a.2,
            b.0,
            b.2
        )
        .unwrap();
    }
    writeln!(out, "training loss after epochs 1, 5, 10, 20:").unwrap();
    let at =
        |l: &[f64]| format!("{:.3} {:.3} {:.3} {:.3}", l[0], l[4], l[9], l[19]);
    writeln!(out, "  Xavier  {}", at(&xavier.1)).unwrap();
    writeln!(out, "  He      {}", at(&he.1)).unwrap();
    out.fact("xavier_loss", format!("{:.3}", xavier.1[19]));
    out.fact("he_loss", format!("{:.3}", he.1[19]));
    out.fact("xavier_spread_30", format!("{:.1e}", xavier.0[29].0));
    out.fact("he_spread_30", format!("{:.2}", he.0[29].0));

    out.section("mission");
    // ANCHOR: mission
    // The mission's line on XOR from 100 seeds: the start network! makes
    // (ReLU biases at 0.1, output weights at 0), and Keras's start (every
    // layer drawn by He, biases at 0). How many learn XOR in 1000
    // full-batch epochs, and how many start with a unit that is inactive
    // on all four inputs?
    mlp::network! {
        Mission: input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he
    }
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    let x32 = x.mapv(|v| v as f32);
    let y32 = y.mapv(|v| v as f32);
    let (mut ours, mut keras, mut dead_ours, mut dead_keras) = (0, 0, 0, 0);
    for seed in 0..100 {
        let mut net = Mission::new(seed);
        let mut keras_net = {
            let mut rng = mlp::rng(seed);
            let hidden = Dense::<2, 4, _>::new(Relu, Init::HeNormal, &mut rng);
            let output =
                Dense::<4, 1, _>::new(Sigmoid, Init::HeNormal, &mut rng);
            let mut net = Network::new(hidden, output, Bce, rng);
            let mut layers = net.get_weights();
            layers[0].1.fill(0.0);
            net.set_weights(&layers).unwrap();
            net
        };
        dead_ours += dead_units(net.get_weights()[0].clone());
        dead_keras += dead_units(keras_net.get_weights()[0].clone());
        net.fit(x32.view(), y32.view(), &cfg).unwrap();
        keras_net.fit(x32.view(), y32.view(), &cfg).unwrap();
        ours += solves(&net.predict_batch(x32.view()).unwrap()) as usize;
        keras += solves(&keras_net.predict_batch(x32.view()).unwrap()) as usize;
    }
    // ANCHOR_END: mission
    writeln!(
        out,
        "input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he"
    )
    .unwrap();
    writeln!(out, "100 seeds, 1000 full-batch epochs of SGD at 0.5:").unwrap();
    writeln!(
        out,
        "  start                    learn XOR   dead units at the start"
    )
    .unwrap();
    writeln!(
        out,
        "  Keras (He, zero biases)  {keras:>9}   {dead_keras:>23}"
    )
    .unwrap();
    writeln!(
        out,
        "  network! (0.1, zero out) {ours:>9}   {dead_ours:>23}"
    )
    .unwrap();
    out.fact("mission_ours", ours);
    out.fact("mission_keras", keras);
    out.fact("mission_dead_keras", dead_keras);

    // Figures.
    let layers = |f: fn(&(f64, f64, f64)) -> f64, stats: &[(f64, f64, f64)]| {
        stats
            .iter()
            .enumerate()
            .map(|(k, s)| ((k + 1) as f64, f(s)))
            .collect::<Vec<_>>()
    };
    out.figure("ch08_tanh.svg", {
        let mut spread = LineChart::new(
            "Ten tanh layers at the start: spread of h",
            "hidden layer",
            "std of h (log scale)",
        )
        .log_y()
        .legend(Legend::LowerLeft);
        let mut grads = LineChart::new(
            "... and size of the weight gradient",
            "hidden layer",
            "||dL/dW|| (log scale)",
        )
        .log_y()
        .legend(Legend::UpperRight);
        for (k, (name, stats)) in tanh_runs.iter().enumerate() {
            spread = spread.series(
                Series::new(*name, layers(|s| s.0, stats), k).markers(),
            );
            grads = grads.series(
                Series::new(*name, layers(|s| s.2, stats), k).markers(),
            );
        }
        two_panels(&spread, &grads)
    });
    out.figure("ch08_relu.svg", {
        let spread = LineChart::new(
            "Thirty ReLU layers at the start: spread of h",
            "hidden layer",
            "std of h (log scale)",
        )
        .log_y()
        .legend(Legend::LowerLeft)
        .series(Series::new("Xavier", layers(|s| s.0, &xavier.0), 1).markers())
        .series(Series::new("He", layers(|s| s.0, &he.0), 0).markers());
        let curve = |l: &[f64]| {
            l.iter()
                .enumerate()
                .map(|(e, &v)| ((e + 1) as f64, v))
                .collect()
        };
        let loss = LineChart::new("... and training", "epoch", "training loss")
            .legend(Legend::LowerLeft)
            .y_range(0.0..2.5)
            .series(Series::new("Xavier", curve(&xavier.1), 1).markers())
            .series(Series::new("He", curve(&he.1), 0).markers());
        two_panels(&spread, &loss)
    });
    out
}

/// Two charts, one above the other.
fn two_panels(top: &LineChart, bottom: &LineChart) -> String {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 780)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let (a, b) = root.split_vertically(390);
        top.draw_on(&a);
        bottom.draw_on(&b);
        root.present().unwrap();
    }
    svg
}

/// Hidden units of the first layer that are inactive (a <= 0) on all four
/// XOR inputs: their weights and bias make `w . x + b <= 0` at every corner.
fn dead_units((w, b): (Array2<f32>, ndarray::Array1<f32>)) -> usize {
    let corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    (0..w.nrows())
        .filter(|&u| {
            corners
                .iter()
                .all(|c| w[[u, 0]] * c[0] + w[[u, 1]] * c[1] + b[u] <= 0.0)
        })
        .count()
}

/// Whether four XOR outputs are on the right side of 0.5.
fn solves(outputs: &Array2<f32>) -> bool {
    outputs
        .iter()
        .zip([0.0, 1.0, 1.0, 0.0])
        .all(|(o, t)| (*o > 0.5) == (t > 0.5))
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    out.section("ex1");
    // ANCHOR: ex1
    // Ten sigmoid layers from N(0, 1) and from Xavier.
    let (dx, dy) = digits();
    let sigmoid_stats = |init: Init| {
        let mut rng = mlp::rng(2);
        let hidden = stack!(Sigmoid, init, &mut rng; 1 2 3 4 5 6 7 8 9 10);
        let output = Dense::<64, 10, _, f64>::new(Softmax, init, &mut rng);
        let mut net = Network::new(hidden, output, CrossEntropy, rng);
        let t = net.trace(dx.view(), dy.view()).unwrap();
        t.layers[..10]
            .iter()
            .map(|l| l.grad_w.iter().map(|g| g * g).sum::<f64>().sqrt())
            .collect::<Vec<_>>()
    };
    let (normal, xavier) = (
        sigmoid_stats(Init::Normal(1.0)),
        sigmoid_stats(Init::XavierNormal),
    );
    // ANCHOR_END: ex1
    writeln!(out, "||dL/dW|| of layers 1 and 10, ten sigmoid layers:").unwrap();
    writeln!(
        out,
        "  N(0, 1): {:.2e} and {:.2e}, ratio {:.0}",
        normal[0],
        normal[9],
        normal[9] / normal[0]
    )
    .unwrap();
    writeln!(
        out,
        "  Xavier:  {:.2e} and {:.2e}, ratio {:.0}",
        xavier[0],
        xavier[9],
        xavier[9] / xavier[0]
    )
    .unwrap();

    out.section("ex2");
    // ANCHOR: ex2
    // Var(a) of a ReLU layer from He's start, layer by layer, with zero
    // biases: each layer keeps Var(a) = 2 E[h^2] ... = Var of the layer below.
    let mut rng = mlp::rng(3);
    let x = Array2::from_shape_fn((2000, 64), |_| {
        Init::Normal(1.0).sample::<f64, _>(1, 1, &mut rng)
    });
    let mut h = x.clone();
    let mut variances = Vec::new();
    for _ in 0..6 {
        let w = Array2::from_shape_fn((64, 64), |_| {
            Init::HeNormal.sample::<f64, _>(64, 64, &mut rng)
        });
        let a = h.dot(&w.t());
        variances.push(a.var(0.0));
        h = a.mapv(|v| v.max(0.0));
    }
    // ANCHOR_END: ex2
    writeln!(
        out,
        "Var(a) in six ReLU layers from He's start: {:.3?}",
        variances
    )
    .unwrap();
    out
}
