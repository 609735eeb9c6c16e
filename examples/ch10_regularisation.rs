// Chapter 10: regularisation and practical advice.
// Run from the repository's root: cargo run --release --example ch10_regularisation
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::{Dataset, Standardizer};
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series};
use ndarray::Array2;
use rand::RngExt;
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

// ANCHOR: data
/// `n` samples of `y = sin(1.5 x) + e`, Gaussian noise `e` of standard
/// deviation 0.3, at random points of [-2, 2] (or evenly spaced).
fn noisy_sine(n: usize, seed: u64, evenly: bool) -> (Array2<f64>, Array2<f64>) {
    let mut rng = mlp::rng(seed);
    let x = Array2::from_shape_fn((n, 1), |(i, _)| {
        if evenly {
            -2.0 + 4.0 * i as f64 / (n - 1) as f64
        } else {
            rng.random::<f64>() * 4.0 - 2.0
        }
    });
    let y = x.mapv(|x| {
        // Box-Muller: two uniform numbers make one standard normal one.
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        let e =
            (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        (1.5 * x).sin() + 0.3 * e
    });
    (x, y)
}

mlp::network! {
    /// Far more capacity than twenty points need: 4 353 parameters.
    Big: input 1 => dense 64 tanh => dense 64 tanh => dense 1 identity;
        loss mse; seed 1; dtype f64
}
mlp::network! {
    /// The same, with dropout between the hidden layers.
    BigDropout: input 1 => dense 64 tanh => dropout 0.3 => dense 64 tanh
        => dense 1 identity; loss mse; seed 1; dtype f64
}
// ANCHOR_END: data

/// Training and validation loss after every epoch (without any penalty:
/// the data loss alone), and the network's curve on [-2, 2].
struct Run {
    train: Vec<f64>,
    val: Vec<f64>,
    curve: Vec<(f64, f64)>,
}

// ANCHOR: run
fn run(
    net: &mut impl Trainable,
    cfg: &TrainConfig,
    train: &(Array2<f64>, Array2<f64>),
    val: &(Array2<f64>, Array2<f64>),
) -> Run {
    let (mut tl, mut vl) = (Vec::new(), Vec::new());
    net.train_and_watch(cfg, train, val, &mut tl, &mut vl);
    let grid = Array2::from_shape_fn((161, 1), |(i, _)| -2.0 + i as f64 / 40.0);
    let fit = net.predict_on(&grid);
    let curve = grid.iter().zip(fit.iter()).map(|(&x, &y)| (x, y)).collect();
    Run {
        train: tl,
        val: vl,
        curve,
    }
}
// ANCHOR_END: run

/// What `run` needs of a network, for both of the chapter's network types.
trait Trainable {
    fn train_and_watch(
        &mut self,
        cfg: &TrainConfig,
        train: &(Array2<f64>, Array2<f64>),
        val: &(Array2<f64>, Array2<f64>),
        tl: &mut Vec<f64>,
        vl: &mut Vec<f64>,
    );
    fn predict_on(&self, x: &Array2<f64>) -> Array2<f64>;
}

impl<H, O> Trainable for Network<H, O, Mse, f64>
where
    H: mlp::Backward<f64, In = mlp::Const<1>>,
    O: mlp::OutputLayer<f64, Act = Identity> + mlp::Takes<f64, H::Out>,
{
    fn train_and_watch(
        &mut self,
        cfg: &TrainConfig,
        (x, y): &(Array2<f64>, Array2<f64>),
        (vx, vy): &(Array2<f64>, Array2<f64>),
        tl: &mut Vec<f64>,
        vl: &mut Vec<f64>,
    ) {
        self.fit_with(x.view(), y.view(), cfg, None, |_, net| {
            tl.push(net.evaluate(x.view(), y.view()).unwrap());
            vl.push(net.evaluate(vx.view(), vy.view()).unwrap());
            Control::Continue
        })
        .unwrap();
    }

    fn predict_on(&self, x: &Array2<f64>) -> Array2<f64> {
        self.predict_batch(x.view()).unwrap()
    }
}

/// The smallest value of a series, and the epoch (from 1) it was reached.
fn best(v: &[f64]) -> (f64, usize) {
    v.iter().enumerate().fold((f64::INFINITY, 0), |b, (e, &l)| {
        if l < b.0 { (l, e + 1) } else { b }
    })
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    // ANCHOR: setup
    let train = noisy_sine(20, 1, false);
    let val = noisy_sine(200, 2, true);
    let base = TrainConfig::new()
        .epochs(3000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let plain = run(&mut *Big::new(1), &base, &train, &val);
    // ANCHOR_END: setup
    out.section("overfit");
    let (b, at) = best(&plain.val);
    writeln!(
        out,
        "no regularisation, 20 training points, 200 validation points:"
    )
    .unwrap();
    writeln!(out, "  epoch     train    validation").unwrap();
    for e in [1, 50, at, 300, 1000, 3000] {
        writeln!(
            out,
            "  {e:>5} {:>9.4} {:>13.4}",
            plain.train[e - 1],
            plain.val[e - 1]
        )
        .unwrap();
    }
    writeln!(out, "  lowest validation loss {b:.4}, at epoch {at}").unwrap();
    out.fact("best_epoch", at);
    out.fact("best_val", format!("{b:.4}"));
    out.fact("end_val", format!("{:.4}", plain.val[2999]));
    out.fact("end_train", format!("{:.4}", plain.train[2999]));

    // ANCHOR: penalties
    let mut rows = Vec::new();
    for (name, cfg) in [
        ("l2 = 1e-4", base.clone().l2(1e-4)),
        ("l2 = 1e-3", base.clone().l2(1e-3)),
        ("l2 = 1e-2", base.clone().l2(1e-2)),
        ("l1 = 1e-4", base.clone().l1(1e-4)),
        ("l1 = 1e-3", base.clone().l1(1e-3)),
    ] {
        let mut net = Big::new(1);
        let r = run(&mut *net, &cfg, &train, &val);
        let w = net.get_weights();
        let all: Vec<f64> = w
            .iter()
            .flat_map(|(w, _)| w.iter().copied().collect::<Vec<_>>())
            .collect();
        let large = all.iter().filter(|w| w.abs() > 0.1).count();
        rows.push((name, r, large));
    }
    // ANCHOR_END: penalties
    out.section("penalties");
    let plain_large = {
        let mut net = Big::new(1);
        net.fit(train.0.view(), train.1.view(), &base).unwrap();
        let w = net.get_weights();
        w.iter()
            .flat_map(|(w, _)| w.iter().copied().collect::<Vec<_>>())
            .filter(|w| w.abs() > 0.1)
            .count()
    };
    let weights: usize =
        Big::new(1).get_weights().iter().map(|(w, _)| w.len()).sum();
    writeln!(
        out,
        "after 3000 epochs     train   validation   weights with |w| > 0.1"
    )
    .unwrap();
    writeln!(
        out,
        "  none           {:>9.4} {:>12.4} {:>14} of {weights}",
        plain.train[2999], plain.val[2999], plain_large
    )
    .unwrap();
    for (name, r, large) in &rows {
        writeln!(
            out,
            "  {name:<14} {:>9.4} {:>12.4} {:>14} of {weights}",
            r.train[2999], r.val[2999], large
        )
        .unwrap();
    }
    out.fact("l2_val", format!("{:.4}", rows[1].1.val[2999]));
    out.fact("l1_large", rows[4].2);
    out.fact("l2_large", rows[1].2);
    out.fact("plain_large", plain_large);

    // ANCHOR: dropout
    let dropped = run(&mut *BigDropout::new(1), &base, &train, &val);
    // ANCHOR_END: dropout
    out.section("dropout");
    writeln!(
        out,
        "dropout 0.3 between the hidden layers, after 3000 epochs:"
    )
    .unwrap();
    writeln!(
        out,
        "  train {:.4}, validation {:.4}",
        dropped.train[2999], dropped.val[2999]
    )
    .unwrap();
    out.fact("dropout_val", format!("{:.4}", dropped.val[2999]));

    // ANCHOR: early
    let mut net = Big::new(1);
    let stop = EarlyStopping {
        patience: 100,
        min_delta: 0.0,
        restore_best: true,
    };
    let cfg = base.clone().early_stopping(stop);
    let history = net
        .fit_with(
            train.0.view(),
            train.1.view(),
            &cfg,
            Some((val.0.view(), val.1.view())),
            |_, _| Control::Continue,
        )
        .unwrap();
    let restored = net.evaluate(val.0.view(), val.1.view()).unwrap();
    // ANCHOR_END: early
    out.section("early");
    writeln!(
        out,
        "early stopping with patience 100: stopped after epoch {}, best epoch {}",
        history.epochs.len(),
        history.best_epoch.unwrap()
    )
    .unwrap();
    writeln!(
        out,
        "  validation loss of the restored weights {restored:.4}"
    )
    .unwrap();
    out.fact("early_stopped", history.epochs.len());
    out.fact("early_val", format!("{restored:.4}"));
    let early_curve: Vec<(f64, f64)> = {
        let grid =
            Array2::from_shape_fn((161, 1), |(i, _)| -2.0 + i as f64 / 40.0);
        let fit = net.predict_batch(grid.view()).unwrap();
        grid.iter().zip(fit.iter()).map(|(&x, &y)| (x, y)).collect()
    };

    // ANCHOR: scale
    // Breast cancer: 30 measurements whose scales run from about 0.001 to
    // about 4000. The same network and rate, on the raw and the
    // standardised features.
    let data = Dataset::<f64>::read_csv("data/breast_cancer.csv.gz").unwrap();
    let y = data.binary_targets().unwrap();
    let standard = Standardizer::fit(data.x.view())
        .unwrap()
        .transform(data.x.view())
        .unwrap();
    let cfg = TrainConfig::new().epochs(50).optimizer(Sgd::new(0.01));
    let mut losses = Vec::new();
    for x in [&data.x, &standard] {
        let mut net = network! {
            input 30 => dense 16 tanh => dense 1 sigmoid; loss bce; seed 1; dtype f64
        };
        let history = net.fit(x.view(), y.view(), &cfg).unwrap();
        losses.push(history.train_loss());
    }
    // ANCHOR_END: scale
    out.section("scale");
    let (lo, hi) = data.x.columns().into_iter().fold(
        (f64::INFINITY, 0.0f64),
        |(lo, hi), c| {
            let m = c.iter().map(|v| v.abs()).fold(0.0, f64::max);
            (lo.min(m), hi.max(m))
        },
    );
    writeln!(out, "largest value per column: from {lo:.4} to {hi:.0}").unwrap();
    writeln!(out, "  loss after epoch     1       10       50").unwrap();
    for (name, l) in ["raw", "standardised"].iter().zip(&losses) {
        writeln!(
            out,
            "  {name:<14} {:>9.4} {:>8.4} {:>8.4}",
            l[0], l[9], l[49]
        )
        .unwrap();
    }
    out.fact("raw_loss", format!("{:.4}", losses[0][49]));
    out.fact("std_loss", format!("{:.4}", losses[1][49]));

    // Figures.
    let curve = |l: &[f64]| {
        l.iter()
            .enumerate()
            .step_by(5)
            .map(|(e, &v)| ((e + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    out.figure(
        "ch10_overfit.svg",
        LineChart::new(
            "Twenty noisy points: training and validation loss",
            "epoch",
            "loss (log scale)",
        )
        .log_y()
        .y_range(0.00003..0.5)
        .legend(Legend::LowerLeft)
        .series(Series::new(
            "training, no regularisation",
            curve(&plain.train),
            0,
        ))
        .series(Series::new(
            "validation, no regularisation",
            curve(&plain.val),
            1,
        ))
        .series(
            Series::new("validation, l2 = 1e-3", curve(&rows[1].1.val), 2)
                .dashed(),
        )
        .series(
            Series::new("validation, dropout 0.3", curve(&dropped.val), 3)
                .dashed(),
        )
        .svg(),
    );
    out.figure("ch10_fits.svg", {
        let truth = (0..=160)
            .map(|i| -2.0 + i as f64 / 40.0)
            .map(|x| (x, (1.5 * x).sin()))
            .collect();
        let points: Vec<(f64, f64)> = train
            .0
            .iter()
            .zip(train.1.iter())
            .map(|(&x, &y)| (x, y))
            .collect();
        let mut chart = LineChart::new(
            "What each network learned from the twenty points",
            "x",
            "y",
        )
        .y_range(-1.8..1.8)
        .legend(Legend::LowerRight)
        .series(Series::new("sin(1.5 x), the truth", truth, 6).dashed())
        .series(Series::new("no regularisation", plain.curve.clone(), 1))
        .series(Series::new("l2 = 1e-3", rows[1].1.curve.clone(), 2))
        .series(Series::new("early stopping", early_curve, 0));
        chart = chart.size(720, 460);
        with_points(chart, &points)
    });
    out
}

/// A line chart with the training points drawn on top.
fn with_points(chart: LineChart, points: &[(f64, f64)]) -> String {
    chart
        .series(Series::new("training points", points.to_vec(), 6).scatter())
        .svg()
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    out.section("ex1");
    // ANCHOR: ex1
    // More data instead of a penalty: the same network on 200 points.
    let train = noisy_sine(200, 3, false);
    let val = noisy_sine(200, 2, true);
    let cfg = TrainConfig::new()
        .epochs(3000)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let r = run(&mut *Big::new(1), &cfg, &train, &val);
    // ANCHOR_END: ex1
    writeln!(
        out,
        "200 training points, after 3000 epochs: train {:.4}, validation {:.4}",
        r.train[2999], r.val[2999]
    )
    .unwrap();
    out.fact("ex1_val", format!("{:.4}", r.val[2999]));
    out
}
