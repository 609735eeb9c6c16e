//! The shipped data sets, read and learned as a user would: the results
//! scikit-learn reports for the same protocol are met, and bad files fail
//! with the line named.

use mlp::Error;
use mlp::data::{Dataset, Standardizer};
use mlp::metrics::ConfusionMatrix;
use mlp::prelude::*;

mlp::network! {
    Digits: input 64 => dense 64 relu => dense 10 softmax; loss cross_entropy; init he
}

/// scikit-learn 1.9.1's MLPClassifier (64 ReLU units, Adam, defaults, raw
/// pixels) scores 0.958 to 0.975 on 80/20 stratified splits; the
/// examples/digits.rs protocol must land in or above that range.
#[test]
fn digits_match_scikit_learn() {
    let data = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    assert_eq!((data.len(), data.x.ncols(), data.classes()), (1797, 64, 10));
    let (train, test) = data.split(0.2, &mut mlp::rng(0)).unwrap();
    assert_eq!((train.len(), test.len()), (1437, 360));
    let mut net = Digits::new(0);
    let cfg = TrainConfig::new()
        .epochs(200)
        .batch(Batch::Mini(200))
        .optimizer(Adam::new(0.001))
        .l2(1e-4);
    net.fit(train.x.view(), train.one_hot().unwrap().view(), &cfg)
        .unwrap();
    let predicted = mlp::data::classes(net.predict_batch(test.x.view()).unwrap().view());
    let cm = ConfusionMatrix::new(&predicted, &test.labels, 10).unwrap();
    assert!(cm.accuracy() >= 0.958, "{cm}");
    assert_eq!(cm.total(), 360);
}

#[test]
fn iris_is_learned() {
    let data = Dataset::<f64>::read_csv("data/iris.csv").unwrap();
    let (train, test) = data.split(0.2, &mut mlp::rng(1)).unwrap();
    let scale = Standardizer::fit(train.x.view()).unwrap();
    let mut net = network! {
        input 4 => dense 16 tanh => dense 3 softmax; loss cross_entropy; seed 0; dtype f64
    };
    let cfg = TrainConfig::new()
        .epochs(200)
        .batch(Batch::Mini(16))
        .optimizer(Adam::new(0.01));
    net.fit(
        scale.transform(train.x.view()).unwrap().view(),
        train.one_hot().unwrap().view(),
        &cfg,
    )
    .unwrap();
    let out = net
        .predict_batch(scale.transform(test.x.view()).unwrap().view())
        .unwrap();
    let acc = mlp::data::accuracy(&mlp::data::classes(out.view()), &test.labels).unwrap();
    assert!(acc >= 0.93, "{acc}");
}

#[test]
fn every_shipped_file_reads() {
    for (file, rows, cols, classes) in [
        ("iris.csv", 150, 4, 3),
        ("wine.csv", 178, 13, 3),
        ("breast_cancer.csv.gz", 569, 30, 2),
        ("sonar.csv.gz", 208, 60, 2),
    ] {
        let d = Dataset::<f32>::read_csv(format!("data/{file}")).unwrap();
        assert_eq!(
            (d.len(), d.x.ncols(), d.classes()),
            (rows, cols, classes),
            "{file}"
        );
    }
    assert_eq!(
        Dataset::<f32>::read_csv("data/breast_cancer.csv.gz")
            .unwrap()
            .binary_targets()
            .unwrap()
            .dim(),
        (569, 1)
    );
}

#[test]
fn bad_files_name_the_line() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("mlp-real-{}.csv", std::process::id()));
    std::fs::write(&path, "a,b,label\n1,2,0\n3,oops,1\n").unwrap();
    let err = Dataset::<f32>::read_csv(&path).unwrap_err();
    assert!(matches!(err, Error::BadFile { .. }), "{err}");
    assert!(err.to_string().contains("line 3, column 2 (b)"), "{err}");
    // A gzip stream cut short.
    let gz = std::fs::read("data/digits.csv.gz").unwrap();
    std::fs::write(&path, &gz[..gz.len() / 3]).unwrap();
    let err = Dataset::<f32>::read_csv(&path).unwrap_err();
    assert!(matches!(err, Error::BadFile { .. }), "{err}");
    std::fs::remove_file(&path).unwrap();
    let err = Dataset::<f32>::read_csv("data/none.csv").unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("data/none.csv"),
        "{err}"
    );
}
