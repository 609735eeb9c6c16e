// Chapter 7: batch, stochastic and mini-batch training.
// Run from the repository's root: cargo run --release --example ch07_modes
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::{Dataset, Standardizer};
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series};
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use std::fmt::Write;
use std::time::{Duration, Instant};

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

// ANCHOR: data
/// The Wisconsin breast cancer data: 569 tumours, 30 measurements each,
/// labelled malignant (0) or benign (1); standardised column by column.
fn cancer() -> (Array2<f64>, Array2<f64>, Vec<usize>) {
    let data = Dataset::<f64>::read_csv("data/breast_cancer.csv.gz").unwrap();
    let scale = Standardizer::fit(data.x.view()).unwrap();
    let x = scale.transform(data.x.view()).unwrap();
    let y = data.binary_targets().unwrap();
    (x, y, data.labels)
}

mlp::network! {
    /// 30 inputs, 16 tanh units, one sigmoid output.
    Classifier: input 30 => dense 16 tanh => dense 1 sigmoid;
        loss bce; seed 1; dtype f64
}
// ANCHOR_END: data

/// One training run: the loss on the whole training set after every
/// epoch, and how many updates each epoch made.
struct Run {
    losses: Vec<f64>,
    updates_per_epoch: usize,
}

// ANCHOR: run
fn run(x: &Array2<f64>, y: &Array2<f64>, cfg: &TrainConfig) -> Run {
    let mut net = Classifier::new(1);
    let mut losses = Vec::new();
    let mut updates_per_epoch = 0;
    net.fit_with(x.view(), y.view(), cfg, None, |epoch, net| {
        // The loss over every sample, with the weights at the epoch's end.
        losses.push(net.evaluate(x.view(), y.view()).unwrap());
        updates_per_epoch = epoch.updates;
        Control::Continue
    })
    .unwrap();
    Run {
        losses,
        updates_per_epoch,
    }
}
// ANCHOR_END: run

/// The wall time of one epoch of `cfg`, averaged over a run of its epochs
/// (without the per-epoch evaluation of `run`).
fn time_per_epoch(
    x: &Array2<f64>,
    y: &Array2<f64>,
    cfg: &TrainConfig,
) -> Duration {
    let mut net = Classifier::new(1);
    let clock = Instant::now();
    net.fit(x.view(), y.view(), cfg).unwrap();
    clock.elapsed() / cfg.epochs as u32
}

/// `n` points of `y = sin(1.5 x) + e` on `[-2, 2]`, with Gaussian noise `e`
/// of standard deviation 0.3 (Box-Muller from the seeded generator).
fn noisy_sine(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>) {
    use rand::RngExt;
    let mut rng = mlp::rng(seed);
    let x = Array2::from_shape_fn((n, 1), |(i, _)| {
        -2.0 + 4.0 * i as f64 / (n - 1) as f64
    });
    let y = x.mapv(|x| {
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        let e =
            (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        (1.5 * x).sin() + 0.3 * e
    });
    (x, y)
}

/// The first epoch (from 1) whose loss is below `target`.
fn epochs_to(losses: &[f64], target: f64) -> Option<usize> {
    losses.iter().position(|&l| l < target).map(|e| e + 1)
}

/// Everything this chapter prints, the numbers its text quotes and its
/// figures (snapshot-tested by tests/book.rs).
pub fn chapter() -> Page {
    let mut out = Page::new();
    let (x, y, _) = cancer();
    let n = x.nrows();
    out.fact("n", n);
    let target = 0.08;
    out.fact("target", target);

    // ANCHOR: modes
    let epochs = 60;
    let modes = [
        ("full batch", Batch::Full, 0.5),
        ("mini-batch 32", Batch::Mini(32), 0.1),
        ("stochastic", Batch::Stochastic, 0.01),
    ];
    let mut runs = Vec::new();
    for (name, batch, eta) in modes {
        let cfg = TrainConfig::new()
            .epochs(epochs)
            .batch(batch)
            .optimizer(Sgd::new(eta));
        let time = time_per_epoch(&x, &y, &cfg);
        runs.push((name, eta, run(&x, &y, &cfg), time));
    }
    // ANCHOR_END: modes
    out.section("modes");
    writeln!(
        out,
        "{:<14} {:>5} {:>8} {:>9} {:>10} {:>12} {:>11}",
        "mode",
        "eta",
        "updates",
        "loss",
        "epochs to",
        "updates to",
        "samples to"
    )
    .unwrap();
    writeln!(
        out,
        "{:<14} {:>5} {:>8} {:>9} {:>10} {:>12} {:>11}",
        "", "", "/epoch", "epoch 60", target, target, target
    )
    .unwrap();
    for (name, eta, r, _) in &runs {
        let e = epochs_to(&r.losses, target).unwrap();
        writeln!(
            out,
            "{name:<14} {eta:>5} {:>8} {:>9.4} {e:>10} {:>12} {:>11}",
            r.updates_per_epoch,
            r.losses[epochs - 1],
            e * r.updates_per_epoch,
            e * n
        )
        .unwrap();
    }
    out.fact("full_epochs", epochs_to(&runs[0].2.losses, target).unwrap());
    out.fact("sgd_epochs", epochs_to(&runs[2].2.losses, target).unwrap());
    out.fact("mini_epochs", epochs_to(&runs[1].2.losses, target).unwrap());
    writeln!(out, "wall time, this run:   per epoch   to loss {target}")
        .unwrap();
    let to_target =
        |r: &Run, t: Duration| t * epochs_to(&r.losses, target).unwrap() as u32;
    for (name, _, r, time) in &runs {
        write!(out, "  {name:<14}     ").unwrap();
        out.measured(format!("{:>8.3} ms", time.as_secs_f64() * 1e3));
        write!(out, "    ").unwrap();
        out.measured(format!(
            "{:>8.3} ms",
            to_target(r, *time).as_secs_f64() * 1e3
        ));
        writeln!(out).unwrap();
    }

    // ANCHOR: sorted
    // The digits sorted by class: every 0, then every 1, ..., then every 9.
    let digits = Dataset::<f64>::read_csv("data/digits.csv.gz").unwrap();
    let mut order: Vec<usize> = (0..digits.len()).collect();
    order.sort_by_key(|&i| digits.labels[i]);
    let sorted = digits.select(&order).unwrap();
    let (dx, dy) = (sorted.x.mapv(|v| v / 16.0), sorted.one_hot().unwrap());
    let accuracy_by_epoch = |shuffle: bool| {
        let mut net = network! {
            input 64 => dense 32 tanh => dense 10 softmax;
            loss cross_entropy; seed 1; dtype f64
        };
        let cfg = TrainConfig::new()
            .epochs(10)
            .batch(Batch::Stochastic)
            .optimizer(Sgd::new(0.01))
            .shuffle(shuffle);
        let mut accuracy = Vec::new();
        net.fit_with(dx.view(), dy.view(), &cfg, None, |_, net| {
            let guess = mlp::data::classes(
                net.predict_batch(dx.view()).unwrap().view(),
            );
            accuracy.push(mlp::data::accuracy(&guess, &sorted.labels).unwrap());
            Control::Continue
        })
        .unwrap();
        let guess =
            mlp::data::classes(net.predict_batch(dx.view()).unwrap().view());
        (accuracy, guess)
    };
    let (shuffled, _) = accuracy_by_epoch(true);
    let (in_order, guesses) = accuracy_by_epoch(false);
    // ANCHOR_END: sorted
    out.section("sorted");
    writeln!(out, "digits sorted by class, stochastic, eta = 0.01:").unwrap();
    writeln!(out, "  accuracy after epoch   shuffled   not shuffled").unwrap();
    for e in [1, 2, 5, 10] {
        writeln!(
            out,
            "  {e:>20} {:>10.3} {:>14.3}",
            shuffled[e - 1],
            in_order[e - 1]
        )
        .unwrap();
    }
    let nines = guesses.iter().filter(|&&c| c == 9).count() as f64
        / guesses.len() as f64;
    writeln!(
        out,
        "  not shuffled: {:.0}% of all digits are called 9",
        100.0 * nines
    )
    .unwrap();
    out.fact("sorted_accuracy", format!("{:.3}", in_order[9]));
    out.fact("shuffled_accuracy", format!("{:.3}", shuffled[9]));
    out.fact("nines", format!("{:.0}%", 100.0 * nines));

    // ANCHOR: schedule
    // y = sin(1.5 x) plus noise: no network can fit the noise, so the
    // loss has a floor, and constant-rate SGD jitters above it.
    let (rx, ry) = noisy_sine(200, 5);
    mlp::network! {
        Fit: input 1 => dense 16 tanh => dense 1 identity; loss mse; seed 2; dtype f64
    }
    let curve = |cfg: &TrainConfig| {
        let mut net = Fit::new(2);
        let mut losses = Vec::new();
        net.fit_with(rx.view(), ry.view(), cfg, None, |_, net| {
            losses.push(net.evaluate(rx.view(), ry.view()).unwrap());
            Control::Continue
        })
        .unwrap();
        losses
    };
    let constant = TrainConfig::new()
        .epochs(200)
        .batch(Batch::Stochastic)
        .optimizer(Sgd::new(0.05));
    let halving = constant.clone().schedule(Schedule::Step {
        every: 40,
        gamma: 0.5,
    });
    let (flat, decayed) = (curve(&constant), curve(&halving));
    // ANCHOR_END: schedule
    out.section("schedule");
    let band = |l: &[f64]| {
        let tail = &l[180..];
        let lo = tail.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = tail.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    writeln!(out, "noisy sine, 200 samples, stochastic, eta_0 = 0.05").unwrap();
    writeln!(out, "  loss over epochs 181 to 200     lowest   highest")
        .unwrap();
    let (lo, hi) = band(&flat);
    writeln!(out, "  constant rate                  {lo:.5}   {hi:.5}")
        .unwrap();
    let (lo2, hi2) = band(&decayed);
    writeln!(out, "  halved every 40 epochs         {lo2:.5}   {hi2:.5}")
        .unwrap();
    out.fact("constant_high", format!("{hi:.4}"));
    out.fact("constant_low", format!("{lo:.4}"));
    out.fact("decayed_high", format!("{hi2:.4}"));

    out.section("unbiased");
    // ANCHOR: unbiased
    // At fixed weights: the gradient over all samples, and the gradients of
    // random mini-batches of B samples.
    let mut net = Classifier::new(2);
    let flat_grad = |g: mlp::Gradients<f64>| -> Vec<f64> {
        g.layers
            .iter()
            .flat_map(|(w, b)| {
                w.iter().chain(b.iter()).copied().collect::<Vec<_>>()
            })
            .collect()
    };
    let full = flat_grad(net.gradients(x.view(), y.view()).unwrap());
    let mut rng = mlp::rng(3);
    let mut rows: Vec<usize> = (0..n).collect();
    let draws = 400;
    let mut table = Vec::new();
    for b in [1, 4, 16, 64, 256] {
        let mut mean = vec![0.0; full.len()];
        let mut spread = 0.0;
        for _ in 0..draws {
            rows.shuffle(&mut rng);
            let (xb, yb) =
                (x.select(Axis(0), &rows[..b]), y.select(Axis(0), &rows[..b]));
            let g = flat_grad(net.gradients(xb.view(), yb.view()).unwrap());
            for (m, gi) in mean.iter_mut().zip(&g) {
                *m += gi / draws as f64;
            }
            spread += g
                .iter()
                .zip(&full)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / draws as f64;
        }
        let bias = mean
            .iter()
            .zip(&full)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        table.push((b, bias, spread));
    }
    // ANCHOR_END: unbiased
    let norm = full.iter().map(|g| g * g).sum::<f64>().sqrt();
    writeln!(
        out,
        "||full gradient|| = {norm:.4}; {draws} random batches of each size:"
    )
    .unwrap();
    writeln!(out, "      B  ||mean of batch gradients - full||  E||g_B - g||^2  x B (N-1)/(N-B)").unwrap();
    for (b, bias, spread) in &table {
        let scaled = spread * *b as f64 * (n - 1) as f64 / (n - b) as f64;
        writeln!(out, "  {b:>5}  {bias:>33.4} {spread:>15.5} {scaled:>15.4}")
            .unwrap();
    }

    // Figures.
    let mut modes_chart = LineChart::new(
        "Training loss after each epoch, three modes",
        "epoch",
        "loss on all samples (log scale)",
    )
    .log_y()
    .legend(Legend::UpperRight);
    for (k, (name, eta, r, _)) in runs.iter().enumerate() {
        let pts = r
            .losses
            .iter()
            .enumerate()
            .map(|(e, &l)| ((e + 1) as f64, l))
            .collect();
        modes_chart = modes_chart.series(Series::new(
            format!("{name}, eta = {eta}"),
            pts,
            k,
        ));
    }
    out.figure("ch07_modes.svg", modes_chart.svg());
    let per_epoch = |l: &[f64]| {
        l.iter()
            .enumerate()
            .map(|(e, &v)| ((e + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    out.figure(
        "ch07_sorted.svg",
        LineChart::new(
            "Digits sorted by class, stochastic training",
            "epoch",
            "accuracy on all digits",
        )
        .series(
            Series::new("shuffled every epoch", per_epoch(&shuffled), 0)
                .markers(),
        )
        .series(Series::new("not shuffled", per_epoch(&in_order), 1).markers())
        .y_range(0.0..1.05)
        .legend(Legend::LowerRight)
        .svg(),
    );
    out.figure(
        "ch07_schedule.svg",
        LineChart::new(
            "Noisy sine, stochastic training",
            "epoch",
            "loss on all samples",
        )
        .series(Series::new("eta = 0.05, constant", per_epoch(&flat), 1))
        .series(Series::new(
            "eta = 0.05, halved every 40 epochs",
            per_epoch(&decayed),
            0,
        ))
        .y_range(0.04..0.16)
        .legend(Legend::UpperRight)
        .svg(),
    );
    out
}

/// The solutions to the chapter's exercises, run (snapshot-tested by
/// tests/book.rs and shown in the book's solutions appendix).
pub fn exercises() -> Page {
    let mut out = Page::new();
    let (x, y, _) = cancer();
    out.section("ex1");
    // ANCHOR: ex1
    // Mini-batches of several sizes at one learning rate, 20 epochs each.
    let mut rows = Vec::new();
    for b in [1, 8, 32, 128, 569] {
        let cfg = TrainConfig::new()
            .epochs(20)
            .batch(Batch::Mini(b))
            .optimizer(Sgd::new(0.1));
        let r = run(&x, &y, &cfg);
        rows.push((b, r.updates_per_epoch, r.losses[19]));
    }
    // ANCHOR_END: ex1
    writeln!(out, "batch  updates/epoch  loss after 20 epochs").unwrap();
    for (b, u, l) in rows {
        writeln!(out, "{b:>5} {u:>14} {l:>21.4}").unwrap();
    }

    out.section("ex2");
    // ANCHOR: ex2
    // Step decay: halve the rate every 10 epochs.
    let cfg = TrainConfig::new()
        .epochs(40)
        .batch(Batch::Stochastic)
        .optimizer(Sgd::new(0.05))
        .schedule(Schedule::Step {
            every: 10,
            gamma: 0.5,
        });
    let r = run(&x, &y, &cfg);
    // ANCHOR_END: ex2
    writeln!(
        out,
        "loss at epochs 10, 20, 30, 40: {:.4} {:.4} {:.4} {:.4}",
        r.losses[9], r.losses[19], r.losses[29], r.losses[39]
    )
    .unwrap();
    out
}
