// Chapter 6: the hidden layers' delta, and backpropagation as a whole.
// Run: cargo run --example ch06_backprop
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

/// The worked example's network: 2 inputs, 2 sigmoid hidden units, 1
/// sigmoid output, squared error.
type Worked =
    Network<Dense<2, 2, Sigmoid, f64>, Dense<2, 1, Sigmoid, f64>, Mse, f64>;

// ANCHOR: worked_net
/// The worked example: every weight chosen by hand.
fn worked() -> Worked {
    let hidden = Dense::from_weights(
        array![[0.5, -0.4], [0.3, 0.8]], // w_11 w_12 ; w_21 w_22
        array![0.1, -0.2],               // b_1 ; b_2
        Sigmoid,
    )
    .unwrap();
    let output = Dense::from_weights(
        array![[0.7, -0.6]], // w_31 w_32
        array![0.05],        // b_3
        Sigmoid,
    )
    .unwrap();
    Network::new(hidden, output, Mse, mlp::rng(0))
}
// ANCHOR_END: worked_net

/// One sample: the input `(1, 0)` with target `1`, and the learning rate.
const X: [f64; 2] = [1.0, 0.0];
const Y: f64 = 1.0;
const ETA: f64 = 0.5;

fn sigma(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// Every number of the example, computed by hand: plain arithmetic on the
/// formulas of the chapter, without the library.
#[derive(Debug, Clone, Copy)]
struct ByHand {
    a: [f64; 3],
    h: [f64; 3],
    loss: f64,
    delta: [f64; 3],
    grad_w1: [[f64; 2]; 2],
    grad_b1: [f64; 2],
    grad_w2: [f64; 2],
    grad_b2: f64,
}

// ANCHOR: by_hand
fn by_hand(w1: [[f64; 2]; 2], b1: [f64; 2], w2: [f64; 2], b2: f64) -> ByHand {
    // Forward: a = W h + b, h = sigma(a), layer by layer.
    let a1 = w1[0][0] * X[0] + w1[0][1] * X[1] + b1[0];
    let a2 = w1[1][0] * X[0] + w1[1][1] * X[1] + b1[1];
    let (h1, h2) = (sigma(a1), sigma(a2));
    let a3 = w2[0] * h1 + w2[1] * h2 + b2;
    let y_hat = sigma(a3);
    let loss = 0.5 * (y_hat - Y).powi(2);
    // Output layer: delta_3 = dL/dy_hat * sigma'(a_3).
    let d3 = (y_hat - Y) * y_hat * (1.0 - y_hat);
    // Hidden layer: delta_j = sigma'(a_j) * w_3j * delta_3.
    let d1 = h1 * (1.0 - h1) * w2[0] * d3;
    let d2 = h2 * (1.0 - h2) * w2[1] * d3;
    // Gradients: dL/dw = delta * (the input the weight multiplies).
    ByHand {
        a: [a1, a2, a3],
        h: [h1, h2, y_hat],
        loss,
        delta: [d1, d2, d3],
        grad_w1: [[d1 * X[0], d1 * X[1]], [d2 * X[0], d2 * X[1]]],
        grad_b1: [d1, d2],
        grad_w2: [d3 * h1, d3 * h2],
        grad_b2: d3,
    }
}
// ANCHOR_END: by_hand

/// Multiply-adds of a forward pass for one sample through layers of the
/// given widths.
fn forward_macs(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| w[0] * w[1]).sum()
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figure (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let net = worked();
    let hand =
        by_hand([[0.5, -0.4], [0.3, 0.8]], [0.1, -0.2], [0.7, -0.6], 0.05);

    // ANCHOR: trace
    let x = array![[X[0], X[1]]];
    let y = array![[Y]];
    let mut net = net;
    let t = net.trace(x.view(), y.view()).unwrap();
    let (hidden, output) = (&t.layers[0], &t.layers[1]);
    // ANCHOR_END: trace

    out.section("forward");
    let row = |out: &mut Page,
               name: &str,
               formula: &str,
               hand: f64,
               traced: f64| {
        assert!((hand - traced).abs() < 1e-12, "{name}: {hand} vs {traced}");
        // (Adding 0 turns a -0 from a product with x_2 = 0 into 0.)
        let (hand, traced) = (hand + 0.0, traced + 0.0);
        writeln!(out, "{name:<8} {formula:<34} {hand:>10.6} {traced:>10.6}")
            .unwrap();
    };
    writeln!(
        out,
        "{:<8} {:<34} {:>10} {:>10}",
        "", "formula", "by hand", "trace"
    )
    .unwrap();
    row(
        &mut out,
        "a_1",
        "w_11 x_1 + w_12 x_2 + b_1",
        hand.a[0],
        hidden.a[[0, 0]],
    );
    row(
        &mut out,
        "a_2",
        "w_21 x_1 + w_22 x_2 + b_2",
        hand.a[1],
        hidden.a[[0, 1]],
    );
    row(&mut out, "h_1", "sigma(a_1)", hand.h[0], hidden.h[[0, 0]]);
    row(&mut out, "h_2", "sigma(a_2)", hand.h[1], hidden.h[[0, 1]]);
    row(
        &mut out,
        "a_3",
        "w_31 h_1 + w_32 h_2 + b_3",
        hand.a[2],
        output.a[[0, 0]],
    );
    row(&mut out, "y_hat", "sigma(a_3)", hand.h[2], output.h[[0, 0]]);
    row(&mut out, "L", "(y_hat - y)^2 / 2", hand.loss, t.loss);

    out.section("backward");
    writeln!(
        out,
        "{:<8} {:<34} {:>10} {:>10}",
        "", "formula", "by hand", "trace"
    )
    .unwrap();
    row(
        &mut out,
        "delta_3",
        "(y_hat - y) y_hat (1 - y_hat)",
        hand.delta[2],
        output.delta[[0, 0]],
    );
    row(
        &mut out,
        "delta_1",
        "h_1 (1 - h_1) w_31 delta_3",
        hand.delta[0],
        hidden.delta[[0, 0]],
    );
    row(
        &mut out,
        "delta_2",
        "h_2 (1 - h_2) w_32 delta_3",
        hand.delta[1],
        hidden.delta[[0, 1]],
    );
    row(
        &mut out,
        "dL/dw_31",
        "delta_3 h_1",
        hand.grad_w2[0],
        output.grad_w[[0, 0]],
    );
    row(
        &mut out,
        "dL/dw_32",
        "delta_3 h_2",
        hand.grad_w2[1],
        output.grad_w[[0, 1]],
    );
    row(
        &mut out,
        "dL/db_3",
        "delta_3",
        hand.grad_b2,
        output.grad_b[0],
    );
    row(
        &mut out,
        "dL/dw_11",
        "delta_1 x_1",
        hand.grad_w1[0][0],
        hidden.grad_w[[0, 0]],
    );
    row(
        &mut out,
        "dL/dw_12",
        "delta_1 x_2",
        hand.grad_w1[0][1],
        hidden.grad_w[[0, 1]],
    );
    row(
        &mut out,
        "dL/dw_21",
        "delta_2 x_1",
        hand.grad_w1[1][0],
        hidden.grad_w[[1, 0]],
    );
    row(
        &mut out,
        "dL/dw_22",
        "delta_2 x_2",
        hand.grad_w1[1][1],
        hidden.grad_w[[1, 1]],
    );
    row(
        &mut out,
        "dL/db_1",
        "delta_1",
        hand.grad_b1[0],
        hidden.grad_b[0],
    );
    row(
        &mut out,
        "dL/db_2",
        "delta_2",
        hand.grad_b1[1],
        hidden.grad_b[1],
    );

    out.section("update");
    // ANCHOR: update
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(ETA));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let after = net.get_weights();
    // ANCHOR_END: update
    let (w1, w2) = (&after[0].0, &after[1].0);
    writeln!(
        out,
        "{:<8} {:<34} {:>10} {:>10}",
        "", "w - eta dL/dw", "by hand", "fit"
    )
    .unwrap();
    let start = [[0.5, -0.4], [0.3, 0.8]];
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let name = format!("w_{}{}", i + 1, j + 1);
        let formula = format!(
            "{} - {ETA} ({:+.6})",
            start[i][j],
            hand.grad_w1[i][j] + 0.0
        );
        row(
            &mut out,
            &name,
            &formula,
            start[i][j] - ETA * hand.grad_w1[i][j],
            w1[[i, j]],
        );
    }
    for (j, w) in [0.7, -0.6].into_iter().enumerate() {
        let name = format!("w_3{}", j + 1);
        let formula = format!("{w} - {ETA} ({:+.6})", hand.grad_w2[j]);
        row(
            &mut out,
            &name,
            &formula,
            w - ETA * hand.grad_w2[j],
            w2[[0, j]],
        );
    }
    let new_loss = net.evaluate(x.view(), y.view()).unwrap();
    writeln!(
        out,
        "loss before the step {:.6}, after {new_loss:.6}",
        hand.loss
    )
    .unwrap();
    out.fact("delta_3", format!("{:.6}", hand.delta[2]));
    out.fact("w_31", "0.7");
    out.fact("loss_before", format!("{:.6}", hand.loss));
    out.fact("loss_after", format!("{new_loss:.6}"));

    out.section("cost");
    // ANCHOR: cost
    // One gradient of a 64-32-10 network, by backprop and by differences.
    let mut rng = mlp::rng(1);
    let h = Dense::<64, 32, _, f64>::new(Tanh, Init::XavierNormal, &mut rng);
    let o = Dense::<32, 10, _, f64>::new(Softmax, Init::XavierNormal, &mut rng);
    let mut big = Network::new(h, o, CrossEntropy, rng);
    let xs = Array2::from_shape_fn((1, 64), |(_, j)| (j as f64 * 0.37).sin());
    let ys = mlp::data::one_hot::<f64>(&[3], 10).unwrap();
    big.gradients(xs.view(), ys.view()).unwrap(); // sizes the buffers
    let clock = std::time::Instant::now();
    for _ in 0..10 {
        big.gradients(xs.view(), ys.view()).unwrap();
    }
    let backprop_time = clock.elapsed() / 10;
    let clock = std::time::Instant::now();
    let check = big.grad_check(xs.view(), ys.view(), 1e-4).unwrap();
    let difference_time = clock.elapsed();
    // ANCHOR_END: cost
    let params = big.param_count();
    let fwd = forward_macs(&[64, 32, 10]);
    // Backprop: the forward pass, then for each layer the weight gradient
    // (as many multiply-adds as the forward product) and, except for the
    // first layer, the gradient for the layer below (as many again).
    let bp = fwd + fwd + 32 * 10;
    // grad_check evaluates the loss 4 times per parameter.
    let fd = 4 * params * fwd;
    writeln!(out, "64-32-10 network, {params} parameters, one sample:")
        .unwrap();
    writeln!(out, "  backprop:             1 forward + 1 backward pass, {bp:>10} multiply-adds").unwrap();
    writeln!(out, "  finite differences: {:>5} forward passes,       {fd:>10} multiply-adds", 4 * params)
        .unwrap();
    writeln!(
        out,
        "  ratio {:.0}; backprop and differences agree to {:.1e}",
        fd as f64 / bp as f64,
        check.max_rel_error
    )
    .unwrap();
    // Timings vary from run to run; the claim printed is one that holds on
    // any machine by a wide margin, and it is checked here.
    assert!(
        difference_time > backprop_time * 100,
        "{difference_time:?} vs {backprop_time:?}"
    );
    writeln!(
        out,
        "  measured: the differences took more than 100 times as long"
    )
    .unwrap();
    out.fact("params", params);
    out.fact("ratio", format!("{:.0}", fd as f64 / bp as f64));

    out.section("paths");
    // A weight of the first layer reaches one output of a network with
    // `depth` hidden layers of width `n` along n^(depth - 1) paths.
    writeln!(
        out,
        "width  hidden layers  paths from a first-layer weight to one output"
    )
    .unwrap();
    for (n, depth) in [(10, 2), (10, 5), (100, 5)] {
        writeln!(out, "{n:>5} {depth:>14}  {:>12}", (n as u64).pow(depth - 1))
            .unwrap();
    }

    out.figure("ch06_worked.svg", diagram(&hand));
    out
}

/// The worked example as a diagram: each unit with `a`, `h` and `delta`,
/// each connection with its weight and gradient.
fn diagram(v: &ByHand) -> String {
    use mlp_book::plot::PALETTE;
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 540)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let centred = |size: u32| {
            ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        let title = "Worked example: x = (1, 0), y = 1, one backprop step";
        root.draw(&Text::new(title, (360, 22), centred(24)))
            .unwrap();
        let pos = [(90, 180), (90, 400), (360, 180), (360, 400), (630, 290)];
        // (from, to, weight, gradient, where its label goes)
        let edges = [
            (0, 2, 0.5, v.grad_w1[0][0], (225, 156)),
            (1, 3, 0.8, v.grad_w1[1][1], (225, 424)),
            (0, 3, 0.3, v.grad_w1[1][0], (152, 236)),
            (1, 2, -0.4, v.grad_w1[0][1], (176, 326)),
            (2, 4, 0.7, v.grad_w2[0], (515, 212)),
            (3, 4, -0.6, v.grad_w2[1], (515, 368)),
        ];
        for &(from, to, w, g, (lx, ly)) in &edges {
            let (p, q) = (pos[from], pos[to]);
            let line = RGBColor(150, 150, 150).stroke_width(2);
            root.draw(&PathElement::new(vec![p, q], line)).unwrap();
            let label = [(lx - 68, ly - 20), (lx + 68, ly + 20)];
            root.draw(&Rectangle::new(label, WHITE.mix(0.92).filled()))
                .unwrap();
            root.draw(&Text::new(
                format!("w = {w}"),
                (lx, ly - 9),
                centred(19),
            ))
            .unwrap();
            let orange = centred(17).color(&PALETTE[1]);
            let text = format!("dL/dw = {:+.4}", g + 0.0);
            root.draw(&Text::new(text, (lx, ly + 10), orange)).unwrap();
        }
        let unit = |k: usize| {
            vec![
                format!("a = {:.4}", v.a[k]),
                format!("h = {:.4}", v.h[k]),
                format!("delta = {:+.4}", v.delta[k]),
            ]
        };
        // (node, name, annotations, annotations above the node)
        let nodes = [
            (0, "x1 = 1", vec![], false),
            (1, "x2 = 0", vec![], false),
            (2, "h1", unit(0), true),
            (3, "h2", unit(1), false),
            (4, "y_hat", unit(2), false),
        ];
        for (k, name, lines, above) in nodes {
            let (x, y) = pos[k];
            let fill = if k < 2 {
                RGBColor(235, 235, 235)
            } else {
                RGBColor(215, 232, 247)
            };
            root.draw(&Circle::new((x, y), 30, fill.filled())).unwrap();
            root.draw(&Circle::new((x, y), 30, PALETTE[0].stroke_width(2)))
                .unwrap();
            root.draw(&Text::new(name, (x, y), centred(19))).unwrap();
            for (i, line) in lines.iter().enumerate() {
                let color = if i == 2 { PALETTE[1] } else { BLACK };
                let dy = if above {
                    -86 + 20 * i as i32
                } else {
                    46 + 20 * i as i32
                };
                let style = centred(17).color(&color);
                root.draw(&Text::new(line.clone(), (x, y + dy), style))
                    .unwrap();
            }
        }
        let note =
            format!("loss L = {:.6}; errors and gradients in orange", v.loss);
        root.draw(&Text::new(note, (360, 520), centred(19)))
            .unwrap();
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
    // The worked example with tanh hidden units: tanh'(a) = 1 - tanh(a)^2.
    let hidden = Dense::<2, 2, _, f64>::from_weights(
        array![[0.5, -0.4], [0.3, 0.8]],
        array![0.1, -0.2],
        Tanh,
    )
    .unwrap();
    let output = Dense::<2, 1, _, f64>::from_weights(
        array![[0.7, -0.6]],
        array![0.05],
        Sigmoid,
    )
    .unwrap();
    let mut net = Network::new(hidden, output, Mse, mlp::rng(0));
    let t = net
        .trace(array![[1.0, 0.0]].view(), array![[1.0]].view())
        .unwrap();
    let (h1, h2) = ((0.5f64 + 0.1).tanh(), (0.3f64 - 0.2).tanh());
    let y_hat = sigma(0.7 * h1 - 0.6 * h2 + 0.05);
    let d3 = (y_hat - 1.0) * y_hat * (1.0 - y_hat);
    let by_hand = [(1.0 - h1 * h1) * 0.7 * d3, (1.0 - h2 * h2) * -0.6 * d3];
    // ANCHOR_END: ex1
    writeln!(
        out,
        "delta_1, delta_2 by hand: [{:.6}, {:.6}]",
        by_hand[0], by_hand[1]
    )
    .unwrap();
    writeln!(
        out,
        "delta_1, delta_2 by trace: {:.6}",
        t.layers[0].delta.row(0)
    )
    .unwrap();

    out.section("ex2");
    // ANCHOR: ex2
    // Three hidden layers of different activations, softmax output.
    let mut rng = mlp::rng(2);
    let stack = Dense::<3, 5, _, f64>::new(Tanh, Init::XavierNormal, &mut rng)
        .then(Dense::<5, 4, _, f64>::new(
            Elu::new(1.0),
            Init::HeNormal,
            &mut rng,
        ))
        .then(Dense::<4, 3, _, f64>::new(Swish, Init::HeNormal, &mut rng));
    let output =
        Dense::<3, 2, _, f64>::new(Softmax, Init::XavierNormal, &mut rng);
    let mut deep = Network::new(stack, output, CrossEntropy, rng);
    let x = Array2::from_shape_fn((6, 3), |(i, j)| {
        ((i * 3 + j) as f64 * 0.61).cos()
    });
    let y = mlp::data::one_hot::<f64>(&[0, 1, 1, 0, 1, 0], 2).unwrap();
    let check = deep.grad_check(x.view(), y.view(), 1e-4).unwrap();
    // ANCHOR_END: ex2
    writeln!(
        out,
        "{} parameters checked, largest relative error {:.1e}",
        check.checked, check.max_rel_error
    )
    .unwrap();

    out.section("ex3");
    // ANCHOR: ex3
    // Zero output weights: delta_j = sigma'(a_j) w_3j delta_3 = 0 for every
    // hidden unit, but the output weights still get delta_3 h_j.
    let hidden = Dense::<2, 2, _, f64>::from_weights(
        array![[0.5, -0.4], [0.3, 0.8]],
        array![0.1, -0.2],
        Sigmoid,
    )
    .unwrap();
    let output = Dense::<2, 1, _, f64>::from_weights(
        array![[0.0, 0.0]],
        array![0.0],
        Sigmoid,
    )
    .unwrap();
    let mut net = Network::new(hidden, output, Mse, mlp::rng(0));
    let (x, y) = (array![[1.0, 0.0]], array![[1.0]]);
    let first = net.gradients(x.view(), y.view()).unwrap();
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let second = net.gradients(x.view(), y.view()).unwrap();
    // ANCHOR_END: ex3
    writeln!(
        out,
        "before any step: hidden dL/dW = {:.6}, output dL/dW = {:.6}",
        first.layers[0].0, first.layers[1].0
    )
    .unwrap();
    writeln!(
        out,
        "after one step:  hidden dL/dW = {:.6}",
        second.layers[0].0
    )
    .unwrap();
    out
}
