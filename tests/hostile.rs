//! Hostile input through the public API: each case that once aborted, hung,
//! panicked or trained silently wrong is now a clear `Err` (or works), and a
//! network that refuses something is left bit for bit as it was.

use mlp::perceptron::{Perceptron, delta_rule};
use mlp::prelude::*;
use mlp::{Error, rng};
use ndarray::{Array1, Array2, array};

type Net = Network<Dense<2, 4, Tanh, f64>, Dense<4, 1, Identity, f64>, Huber, f64>;

fn xor() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        array![[0.0], [1.0], [1.0], [0.0]],
    )
}

fn bits<H, O, L>(n: &Network<H, O, L, f64>) -> Vec<u64>
where
    H: mlp::Parameters<f64>,
    O: mlp::OutputLayer<f64> + mlp::Takes<f64, H::Out>,
    L: mlp::Loss<f64>,
{
    n.get_weights()
        .iter()
        .flat_map(|(w, b)| {
            w.iter()
                .chain(b.iter())
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `predict_batch` used to copy each row into an `[F; INPUTS]` on the
/// stack, twice: a 262144-input f64 network (2 MiB a row) overflowed a
/// 2 MiB thread stack and aborted the process.
#[test]
fn a_wide_network_predicts_on_a_small_stack() {
    const WIDE: usize = 1 << 18;
    let outputs = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut r = rng(1);
            let output = Dense::<WIDE, 1, _, f64>::new(Identity, Init::Zeros, &mut r);
            let mut net = Network::new(Input::<WIDE>, output, Mse, r);
            let mut layers = net.get_weights();
            layers[0].0.fill(1.0);
            layers[0].1[0] = 0.5;
            net.set_weights(&layers).unwrap();
            let x = Array2::from_shape_fn((3, WIDE), |(r, c)| if c < 4 { r as f64 } else { 0.0 });
            net.predict_batch(x.view()).unwrap()
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(outputs.column(0).to_vec(), vec![0.5, 4.5, 8.5]);
}

/// `predict_batch` runs the training products, so it agrees with
/// `predict` on small networks (same kernels) and with `evaluate`.
#[test]
fn predict_batch_agrees_with_predict() {
    let (x, y) = xor();
    let mut net = network! { input 2 => dense 8 tanh => dropout 0.3 => dense 1 sigmoid; loss bce; seed 4; dtype f64 };
    net.fit(x.view(), y.view(), &TrainConfig::new().epochs(50))
        .unwrap();
    let batch = net.predict_batch(x.view()).unwrap();
    for (row, out) in x.rows().into_iter().zip(batch.rows()) {
        assert_eq!(
            net.predict(&[row[0], row[1]])[0].to_bits(),
            out[0].to_bits()
        );
    }
}

#[test]
fn data_helpers_refuse_instead_of_panicking_or_hanging() {
    assert!(matches!(
        mlp::data::one_hot::<f32>(&[0], usize::MAX),
        Err(Error::InvalidConfig(_))
    ));
    assert!(matches!(
        mlp::data::one_hot::<f32>(&[3], 3),
        Err(Error::LabelOutOfRange {
            label: 3,
            classes: 3,
            ..
        })
    ));
    // A label of 10^11 is one more class, not 10^11 classes to loop over.
    let labels = [0, 100_000_000_000, 0, 100_000_000_000, usize::MAX, 0];
    let (train, test) = mlp::data::stratified_split(&labels, 0.5, &mut rng(1)).unwrap();
    assert_eq!(train.len() + test.len(), labels.len());
    assert!(mlp::data::stratified_split(&[], 0.5, &mut rng(1)).is_err());
}

#[test]
fn the_perceptron_checks_widths_and_rates() {
    let p = Perceptron::<f64>::new(2);
    assert!(matches!(
        p.predict(Array1::zeros(3).view()),
        Err(Error::ShapeMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    let (x, _) = xor();
    let y = [-1.0, 1.0, 1.0, 1.0];
    for eta in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        let mut p = Perceptron::<f64>::new(2);
        let err = p.train(x.view(), &y, eta, 10).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "eta {eta}: {err}");
        assert_eq!(p.w, Array1::zeros(3), "eta {eta} touched the weights");
        let mut w = Array1::zeros(3);
        assert!(delta_rule(&mut w, x.view(), &y, eta, 10).is_err());
    }
    // An empty weight vector is an error, not an underflow.
    let empty = Perceptron {
        w: Array1::<f64>::zeros(0),
    };
    assert!(empty.predict(Array1::zeros(0).view()).is_err());
    // A rate so large that the weights overflow stops with them finite.
    let mut w = Array1::<f64>::zeros(3);
    let big = array![[1e200, 1e200], [-1e200, 3e200]];
    let err = delta_rule(&mut w, big.view(), &[1.0, -1.0], 1e100, 100).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { .. }), "{err}");
    assert!(w.iter().all(|v| v.is_finite()), "{w}");
}

/// Hyper-parameters that used to be accepted and then trained wrong (a
/// negative decay flips the rate's sign every other epoch: gradient
/// ascent), or failed with the wrong cause ("training diverged").
#[test]
fn bad_hyper_parameters_name_themselves() {
    let (x, y) = xor();
    let base = TrainConfig::new().epochs(3);
    let cases = [
        (Schedule::Exponential { gamma: -0.5 }, "gamma"),
        (Schedule::Exponential { gamma: f64::NAN }, "gamma"),
        (
            Schedule::Step {
                every: 0,
                gamma: 0.5,
            },
            "every 1 or more",
        ),
        (
            Schedule::Step {
                every: 2,
                gamma: 0.0,
            },
            "gamma",
        ),
        (Schedule::InverseTime { k: -1.0 }, "k must be"),
        (Schedule::InverseTime { k: f64::NAN }, "k must be"),
    ];
    for (schedule, words) in cases {
        let mut n = huber_net(1.0);
        let before = bits(&n);
        let err = n
            .fit(x.view(), y.view(), &base.clone().schedule(schedule))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig(_)) && err.to_string().contains(words),
            "{schedule:?}: {err}"
        );
        assert_eq!(bits(&n), before);
    }
    for d in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        let mut n = huber_net(d);
        let before = bits(&n);
        let err = n.fit(x.view(), y.view(), &base).unwrap_err();
        assert!(
            err.to_string()
                .contains("huber threshold d must be positive"),
            "huber({d}): {err}"
        );
        assert_eq!(bits(&n), before);
    }
    // NaN inside the network: an initialiser's scale, an activation's slope.
    let mut r = rng(2);
    let h = Dense::<2, 3, _, f64>::new(Tanh, Init::Normal(f64::NAN), &mut r);
    let o = Dense::<3, 1, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
    let mut n = Network::new(h, o, Bce, r);
    let err = n.fit(x.view(), y.view(), &base).unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameters { layer: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("normal(NaN)"), "{err}");
    for bad in [LeakyRelu::new(f64::NAN), LeakyRelu::new(f64::INFINITY)] {
        let mut r = rng(2);
        let h = Dense::<2, 3, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
        let o = Dense::<3, 1, _, f64>::new(bad, Init::XavierNormal, &mut r);
        let mut n = Network::new(h, o, Mse, r);
        let before = bits(&n);
        let err = n.fit(x.view(), y.view(), &base).unwrap_err();
        assert!(
            err.to_string().contains("dense layer 1") && err.to_string().contains("slope"),
            "{err}"
        );
        assert_eq!(bits(&n), before);
        assert!(n.trace(x.view(), y.view()).is_err());
    }
    let mut r = rng(2);
    let h = Dense::<2, 3, _, f64>::new(Elu::new(f64::NAN), Init::XavierNormal, &mut r);
    let o = Dense::<3, 1, _, f64>::new(Identity, Init::XavierNormal, &mut r);
    let mut n = Network::new(h, o, Mse, r);
    assert!(
        n.fit(x.view(), y.view(), &base)
            .unwrap_err()
            .to_string()
            .contains("elu alpha")
    );
    // A finite-difference step of 0 or NaN used to report an error of 0.0.
    let mut n = huber_net(1.0);
    for eps in [0.0, -1e-4, f64::NAN] {
        assert!(
            matches!(
                n.grad_check(x.view(), y.view(), eps),
                Err(Error::InvalidConfig(_))
            ),
            "eps {eps}"
        );
    }
    // Nesterov without momentum is refused, as torch.optim.SGD does.
    let err = n
        .fit(
            x.view(),
            y.view(),
            &base.clone().optimizer(Sgd::new(0.1).nesterov()),
        )
        .unwrap_err();
    assert!(err.to_string().contains("Nesterov"), "{err}");
}

fn huber_net(d: f64) -> Net {
    let mut r = rng(3);
    let h = Dense::new(Tanh, Init::XavierNormal, &mut r);
    let o = Dense::new(Identity, Init::XavierNormal, &mut r);
    Network::new(h, o, Huber::new(d), r)
}

/// With a short last batch (5 rows in batches of 3), the recorded
/// activation statistics are those of the last batch's 2 rows; they used
/// to average over 3, counting a stale row of the previous batch.
#[test]
fn recorded_statistics_cover_only_the_rows_of_the_last_batch() {
    let x = Array2::from_shape_fn((5, 2), |(i, j)| {
        (i as f64 + 1.0) * if j == 0 { 0.3 } else { -0.7 }
    });
    let y = Array2::from_shape_fn((5, 1), |(i, _)| (i % 2) as f64);
    let mut r = rng(5);
    let h = Dense::<2, 4, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
    let o = Dense::<4, 1, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
    let mut net = Network::new(h, o, Bce, r);
    let mut replay = net.clone();
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Mini(3))
        .shuffle(false)
        .optimizer(Sgd::new(0.5))
        .record_stats(true);
    let history = net.fit(x.view(), y.view(), &cfg).unwrap();
    let recorded = history.epochs[0].layers[0];

    // The last batch (rows 3 and 4) saw the weights after the first update.
    let first = ndarray::s![..3, ..];
    replay
        .train_on_batch(x.slice(first), y.slice(first), &cfg)
        .unwrap();
    let t = replay
        .trace(x.slice(ndarray::s![3.., ..]), y.slice(ndarray::s![3.., ..]))
        .unwrap();
    let h = &t.layers[0].h;
    let mean = h.mean().unwrap();
    let std = h.mapv(|v| (v - mean).powi(2)).mean().unwrap().sqrt();
    assert!(
        (recorded.mean - mean).abs() < 1e-15,
        "{} vs {mean}",
        recorded.mean
    );
    assert!(
        (recorded.std - std).abs() < 1e-15,
        "{} vs {std}",
        recorded.std
    );
}
