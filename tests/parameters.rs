//! Setting, reading and differentiating a network's parameters, and the
//! optimiser state that goes with them across `fit` calls.

use mlp::prelude::*;
use mlp::{Error, rng};
use ndarray::{Array1, Array2, array};

type Net = Network<
    Chain<Dense<3, 5, Tanh, f64>, Dense<5, 4, Relu, f64>>,
    Dense<4, 2, Sigmoid, f64>,
    Bce,
    f64,
>;

fn net(seed: u64) -> Net {
    let mut r = rng(seed);
    let h =
        Dense::new(Tanh, Init::XavierNormal, &mut r).then(Dense::new(Relu, Init::HeNormal, &mut r));
    let o = Dense::new(Sigmoid, Init::XavierNormal, &mut r);
    Network::new(h, o, Bce, r)
}

fn data() -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 3 + j) as f64 * 0.71).sin());
    let y = Array2::from_shape_fn((12, 2), |(i, j)| ((i + j) % 2) as f64);
    (x, y)
}

/// Every parameter as bits, for exact comparisons.
fn bits(n: &Net) -> Vec<u64> {
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

/// Largest change of any parameter between two snapshots.
fn largest_move(a: &[(Array2<f64>, Array1<f64>)], b: &[(Array2<f64>, Array1<f64>)]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|((wa, ba), (wb, bb))| {
            (wa - wb)
                .iter()
                .chain((ba - bb).iter())
                .map(|d| d.abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max)
}

#[test]
fn get_and_set_weights_round_trip_and_check_everything_first() {
    let (mut a, b) = (net(1), net(2));
    let layers = b.get_weights();
    assert_eq!(layers.len(), 3);
    assert_eq!(layers[0].0.dim(), (5, 3), "out x in, as nn.Linear");
    a.set_weights(&layers).unwrap();
    assert_eq!(bits(&a), bits(&b));

    // Each bad input names its layer and leaves the network as it was.
    let before = bits(&a);
    let mut short = layers.clone();
    short.pop();
    let mut transposed = layers.clone();
    transposed[1].0 = transposed[1].0.t().to_owned();
    let mut nan = layers.clone();
    nan[2].0[[1, 3]] = f64::NAN;
    let mut long_bias = layers.clone();
    long_bias[0].1 = Array1::zeros(6);
    let mut inf_bias = layers.clone();
    inf_bias[2].1[0] = f64::INFINITY;
    for (bad, layer, words) in [
        (short, 2, "has 3 dense layers, got parameters for 2"),
        (transposed, 1, "weights must be 4 x 5 (out x in), got 5 x 4"),
        (nan, 2, "weight [1, 3] is NaN"),
        (long_bias, 0, "biases must have 5 values, got 6"),
        (inf_bias, 2, "bias [0] is inf"),
    ] {
        let err = a.set_weights(&bad).unwrap_err();
        let Error::InvalidParameters { layer: at, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*at, layer, "{err}");
        assert!(err.to_string().contains(words), "{err}");
        assert_eq!(bits(&a), before, "a failed set_weights changed the network");
    }
}

/// The bug this pins: after `fit` with SGD + momentum, a `fit` with Adam
/// read the SGD velocity as its first moment and started at t = 2, so its
/// first step moved a weight by far more than lr allows. Now the state is
/// reset when the rule changes, and the first Adam step is exactly that of
/// a fresh network holding the same weights.
#[test]
fn switching_optimiser_resets_its_state() {
    let (x, y) = data();
    let mut n = net(3);
    let sgd = TrainConfig::new()
        .epochs(20)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5).momentum(0.9));
    n.fit(x.view(), y.view(), &sgd).unwrap();
    assert_eq!(n.optimizer_steps(), 20);

    let mut fresh = net(99);
    fresh.set_weights(&n.get_weights()).unwrap();
    assert_eq!(fresh.optimizer_steps(), 0);

    let adam = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Adam::new(0.01));
    let before = n.get_weights();
    n.fit(x.view(), y.view(), &adam).unwrap();
    fresh.fit(x.view(), y.view(), &adam).unwrap();
    // Adam's first step moves each weight by lr * g / (|g| + eps): at most lr.
    let moved = largest_move(&before, &n.get_weights());
    assert!(
        moved <= 0.01 * (1.0 + 1e-9),
        "first Adam step moved {moved}"
    );
    assert!(moved > 0.009, "it moved at all: {moved}");
    assert_eq!(bits(&n), bits(&fresh));
    assert_eq!(n.optimizer_steps(), 1);
}

/// The same rule carries its state over: two `fit` calls of two epochs
/// train exactly as one of four, for momentum and for Adam, also when only
/// the learning rate differs between the calls (as a manual schedule).
#[test]
fn the_same_optimiser_continues_where_it_stopped() {
    let (x, y) = data();
    for opt in [
        Optimizer::from(Sgd::new(0.3).momentum(0.8).nesterov()),
        Adam::new(0.02).into(),
    ] {
        let cfg = TrainConfig::new().batch(Batch::Full).optimizer(opt);
        let (mut once, mut twice) = (net(4), net(4));
        once.fit(x.view(), y.view(), &cfg.clone().epochs(4))
            .unwrap();
        twice
            .fit(x.view(), y.view(), &cfg.clone().epochs(2))
            .unwrap();
        twice
            .fit(x.view(), y.view(), &cfg.clone().epochs(2))
            .unwrap();
        assert_eq!(bits(&once), bits(&twice), "{opt:?}");
        assert_eq!(twice.optimizer_steps(), 4);
    }
    // A new learning rate keeps Adam's moments and t ...
    let adam = |lr| {
        TrainConfig::new()
            .epochs(1)
            .batch(Batch::Full)
            .optimizer(Adam::new(lr))
    };
    let mut n = net(5);
    n.fit(x.view(), y.view(), &adam(0.01)).unwrap();
    n.fit(x.view(), y.view(), &adam(0.001)).unwrap();
    assert_eq!(n.optimizer_steps(), 2);
    // ... new betas do not; nor does an explicit reset.
    let other = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Adam {
            beta2: 0.99,
            ..Adam::new(0.001)
        });
    n.fit(x.view(), y.view(), &other).unwrap();
    assert_eq!(n.optimizer_steps(), 1);
    n.reset_optimizer();
    assert_eq!(n.optimizer_steps(), 0);
}

/// `gradients` is backprop's raw gradient of the mean loss: what `trace`
/// reports, what finite differences measure, untouched by penalties and
/// clipping, and it moves nothing.
#[test]
fn raw_gradients_match_trace_and_finite_differences() {
    let (x, y) = data();
    let mut n = net(6);
    let before = bits(&n);
    let g = n.gradients(x.view(), y.view()).unwrap();
    assert_eq!(bits(&n), before);
    let t = n.trace(x.view(), y.view()).unwrap();
    assert_eq!(g.loss, t.loss);
    for (k, ((gw, gb), lt)) in g.layers.iter().zip(&t.layers).enumerate() {
        assert_eq!(gw, &lt.grad_w, "layer {k}");
        assert_eq!(gb, &lt.grad_b, "layer {k}");
    }
    // Central differences of the mean loss, one weight at a time.
    let eps = 1e-6;
    let mut probe = net(6);
    for (k, (gw, _)) in g.layers.iter().enumerate() {
        for ((r, c), &analytic) in gw.indexed_iter() {
            let mut layers = n.get_weights();
            let mut loss_at = |delta: f64| {
                layers[k].0[[r, c]] = n.get_weights()[k].0[[r, c]] + delta;
                probe.set_weights(&layers).unwrap();
                probe.evaluate(x.view(), y.view()).unwrap()
            };
            let numeric = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps);
            assert!(
                (numeric - analytic).abs() < 1e-7,
                "layer {k} [{r}, {c}]: {numeric} vs {analytic}"
            );
        }
    }
    // A step with an L2 penalty and clipping still starts from this gradient:
    // the weights after one plain SGD step are w - lr g.
    let mut stepped = net(6);
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.1));
    stepped.fit(x.view(), y.view(), &cfg).unwrap();
    for ((w1, _), ((w0, _), (gw, _))) in stepped
        .get_weights()
        .iter()
        .zip(n.get_weights().iter().zip(&g.layers))
    {
        let expected = w0 - &(gw * 0.1);
        assert!((w1 - &expected).iter().all(|d| d.abs() < 1e-15));
    }
    // Bad data is an error, as everywhere.
    assert!(matches!(
        n.gradients(Array2::zeros((2, 4)).view(), Array2::zeros((2, 2)).view()),
        Err(Error::ShapeMismatch { .. })
    ));
    let _ = array![[0.0]];
}
