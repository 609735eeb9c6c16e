// Chapter 5: gradient descent and the output layer's delta.
// Run: cargo run --example ch05_output_delta
// (add `-- --exercises` for the solutions to the exercises).
use mlp::prelude::*;
use mlp::{Activation, DeltaFor, Derivative, LossFor};
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

/// Four points on a line through the origin, with a little noise; both
/// columns have mean zero, so the best bias is zero.
fn line_data() -> (Array2<f64>, Array2<f64>) {
    let x = array![[-1.5], [-0.5], [0.5], [1.5]];
    let y = array![[-3.1], [-0.9], [1.1], [2.9]];
    (x, y)
}

/// `y_hat = w x + b` as a network: no hidden layer, one identity unit.
type Line = Network<Input<1>, Dense<1, 1, Identity, f64>, Mse, f64>;

/// The unit starting at `w`, `b = 0`.
fn line(w: f64) -> Line {
    let unit = Dense::from_weights(array![[w]], array![0.0], Identity).unwrap();
    Network::new(Input::<1>, unit, Mse, mlp::rng(0))
}

// ANCHOR: descend
/// Full-batch gradient descent from `w = 0` at learning rate `eta`: the
/// weight and the loss after each update.
fn descend(eta: f64, updates: usize) -> Vec<(f64, f64)> {
    let (x, y) = line_data();
    let mut net = line(0.0);
    let cfg = TrainConfig::new()
        .epochs(updates)
        .batch(Batch::Full)
        .optimizer(Sgd::new(eta));
    let mut path = vec![(0.0, net.evaluate(x.view(), y.view()).unwrap())];
    // One epoch is one update in full-batch mode.
    for _ in 0..updates {
        if net.fit(x.view(), y.view(), &cfg.clone().epochs(1)).is_err() {
            break; // the loss overflowed: divergence
        }
        let w = net.output_layer().weights()[[0, 0]];
        path.push((w, net.evaluate(x.view(), y.view()).unwrap()));
    }
    path
}
// ANCHOR_END: descend

/// `delta` of the output layer for one sample, three ways: as backprop
/// computes it (`trace`), from the chapter's formula, and as the central
/// difference of the loss with respect to the output bias (for one sample
/// `dL/db = delta`).
fn three_ways<A, L>(act: A, loss: L, a: f64, y: f64, formula: f64) -> String
where
    A: mlp::Derivative<f64>,
    L: DeltaFor<f64, A> + LossFor<f64, A>,
{
    // One input of 1, weight 0, bias a: the output unit's pre-activation is a.
    let at = |b: f64| {
        let unit =
            Dense::<1, 1, A, f64>::from_weights(array![[0.0]], array![b], act)
                .unwrap();
        Network::new(Input::<1>, unit, loss, mlp::rng(0))
    };
    let (x, t) = (array![[1.0]], array![[y]]);
    let backprop =
        at(a).trace(x.view(), t.view()).unwrap().layers[0].delta[[0, 0]];
    let e = 1e-6;
    let loss_at = |b: f64| at(b).evaluate(x.view(), t.view()).unwrap();
    let numeric = (loss_at(a + e) - loss_at(a - e)) / (2.0 * e);
    format!(
        "backprop {backprop:+.6}  formula {formula:+.6}  difference quotient {numeric:+.6}"
    )
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let (x, y) = line_data();
    // The loss is L(w) = c w^2 / 2 - m w + const: c = mean(x^2), m = mean(x y).
    let c = x.iter().map(|v| v * v).sum::<f64>() / 4.0;
    let m = x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>() / 4.0;
    out.fact("curvature", format!("{c}"));
    out.fact("w_star", format!("{:.2}", m / c));
    out.fact("eta_one_step", format!("{}", 1.0 / c));
    out.fact("eta_max", format!("{}", 2.0 / c));

    out.section("rates");
    let rates = [0.2, 0.8, 1.5, 1.7];
    writeln!(
        out,
        "  eta   w after 1, 2, 3, 20 updates           loss after 20"
    )
    .unwrap();
    let mut paths = Vec::new();
    for eta in rates {
        let path = descend(eta, 20);
        let w = |k: usize| path.get(k).map_or(f64::NAN, |p| p.0);
        writeln!(
            out,
            "  {eta:<4}  {:>8.4} {:>8.4} {:>8.4} {:>10.4}  {:>12.4e}",
            w(1),
            w(2),
            w(3),
            w(20),
            path.last().unwrap().1
        )
        .unwrap();
        paths.push((eta, path));
    }
    out.fact("w_after_one_step", format!("{:.4}", paths[1].1[1].0));

    out.section("cases");
    // ANCHOR: cases
    let (a, y): (f64, f64) = (0.8, 1.0);
    let s = 1.0 / (1.0 + (-a).exp()); // y_hat = sigmoid(a)
    let cases = [
        ("mse + identity", three_ways(Identity, Mse, a, y, a - y)),
        (
            "mse + sigmoid",
            three_ways(Sigmoid, Mse, a, y, (s - y) * s * (1.0 - s)),
        ),
        ("bce + sigmoid", three_ways(Sigmoid, Bce, a, y, s - y)),
    ];
    // ANCHOR_END: cases
    writeln!(out, "one output, a = {a}, y = {y}:").unwrap();
    for (name, line) in cases {
        writeln!(out, "  {name:<15} {line}").unwrap();
    }

    out.section("softmax");
    // ANCHOR: softmax
    // Softmax + cross-entropy on three classes; the target is class 2.
    let layer = Dense::<1, 3, _, f64>::from_weights(
        array![[0.0], [0.0], [0.0]],
        array![1.0, -0.5, 2.0],
        Softmax,
    )
    .unwrap();
    let mut net = Network::new(Input::<1>, layer, CrossEntropy, mlp::rng(0));
    let (x1, target) = (array![[1.0]], array![[0.0, 0.0, 1.0]]);
    let t = net.trace(x1.view(), target.view()).unwrap();
    let h = &t.layers[0].h; // y_hat = softmax(a)
    let delta = &t.layers[0].delta;
    // ANCHOR_END: softmax
    writeln!(out, "softmax([1, -0.5, 2]) = {:.6}", h.row(0)).unwrap();
    writeln!(out, "delta from backprop   = {:.6}", delta.row(0)).unwrap();
    writeln!(
        out,
        "y_hat - y             = {:.6}",
        &h.row(0) - &target.row(0)
    )
    .unwrap();

    out.section("extreme");
    // ANCHOR: extreme
    // Logits of +-1e4, target class 1 (the one with the low score).
    let a = [1e4f64, -1e4];
    let y = [0.0, 1.0];
    let mut h = [0.0f64; 2];
    Softmax.forward(&a, &mut h, 2); // [1, 0]: e^-2e4 underflows to 0
    // The textbook chain: L = -sum y ln h, dL/dh = -y / h, then J^T.
    let naive_loss = -(y[0] * h[0].ln() + y[1] * h[1].ln());
    let grad_h = [-y[0] / h[0], -y[1] / h[1]];
    let mut naive_delta = [0.0; 2];
    Softmax.backward(&a, &h, &grad_h, &mut naive_delta, 2);
    // The fused form: L = logsumexp(a) - a_1, delta = h - y.
    let fused_loss = CrossEntropy.total(&Softmax, &a, &h, &y, 2);
    let mut fused_delta = [0.0; 2];
    CrossEntropy.delta(
        &Softmax,
        &a,
        &h,
        &y,
        &mut [0.0; 2],
        &mut fused_delta,
        2,
    );
    // ANCHOR_END: extreme
    writeln!(out, "logits [1e4, -1e4], target class 1:").unwrap();
    writeln!(
        out,
        "  chain rule through h:  loss {naive_loss}, delta {naive_delta:?}"
    )
    .unwrap();
    writeln!(
        out,
        "  fused form:            loss {fused_loss}, delta {fused_delta:?}"
    )
    .unwrap();

    out.section("slowdown");
    // ANCHOR: slowdown
    // One sigmoid unit, input 1, target 0, starting badly wrong (w = b = 2,
    // y_hat = 0.98): Nielsen's experiment, with each loss.
    fn unit<L>(loss: L) -> Network<Input<1>, Dense<1, 1, Sigmoid, f64>, L, f64>
    where
        L: DeltaFor<f64, Sigmoid>,
    {
        let d =
            Dense::from_weights(array![[2.0]], array![2.0], Sigmoid).unwrap();
        Network::new(Input::<1>, d, loss, mlp::rng(0))
    }
    let (x, y) = (array![[1.0]], array![[0.0]]);
    let cfg = TrainConfig::new()
        .epochs(300)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.15));
    let mut quadratic = unit(Mse);
    let mut cross_entropy = unit(Bce);
    let mut outputs = (Vec::new(), Vec::new());
    for epoch in 0..=300 {
        outputs.0.push((epoch as f64, quadratic.predict(&[1.0])[0]));
        outputs
            .1
            .push((epoch as f64, cross_entropy.predict(&[1.0])[0]));
        quadratic
            .fit(x.view(), y.view(), &cfg.clone().epochs(1))
            .unwrap();
        cross_entropy
            .fit(x.view(), y.view(), &cfg.clone().epochs(1))
            .unwrap();
    }
    // ANCHOR_END: slowdown
    writeln!(out, "output y_hat of one sigmoid unit (target 0):").unwrap();
    writeln!(out, "  epoch    mse + sigmoid   bce + sigmoid").unwrap();
    for e in [0, 50, 100, 150, 200, 300] {
        writeln!(
            out,
            "  {e:>5} {:>16.4} {:>15.4}",
            outputs.0[e].1, outputs.1[e].1
        )
        .unwrap();
    }
    out.fact("slow_150", format!("{:.2}", outputs.0[150].1));
    out.fact("fast_150", format!("{:.2}", outputs.1[150].1));

    out.figure("ch05_rates.svg", rates_figure(&paths, c, m));
    out.figure(
        "ch05_slowdown.svg",
        LineChart::new(
            "One sigmoid unit learning the target 0",
            "epoch",
            "output y_hat",
        )
        .series(Series::new("mse + sigmoid", outputs.0, 1))
        .series(Series::new("bce + sigmoid", outputs.1, 0))
        .y_range(0.0..1.0)
        .svg(),
    );
    out
}

/// The loss after each update for every learning rate (log scale), and the
/// path of `w` on the loss curve for the two largest.
fn rates_figure(paths: &[(f64, Vec<(f64, f64)>)], c: f64, m: f64) -> String {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 760)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let (top, bottom) = root.split_vertically(380);
        let mut chart = LineChart::new(
            "Loss after each update",
            "update",
            "loss (log scale)",
        )
        .log_y()
        .legend(Legend::UpperRight)
        .y_range(1e-3..1e3);
        for (k, (eta, path)) in paths.iter().enumerate() {
            let pts = path
                .iter()
                .enumerate()
                .map(|(i, p)| (i as f64, p.1))
                .collect();
            chart = chart
                .series(Series::new(format!("eta = {eta}"), pts, k).markers());
        }
        chart.size(720, 380).draw_on(&top);
        // The loss as a function of w, with the first steps at two rates.
        let (x, y) = line_data();
        let loss = |w: f64| {
            x.iter()
                .zip(&y)
                .map(|(a, b)| 0.5 * (w * a - b).powi(2))
                .sum::<f64>()
                / 4.0
        };
        let curve: Vec<(f64, f64)> = (0..=200)
            .map(|i| -0.8 + 5.6 * i as f64 / 200.0)
            .map(|w| (w, loss(w)))
            .collect();
        let mut chart = LineChart::new(
            format!(
                "The loss as a function of w (minimum at w = {:.2})",
                m / c
            ),
            "weight w",
            "loss",
        )
        .series(Series::new("loss L(w)", curve, 6))
        .x_range(-0.8..4.8)
        .y_range(-0.3..14.0)
        .legend(Legend::UpperRight);
        for (k, (eta, path)) in paths.iter().enumerate().skip(2) {
            let steps: Vec<(f64, f64)> = path.iter().take(5).copied().collect();
            chart = chart.series(
                Series::new(format!("first steps, eta = {eta}"), steps, k)
                    .markers()
                    .dashed(),
            );
        }
        chart.size(720, 380).draw_on(&bottom);
        root.present().unwrap();
    }
    svg
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    out.section("ex1");
    // ANCHOR: ex1
    // mae + identity: L = |y_hat - y|, dL/dy_hat = sign(y_hat - y), phi' = 1.
    let (a, y) = (0.3, 1.0);
    let unit =
        Dense::<1, 1, _, f64>::from_weights(array![[0.0]], array![a], Identity)
            .unwrap();
    let mut net = Network::new(Input::<1>, unit, Mae, mlp::rng(0));
    let t = net.trace(array![[1.0]].view(), array![[y]].view()).unwrap();
    // ANCHOR_END: ex1
    writeln!(
        out,
        "mae + identity at a = {a}, y = {y}: delta = {}",
        t.layers[0].delta[[0, 0]]
    )
    .unwrap();

    out.section("ex2");
    // ANCHOR: ex2
    // Inputs ten times larger: the curvature mean(x^2) grows a hundredfold,
    // so the largest stable rate shrinks a hundredfold.
    let (x, y) = line_data();
    let x = x * 10.0;
    let c = x.iter().map(|v| v * v).sum::<f64>() / 4.0;
    let mut last = Vec::new();
    for eta in [1.9 / c, 2.1 / c] {
        let mut net = line(0.0);
        let cfg = TrainConfig::new()
            .epochs(50)
            .batch(Batch::Full)
            .optimizer(Sgd::new(eta));
        net.fit(x.view(), y.view(), &cfg).unwrap();
        last.push((eta, net.evaluate(x.view(), y.view()).unwrap()));
    }
    // ANCHOR_END: ex2
    writeln!(out, "curvature {c}, largest stable rate 2/c = {}", 2.0 / c)
        .unwrap();
    for (eta, loss) in last {
        writeln!(out, "  eta = {eta:.6}: loss after 50 updates {loss:.4e}")
            .unwrap();
    }

    out.section("ex3");
    // ANCHOR: ex3
    // The largest |delta| each sigmoid pairing can produce, over y_hat in
    // (0, 1) and targets 0 and 1.
    let grid = (1..10_000).map(|i| i as f64 / 10_000.0);
    let mse = grid
        .clone()
        .flat_map(|h| [0.0, 1.0].map(|y| ((h - y) * h * (1.0 - h)).abs()))
        .fold(0.0, f64::max);
    let bce = grid
        .flat_map(|h| [0.0, 1.0].map(|y| (h - y).abs()))
        .fold(0.0, f64::max);
    // ANCHOR_END: ex3
    writeln!(out, "largest |delta|: mse + sigmoid {mse:.4} (4/27 = {:.4}), bce + sigmoid {bce:.4}", 4.0 / 27.0).unwrap();
    out
}
