// Chapter 9: vanishing and exploding gradients, and clipping.
// Run from the repository's root: cargo run --release --example ch09_gradients
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::{Dataset, Standardizer};
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series};
use ndarray::Array2;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

/// The digits with pixels scaled to [0, 1], and one-hot targets.
fn digits() -> (Array2<f64>, Array2<f64>, Vec<usize>) {
    let data = Dataset::<f64>::read_csv("data/digits.csv.gz").unwrap();
    (
        data.x.mapv(|v| v / 16.0),
        data.one_hot().unwrap(),
        data.labels,
    )
}

/// The L2 norm of a list of numbers.
fn norm<'a>(v: impl IntoIterator<Item = &'a f64>) -> f64 {
    v.into_iter().map(|g| g * g).sum::<f64>().sqrt()
}

// ANCHOR: sigmoid_net
/// Nielsen's deep sigmoid network, sized for the digits: four hidden layers
/// of 30, ten sigmoid outputs, cross-entropy, weights N(0, 1/fan_in).
fn sigmoid_net(
    act: impl mlp::Derivative<f64> + Copy,
) -> Network<
    impl mlp::Backward<f64, In = mlp::Const<64>, Out = mlp::Const<30>>,
    Dense<30, 10, Sigmoid, f64>,
    Bce,
    f64,
> {
    let mut rng = mlp::rng(1);
    let init = Init::LecunNormal;
    let hidden = Dense::<64, 30, _, f64>::new(act, init, &mut rng)
        .then(Dense::<30, 30, _, f64>::new(act, init, &mut rng))
        .then(Dense::<30, 30, _, f64>::new(act, init, &mut rng))
        .then(Dense::<30, 30, _, f64>::new(act, init, &mut rng));
    let output = Dense::<30, 10, _, f64>::new(Sigmoid, init, &mut rng);
    Network::new(hidden, output, Bce, rng)
}
// ANCHOR_END: sigmoid_net

// ANCHOR: speed_fn
/// Nielsen's "speed of learning" of each layer: the size of its bias
/// gradient, dL/db = delta averaged over the samples, over the whole set.
fn speeds<H>(
    net: &mut Network<H, Dense<30, 10, Sigmoid, f64>, Bce, f64>,
    x: &Array2<f64>,
    y: &Array2<f64>,
) -> Vec<f64>
where
    H: mlp::Backward<f64, In = mlp::Const<64>, Out = mlp::Const<30>>,
{
    let g = net.gradients(x.view(), y.view()).unwrap();
    g.layers.iter().map(|(_, b)| norm(b)).collect()
}
// ANCHOR_END: speed_fn

/// The fraction of the digits a network of this chapter classifies right.
fn accuracy<H>(
    net: &Network<H, Dense<30, 10, Sigmoid, f64>, Bce, f64>,
    x: &Array2<f64>,
    labels: &[usize],
) -> f64
where
    H: mlp::Backward<f64, In = mlp::Const<64>, Out = mlp::Const<30>>,
{
    let guess = mlp::data::classes(net.predict_batch(x.view()).unwrap().view());
    mlp::data::accuracy(&guess, labels).unwrap()
}

/// `n` points of `y = 3 sin(1.5 x)` on [-2, 2].
fn sine(n: usize) -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((n, 1), |(i, _)| {
        -2.0 + 4.0 * i as f64 / (n - 1) as f64
    });
    let y = x.mapv(|x| 3.0 * (1.5 * x).sin());
    (x, y)
}

mlp::network! {
    /// Two tanh layers of 32 for the sine.
    SineNet: input 1 => dense 32 tanh => dense 32 tanh => dense 1 identity;
        loss mse; seed 3; dtype f64
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let (x, y, labels) = digits();

    // ANCHOR: speeds
    let mut net = sigmoid_net(Sigmoid);
    let at_start = speeds(&mut net, &x, &y);
    let cfg = TrainConfig::new()
        .epochs(30)
        .batch(Batch::Mini(10))
        .optimizer(Sgd::new(0.1));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let after = speeds(&mut net, &x, &y);
    // ANCHOR_END: speeds
    out.section("speeds");
    writeln!(out, "||dL/db|| per layer of 64-30-30-30-30-10 sigmoid").unwrap();
    writeln!(out, "  layer      at the start   after 30 epochs").unwrap();
    for (k, (a, b)) in at_start.iter().zip(&after).enumerate() {
        let name = if k == 4 {
            "output".to_string()
        } else {
            format!("{}", k + 1)
        };
        writeln!(out, "  {name:<8} {a:>14.3e} {b:>17.3e}").unwrap();
    }
    let ratios: Vec<f64> =
        at_start.windows(2).take(3).map(|w| w[1] / w[0]).collect();
    writeln!(
        out,
        "  at the start, each hidden layer vs the one below: {ratios:.1?}"
    )
    .unwrap();
    let mean = ratios.iter().sum::<f64>() / 3.0;
    out.fact("speed_ratio", format!("{mean:.1}"));
    out.fact(
        "speed_first_last",
        format!("{:.0}", at_start[3] / at_start[0]),
    );
    let accuracy = accuracy(&net, &x, &labels);
    writeln!(out, "  training accuracy after 30 epochs: {accuracy:.3}")
        .unwrap();
    out.fact("sigmoid_accuracy", format!("{accuracy:.3}"));

    out.section("tanh");
    let mut tanh_net = sigmoid_net(Tanh);
    let tanh_start = speeds(&mut tanh_net, &x, &y);
    tanh_net.fit(x.view(), y.view(), &cfg).unwrap();
    writeln!(out, "the same network with tanh hidden units:").unwrap();
    writeln!(
        out,
        "  ||dL/db|| at the start: {}",
        tanh_start
            .iter()
            .map(|v| format!("{v:.3e}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    let tanh_accuracy = self::accuracy(&tanh_net, &x, &labels);
    writeln!(
        out,
        "  training accuracy after 30 epochs: {tanh_accuracy:.3}"
    )
    .unwrap();
    out.fact("tanh_accuracy", format!("{tanh_accuracy:.3}"));

    out.section("dead");
    // ANCHOR: dead
    // Two ReLU layers on the standardised digits, ten epochs at two rates;
    // a unit is dead if it outputs 0 on every image.
    let xs = Standardizer::fit(x.view())
        .unwrap()
        .transform(x.view())
        .unwrap();
    let dead_after = |eta: f64| {
        let mut net = network! {
            input 64 => dense 64 relu => dense 64 relu => dense 10 softmax;
            loss cross_entropy; init he; seed 3; dtype f64
        };
        let cfg = TrainConfig::new().epochs(10).optimizer(Sgd::new(eta));
        net.fit(xs.view(), y.view(), &cfg).unwrap();
        let t = net.trace(xs.view(), y.view()).unwrap();
        let dead: Vec<f64> = t.layers[..2]
            .iter()
            .map(|l| {
                let units = l.h.columns().into_iter();
                units.filter(|u| u.iter().all(|&h| h <= 0.0)).count() as f64
                    / 64.0
            })
            .collect();
        let guess =
            mlp::data::classes(net.predict_batch(xs.view()).unwrap().view());
        (dead, mlp::data::accuracy(&guess, &labels).unwrap())
    };
    let (gentle, violent) = (dead_after(0.1), dead_after(1.0));
    // ANCHOR_END: dead
    writeln!(
        out,
        "  eta   dead in layer 1   dead in layer 2   training accuracy"
    )
    .unwrap();
    for (eta, (dead, acc)) in [(0.1, &gentle), (1.0, &violent)] {
        writeln!(
            out,
            "  {eta:<4} {:>16.0}% {:>16.0}% {acc:>19.3}",
            100.0 * dead[0],
            100.0 * dead[1]
        )
        .unwrap();
    }
    out.fact("dead_violent", format!("{:.0}%", 100.0 * violent.0[1]));

    out.section("explode");
    // ANCHOR: explode
    // A large rate with heavy momentum: without clipping the steps feed on
    // each other until the loss overflows.
    let (sx, sy) = sine(200);
    let base = TrainConfig::new()
        .epochs(100)
        .batch(Batch::Mini(8))
        .optimizer(Sgd::new(0.2).momentum(0.9));
    let mut losses = Vec::new();
    for clip in [None, Some(Clip::Value(0.03)), Some(Clip::Norm(0.3))] {
        let cfg = match clip {
            Some(c) => base.clone().clip(c),
            None => base.clone(),
        };
        let mut net = SineNet::new(3);
        let run = match net.fit(sx.view(), sy.view(), &cfg) {
            Ok(history) => Ok(history.train_loss()),
            // The error keeps the epochs that finished before the blow-up.
            Err(Error::NonFiniteLoss { epoch, history, .. }) => {
                Err((epoch, history.train_loss()))
            }
            Err(e) => panic!("{e}"),
        };
        losses.push((clip, run));
    }
    // ANCHOR_END: explode
    let names = [
        "no clipping (diverges)",
        "Clip::Value(0.03)",
        "Clip::Norm(0.3)",
    ];
    for (name, (_, run)) in names.iter().zip(&losses) {
        match run {
            Ok(l) => writeln!(out, "  {name:<22} loss after epochs 1, 25, 50, 100: {:.4} {:.4} {:.4} {:.4}", l[0], l[24], l[49], l[99]).unwrap(),
            Err((epoch, l)) => {
                writeln!(out, "  {name:<22} diverged in epoch {epoch}; the epochs before:").unwrap();
                let losses: Vec<String> = l.iter().map(|v| format!("{v:.1e}")).collect();
                writeln!(out, "    {}", losses.join(" ")).unwrap();
            }
        }
    }
    if let (_, Err((epoch, _))) = &losses[0] {
        out.fact("diverged_epoch", epoch);
    }

    out.section("direction");
    // ANCHOR: direction
    // One plain SGD step (eta = 1) from the same weights with each kind of
    // clipping: the step is minus the clipped gradient.
    let mut net = SineNet::new(3);
    let g = net.gradients(sx.view(), sy.view()).unwrap();
    let raw: Vec<f64> = g
        .layers
        .iter()
        .flat_map(|(w, b)| w.iter().chain(b).copied().collect::<Vec<_>>())
        .collect();
    let step_with = |clip: Clip| -> Vec<f64> {
        let mut stepped = SineNet::new(3);
        let before = stepped.get_weights();
        let cfg = TrainConfig::new()
            .batch(Batch::Full)
            .optimizer(Sgd::new(1.0))
            .clip(clip);
        stepped.train_on_batch(sx.view(), sy.view(), &cfg).unwrap();
        let after = stepped.get_weights();
        before
            .iter()
            .zip(&after)
            .flat_map(|((w0, b0), (w1, b1))| {
                (w1 - w0)
                    .iter()
                    .chain((b1 - b0).iter())
                    .map(|d| -d)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let cosine = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (norm(a) * norm(b))
    };
    let by_value = step_with(Clip::Value(0.03));
    let by_norm = step_with(Clip::Norm(0.3));
    // ANCHOR_END: direction
    writeln!(
        out,
        "  raw gradient: {} numbers, norm {:.4}",
        raw.len(),
        norm(&raw)
    )
    .unwrap();
    for (name, step) in [
        ("Clip::Value(0.03)", &by_value),
        ("Clip::Norm(0.3)", &by_norm),
    ] {
        let angle = cosine(step, &raw).clamp(-1.0, 1.0).acos().to_degrees();
        writeln!(out, "  {name:<18} step norm {:.4}, angle to the gradient {angle:.1} degrees", norm(step)).unwrap();
    }
    let angle = cosine(&by_value, &raw).clamp(-1.0, 1.0).acos().to_degrees();
    out.fact("value_angle", format!("{angle:.0}"));

    // Figures.
    let layer_points = |v: &[f64]| {
        v.iter()
            .enumerate()
            .map(|(k, &s)| ((k + 1) as f64, s))
            .collect::<Vec<_>>()
    };
    out.figure(
        "ch09_speeds.svg",
        LineChart::new(
            "Four sigmoid hidden layers on the digits",
            "layer (5 is the output)",
            "||dL/db|| (log scale)",
        )
        .log_y()
        .legend(Legend::LowerRight)
        .series(
            Series::new("at the start", layer_points(&at_start), 0).markers(),
        )
        .series(
            Series::new("after 30 epochs", layer_points(&after), 1).markers(),
        )
        .series(
            Series::new(
                "tanh instead, at the start",
                layer_points(&tanh_start),
                2,
            )
            .markers()
            .dashed(),
        )
        .svg(),
    );
    // The run without clipping leaves any sensible scale in its first
    // epoch (its losses are printed above), so the figure shows the two
    // clipped runs beside the same network at a rate that suits it.
    let mut chart = LineChart::new(
        "Sine: clipped at eta = 0.2, unclipped at eta = 0.05",
        "epoch",
        "training loss (log scale)",
    )
    .log_y()
    .legend(Legend::UpperRight);
    for (k, (name, (_, run))) in names.iter().zip(&losses).enumerate().skip(1) {
        let Ok(l) = run else { continue };
        let pts = l
            .iter()
            .enumerate()
            .map(|(e, &v)| ((e + 1) as f64, v))
            .collect();
        chart = chart.series(Series::new(
            format!("{name}, eta = 0.2"),
            pts,
            [1, 0, 2][k],
        ));
    }
    let mut calm = SineNet::new(3);
    let slower = base.clone().optimizer(Sgd::new(0.05).momentum(0.9));
    let calm_losses = calm
        .fit(sx.view(), sy.view(), &slower)
        .unwrap()
        .train_loss();
    let pts = calm_losses
        .iter()
        .enumerate()
        .map(|(e, &v)| ((e + 1) as f64, v))
        .collect();
    chart =
        chart.series(Series::new("no clipping, eta = 0.05", pts, 6).dashed());
    out.figure("ch09_clipping.svg", chart.svg());
    out
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    out.section("ex1");
    // ANCHOR: ex1
    // The largest of a few rates that trains the sine without clipping.
    let (sx, sy) = sine(200);
    let mut results = Vec::new();
    for eta in [0.05, 0.1, 0.15, 0.2] {
        let cfg = TrainConfig::new()
            .epochs(100)
            .batch(Batch::Mini(8))
            .optimizer(Sgd::new(eta).momentum(0.9));
        let outcome = SineNet::new(3).fit(sx.view(), sy.view(), &cfg);
        results.push((eta, outcome.map(|h| h.last().unwrap().train_loss)));
    }
    // ANCHOR_END: ex1
    let largest = results
        .iter()
        .filter(|r| r.1.is_ok())
        .map(|r| r.0)
        .fold(0.0, f64::max);
    let diverging = results
        .iter()
        .filter(|r| r.1.is_err())
        .map(|r| r.0)
        .fold(f64::INFINITY, f64::min);
    for (eta, r) in results {
        match r {
            Ok(l) => writeln!(out, "eta {eta:<5} final loss {l:.4}").unwrap(),
            Err(e) => writeln!(out, "eta {eta:<5} {e}").unwrap(),
        }
    }
    out.fact("ex1_largest", largest);
    out.fact("ex1_diverging", diverging);

    out.section("ex2");
    // ANCHOR: ex2
    // g = (3, 0.4, -0.1), clipped to 1 by value and by norm.
    let g = [3.0f64, 0.4, -0.1];
    let by_value = g.map(|v| v.clamp(-1.0, 1.0));
    let n = norm(&g);
    let by_norm = g.map(|v| v / n);
    let angle = |a: &[f64; 3]| {
        let dot: f64 = a.iter().zip(&g).map(|(x, y)| x * y).sum();
        (dot / (norm(a) * n)).clamp(-1.0, 1.0).acos().to_degrees()
    };
    // ANCHOR_END: ex2
    writeln!(
        out,
        "by value: {by_value:?}, angle {:.1} degrees",
        angle(&by_value)
    )
    .unwrap();
    writeln!(
        out,
        "by norm:  {by_norm:.4?}, angle {:.1} degrees",
        angle(&by_norm)
    )
    .unwrap();
    out
}
