// Chapter 11: real data, end to end.
// Run from the repository's root: cargo run --release --example ch11_real_data
// (add `-- --exercises` for the solutions to the exercises).
use mlp::data::{Dataset, Standardizer};
use mlp::metrics::ConfusionMatrix;
use mlp::prelude::*;
use mlp_book::Page;
use mlp_book::plot::{Legend, LineChart, Series, image_grid};
use std::fmt::Write;

fn main() {
    mlp_book::at_repository_root();
    if std::env::args().any(|a| a == "--exercises") {
        print!("{}", exercises().printed());
    } else {
        print!("{}", chapter().printed());
    }
}

// ANCHOR: network
mlp::network! {
    /// scikit-learn's `MLPClassifier(hidden_layer_sizes=(64,))` for ten classes.
    Digits: input 64 => dense 64 relu => dense 10 softmax; loss cross_entropy; init he
}

/// scikit-learn's defaults for that classifier: Adam at 0.001, mini-batches
/// of 200, an L2 penalty of 1e-4, at most 200 epochs, and a stop once the
/// training loss has not improved by 1e-4 for 10 epochs.
fn sklearn_settings() -> TrainConfig {
    TrainConfig::new()
        .epochs(200)
        .batch(Batch::Mini(200))
        .optimizer(Adam::new(0.001))
        .l2(1e-4)
        .early_stopping(EarlyStopping {
            patience: 10,
            min_delta: 1e-4,
            restore_best: false,
        })
}
// ANCHOR_END: network

/// The fraction of rows of `x` whose predicted class is the label.
fn accuracy<M: Model<Float = f32>>(
    net: &M,
    x: &ndarray::Array2<f32>,
    labels: &[usize],
) -> f64 {
    let predicted =
        mlp::data::classes(net.predict_batch(x.view()).unwrap().view());
    mlp::data::accuracy(&predicted, labels).unwrap()
}

pub fn chapter() -> Page {
    let mut out = Page::new();
    // ANCHOR: read
    let data = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    // ANCHOR_END: read
    out.section("read");
    writeln!(
        out,
        "{} images of {} pixels, {} classes",
        data.len(),
        data.x.ncols(),
        data.classes()
    )
    .unwrap();
    writeln!(
        out,
        "features: {} ... {}",
        data.features[0], data.features[63]
    )
    .unwrap();
    let counts: Vec<usize> = (0..10)
        .map(|c| data.labels.iter().filter(|&&l| l == c).count())
        .collect();
    writeln!(out, "images per digit: {counts:?}").unwrap();
    out.fact("images", data.len());
    // A broken file names its line and column.
    // ANCHOR: broken
    let broken = "pixel_0,pixel_1,label\n0,16,3\n0,sixteen,3\n";
    let error = Dataset::<f32>::from_reader(broken.as_bytes()).unwrap_err();
    // ANCHOR_END: broken
    writeln!(out, "a broken file: {error}").unwrap();

    // ANCHOR: split
    // 80/20, stratified: each digit keeps its share in both parts.
    let (train, test) = data.split(0.2, &mut mlp::rng(0)).unwrap();
    // The last 20% of the training rows watch training; the test rows wait.
    let cut = train.len() - train.len() / 5;
    let rows: Vec<usize> = (0..train.len()).collect();
    let (fit_part, watch) = (
        train.select(&rows[..cut]).unwrap(),
        train.select(&rows[cut..]).unwrap(),
    );
    // ANCHOR_END: split
    out.section("split");
    writeln!(
        out,
        "training {} (of which {} fit and {} validate), test {}",
        train.len(),
        fit_part.len(),
        watch.len(),
        test.len()
    )
    .unwrap();
    out.fact("train_rows", train.len());
    out.fact("test_rows", test.len());

    // ANCHOR: train
    let mut net = Digits::new(0);
    let (y_fit, y_watch) =
        (fit_part.one_hot().unwrap(), watch.one_hot().unwrap());
    let mut validation_accuracy = Vec::new();
    let history = net
        .fit_with(
            fit_part.x.view(),
            y_fit.view(),
            &sklearn_settings(),
            Some((watch.x.view(), y_watch.view())),
            |_, net| {
                validation_accuracy.push(accuracy(
                    net,
                    &watch.x,
                    &watch.labels,
                ));
                Control::Continue
            },
        )
        .unwrap();
    // ANCHOR_END: train
    out.section("train");
    writeln!(
        out,
        "epoch  train loss  validation loss  validation accuracy"
    )
    .unwrap();
    let n = history.epochs.len();
    for e in [1, 2, 5, 10, 20, 50, 100, n]
        .into_iter()
        .filter(|&e| e <= n)
    {
        let r = &history.epochs[e - 1];
        writeln!(
            out,
            "{e:>5} {:>11.4} {:>16.4} {:>20.4}",
            r.train_loss,
            r.val_loss.unwrap(),
            validation_accuracy[e - 1]
        )
        .unwrap();
    }
    writeln!(
        out,
        "stopped after {n} epochs: {}",
        if history.stopped_early {
            "no improvement for 10 epochs"
        } else {
            "the epoch limit"
        }
    )
    .unwrap();
    out.fact("epochs", n);
    out.fact("val_accuracy", format!("{:.4}", validation_accuracy[n - 1]));
    let curve = |v: Vec<f64>| {
        v.into_iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    out.figure(
        "ch11_training.svg",
        LineChart::new(
            "Training on the digits",
            "epoch",
            "loss, or error rate",
        )
        .series(Series::new("training loss", curve(history.train_loss()), 0))
        .series(
            Series::new("validation loss", curve(history.val_loss()), 1)
                .dashed(),
        )
        .series(Series::new(
            "validation error rate (1 - accuracy)",
            curve(validation_accuracy.iter().map(|a| 1.0 - a).collect()),
            2,
        ))
        .log_y()
        .legend(Legend::UpperRight)
        .svg(),
    );

    // ANCHOR: test
    let predicted =
        mlp::data::classes(net.predict_batch(test.x.view()).unwrap().view());
    let cm = ConfusionMatrix::new(&predicted, &test.labels, 10).unwrap();
    // ANCHOR_END: test
    out.section("test");
    write!(out, "{cm}").unwrap();
    out.fact("test_accuracy", format!("{:.4}", cm.accuracy()));
    out.fact("macro_f1", format!("{:.4}", cm.macro_f1()));
    let wrong: Vec<(Vec<f64>, String)> = predicted
        .iter()
        .zip(&test.labels)
        .enumerate()
        .filter(|(_, (p, l))| p != l)
        .map(|(i, (p, l))| {
            (
                test.x.row(i).iter().map(|&v| v as f64 / 16.0).collect(),
                format!("{l} as {p}"),
            )
        })
        .collect();
    out.fact("wrong", wrong.len());
    out.figure(
        "ch11_mistakes.svg",
        image_grid(
            "Every test digit the network got wrong: true as predicted",
            &wrong,
            8,
            10,
            48,
        ),
    );

    // ANCHOR: splits
    // scikit-learn's protocol, five times: a fresh split and start each time.
    let mut accuracies = Vec::new();
    for seed in 0..5 {
        let (train, test) = data.split(0.2, &mut mlp::rng(seed)).unwrap();
        let mut net = Digits::new(seed);
        net.fit(
            train.x.view(),
            train.one_hot().unwrap().view(),
            &sklearn_settings(),
        )
        .unwrap();
        accuracies.push(accuracy(&*net, &test.x, &test.labels));
    }
    // ANCHOR_END: splits
    out.section("splits");
    for (seed, a) in accuracies.iter().enumerate() {
        writeln!(out, "split {seed}: test accuracy {a:.4}").unwrap();
    }
    let (lo, hi) = accuracies
        .iter()
        .fold((1.0f64, 0.0f64), |(l, h), &a| (l.min(a), h.max(a)));
    writeln!(
        out,
        "range {lo:.3} to {hi:.3}, mean {:.4}",
        accuracies.iter().sum::<f64>() / 5.0
    )
    .unwrap();
    out.fact("lo", format!("{lo:.3}"));
    out.fact("hi", format!("{hi:.3}"));

    // ANCHOR: save
    let path = std::env::temp_dir().join(format!(
        "mlp-book-digits-{}.safetensors",
        std::process::id()
    ));
    net.save(&path).unwrap();
    let mut loaded = Digits::new(99);
    loaded.load(&path).unwrap();
    let same = loaded.predict_batch(test.x.view()).unwrap()
        == net.predict_batch(test.x.view()).unwrap();
    // ANCHOR_END: save
    std::fs::remove_file(&path).ok();
    out.section("save");
    writeln!(out, "saved: {}", net.describe()).unwrap();
    writeln!(out, "a fresh network loaded from the file predicts the same on every test image: {same}").unwrap();
    out.end();
    out
}

mlp::network! {
    Narrow: input 64 => dense 16 relu => dense 10 softmax; loss cross_entropy; init he
}
mlp::network! {
    Broad: input 64 => dense 256 relu => dense 10 softmax; loss cross_entropy; init he
}

pub fn exercises() -> Page {
    let mut out = Page::new();
    let data = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    // ANCHOR: ex1
    let mut raw = Vec::new();
    let mut scaled = Vec::new();
    for seed in 0..5 {
        let (train, test) = data.split(0.2, &mut mlp::rng(seed)).unwrap();
        let mut net = Digits::new(seed);
        net.fit(
            train.x.view(),
            train.one_hot().unwrap().view(),
            &sklearn_settings(),
        )
        .unwrap();
        raw.push(accuracy(&*net, &test.x, &test.labels));
        // Fitted on the training rows only; pixels that never vary keep a
        // standard deviation of 1 and pass through centred.
        let scale = Standardizer::fit(train.x.view()).unwrap();
        let (x, x_test) = (
            scale.transform(train.x.view()).unwrap(),
            scale.transform(test.x.view()).unwrap(),
        );
        let mut net = Digits::new(seed);
        net.fit(
            x.view(),
            train.one_hot().unwrap().view(),
            &sklearn_settings(),
        )
        .unwrap();
        scaled.push(accuracy(&*net, &x_test, &test.labels));
    }
    // ANCHOR_END: ex1
    out.section("ex1");
    writeln!(out, "split   raw pixels   standardised").unwrap();
    for s in 0..5 {
        writeln!(out, "{s:>5} {:>12.4} {:>14.4}", raw[s], scaled[s]).unwrap();
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    writeln!(out, "mean  {:>12.4} {:>14.4}", mean(&raw), mean(&scaled))
        .unwrap();
    out.fact("ex1_raw", format!("{:.4}", mean(&raw)));
    out.fact("ex1_scaled", format!("{:.4}", mean(&scaled)));

    // ANCHOR: ex2
    let (train, test) = data.split(0.2, &mut mlp::rng(0)).unwrap();
    let y = train.one_hot().unwrap();
    let mut narrow = Narrow::new(0);
    narrow
        .fit(train.x.view(), y.view(), &sklearn_settings())
        .unwrap();
    let mut broad = Broad::new(0);
    broad
        .fit(train.x.view(), y.view(), &sklearn_settings())
        .unwrap();
    // ANCHOR_END: ex2
    out.section("ex2");
    writeln!(out, "hidden units   parameters   test accuracy").unwrap();
    writeln!(
        out,
        "{:>12} {:>12} {:>15.4}",
        16,
        Narrow::PARAMS,
        accuracy(&*narrow, &test.x, &test.labels)
    )
    .unwrap();
    writeln!(
        out,
        "{:>12} {:>12} {:>15.4}",
        256,
        Broad::PARAMS,
        accuracy(&*broad, &test.x, &test.labels)
    )
    .unwrap();
    out.fact(
        "ex2_narrow",
        format!("{:.4}", accuracy(&*narrow, &test.x, &test.labels)),
    );
    out.fact(
        "ex2_broad",
        format!("{:.4}", accuracy(&*broad, &test.x, &test.labels)),
    );
    out.end();
    out
}
