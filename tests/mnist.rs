//! Real MNIST, read from `../shared/data/mnist` (beside the repository, as
//! CI has it). Users without the files skip this test with a message.

use mlp::prelude::*;
use std::path::Path;

fn mnist_dir() -> Option<&'static Path> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist"));
    dir.exists().then_some(dir)
}

#[test]
fn loads_mnist_and_one_epoch_of_nielsens_network_learns() {
    let Some(dir) = mnist_dir() else {
        eprintln!("skipped: MNIST not found at ../shared/data/mnist");
        return;
    };
    let data = mlp::data::mnist::load::<f32>(dir).unwrap();
    assert_eq!(data.train_x.dim(), (60_000, 784));
    assert_eq!(data.test_x.dim(), (10_000, 784));
    assert_eq!(
        (data.train_labels.len(), data.test_labels.len()),
        (60_000, 10_000)
    );
    // The published label counts of the test set (digit 1 is the most common).
    let ones = data.test_labels.iter().filter(|&&l| l == 1).count();
    assert_eq!(ones, 1135);
    assert!(data.train_x.iter().all(|&v| (0.0..=1.0).contains(&v)));

    // One epoch of Nielsen's 784-30-10 configuration already exceeds 90%.
    let y = mlp::data::one_hot::<f32>(&data.train_labels, 10).unwrap();
    let mut net = mlp::network! {
        input 784 => dense 30 sigmoid => dense 10 sigmoid; loss mse; init normal(1.0); seed 1
    };
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Mini(10))
        .optimizer(Sgd::new(3.0));
    net.fit(data.train_x.view(), y.view(), &cfg).unwrap();
    let out = net.predict_batch(data.test_x.view()).unwrap();
    let acc = mlp::data::accuracy(&mlp::data::classes(out.view()), &data.test_labels).unwrap();
    assert!(acc > 0.90, "test accuracy after one epoch: {acc}");
}
