//! Handwritten digits (8 x 8 pixels, the UCI set scikit-learn bundles) with
//! scikit-learn's protocol: an 80/20 stratified split, one hidden layer of 64
//! ReLU units, Adam at 0.001, mini-batches of 200, up to 200 epochs, raw
//! pixels. scikit-learn 1.9.1's `MLPClassifier` scores 0.958 to 0.975 on
//! splits 0 to 4 (data/README.md).
//!
//! ```sh
//! cargo run --release --example digits          # from the repository's root
//! ```
use mlp::data::Dataset;
use mlp::metrics::ConfusionMatrix;
use mlp::prelude::*;

mlp::network! {
    /// scikit-learn's MLPClassifier(hidden_layer_sizes=(64,)) for ten classes.
    Digits: input 64 => dense 64 relu => dense 10 softmax; loss cross_entropy; init he
}

fn main() -> Result<(), mlp::Error> {
    let data = Dataset::<f32>::read_csv("data/digits.csv.gz")?;
    let mut accuracies = Vec::new();
    for seed in 0..5 {
        let (train, test) = data.split(0.2, &mut mlp::rng(seed))?;
        let mut net = Digits::new(seed);
        let cfg = TrainConfig::new()
            .epochs(200)
            .batch(Batch::Mini(200))
            .optimizer(Adam::new(0.001))
            .l2(1e-4)
            // scikit-learn stops when the training loss has not improved by
            // 1e-4 for 10 epochs.
            .early_stopping(EarlyStopping {
                patience: 10,
                min_delta: 1e-4,
                restore_best: false,
            })
            .progress(true);
        let history = net.fit(train.x.view(), train.one_hot()?.view(), &cfg)?;
        let predicted =
            mlp::data::classes(net.predict_batch(test.x.view())?.view());
        let cm = ConfusionMatrix::new(&predicted, &test.labels, 10)?;
        println!(
            "split {seed}: {} epochs, test accuracy {:.4}",
            history.epochs.len(),
            cm.accuracy()
        );
        if seed == 0 {
            println!("{cm}");
        }
        accuracies.push(cm.accuracy());
    }
    let mean = accuracies.iter().sum::<f64>() / 5.0;
    let (lo, hi) = accuracies
        .iter()
        .fold((1.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    println!(
        "splits 0 to 4: test accuracy {lo:.3} to {hi:.3}, mean {mean:.4} (scikit-learn: 0.958 to 0.975)"
    );
    Ok(())
}
