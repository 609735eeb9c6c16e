//! XOR: computed by the hand-built step network of the lecture notes, and
//! learned by backprop from small random weights.

use mlp::prelude::*;
use mlp::rng;
use ndarray::{Array2, array};

fn xor() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        array![[0.0], [1.0], [1.0], [0.0]],
    )
}

/// Seed 004, eqs. 1a-1c: hidden units `[1.5 -1 -1]` (NAND) and `[-0.5 1 1]`
/// (OR), output `[-1 1 1]` (AND of the two), bias first, step units.
#[test]
fn hand_built_step_network_computes_xor() {
    let hidden = Dense::<2, 2, _, f64>::from_weights(
        array![[-1.0, -1.0], [1.0, 1.0]],
        array![1.5, -0.5],
        Step,
    )
    .unwrap();
    let output =
        Dense::<2, 1, _, f64>::from_weights(array![[1.0, 1.0]], array![-1.0], Step).unwrap();
    let net = Network::new(hidden, output, Mse, rng(0));
    for (x, want) in [
        ([0.0, 0.0], 0.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 0.0], 1.0),
        ([1.0, 1.0], 0.0),
    ] {
        assert_eq!(net.predict(&x), [want], "XOR{x:?}");
    }
    // The hidden units are NAND and OR.
    assert_eq!(net.hidden().infer(&[1.0, 1.0]), [0.0, 1.0]);
    assert_eq!(net.hidden().infer(&[0.0, 0.0]), [1.0, 0.0]);
}

/// Rumelhart, Hinton & Williams (1986): a 2-2-1 sigmoid network learns XOR by
/// backprop from small random weights (this seed does not stall).
#[test]
fn sigmoid_2_2_1_learns_xor() {
    let (x, y) = xor();
    let mut r = rng(3);
    let hidden = Dense::<2, 2, _, f64>::new(Sigmoid, Init::Uniform(1.0), &mut r);
    let output = Dense::<2, 1, _, f64>::new(Sigmoid, Init::Uniform(1.0), &mut r);
    let mut net = Network::new(hidden, output, Mse, r);
    let cfg = TrainConfig::new()
        .epochs(5000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(2.0).momentum(0.9));
    let history = net.fit(x.view(), y.view(), &cfg).unwrap();
    let out = net.predict_batch(x.view()).unwrap();
    for (o, t) in out.iter().zip(y.iter()) {
        assert!((*o > 0.5) == (*t > 0.5), "outputs {out:?}");
    }
    assert!(
        history.last().unwrap().train_loss < 0.01,
        "{:?}",
        history.last()
    );
}

/// The 2-4-1 network of the README, f32, bce, learns XOR too.
#[test]
fn tanh_2_4_1_bce_learns_xor_in_f32() {
    let (x, y) = xor();
    let (x, y) = (x.mapv(|v| v as f32), y.mapv(|v| v as f32));
    let mut r = rng(7);
    let hidden = Dense::<2, 4, _>::new(Tanh, Init::XavierNormal, &mut r);
    let output = Dense::<4, 1, _>::new(Sigmoid, Init::XavierNormal, &mut r);
    let mut net = Network::new(hidden, output, Bce, r);
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let out = net.predict_batch(x.view()).unwrap();
    assert_eq!(mlp::data::classes(out.view()), vec![0, 1, 1, 0], "{out:?}");
}

/// A stack of linear layers is one linear layer: two identity layers compose
/// to `W = W2 W1`, `b = W2 b1 + b2`.
#[test]
fn linear_layers_collapse() {
    let l1 = Dense::<2, 3, _, f64>::from_weights(
        array![[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]],
        array![0.1, 0.2, 0.3],
        Identity,
    )
    .unwrap();
    let l2 = Dense::<3, 1, _, f64>::from_weights(array![[2.0, -1.0, 0.5]], array![1.0], Identity)
        .unwrap();
    let w = l2.weights().dot(&l1.weights());
    let b = l2.weights().dot(&l1.bias()) + l2.bias();
    let net = Network::new(l1, l2, Mse, rng(0));
    for x in [[0.3, -0.7], [2.0, 1.0], [-1.5, 0.25]] {
        let single = w.row(0).dot(&ndarray::arr1(&x)) + b[0];
        assert!((net.predict(&x)[0] - single).abs() < 1e-12);
    }
}

mlp::network! {
    /// The mission's line, as a type, so it can be built from any seed.
    MissionLine: input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he
}

/// Whether `net` classifies all four XOR points after 20 000 epochs of the
/// library's default training (SGD at 0.01 in batches of up to 32, here the
/// whole set).
fn learns_xor<H, O>(net: &mut Network<H, O, Bce, f32>) -> bool
where
    H: mlp::Backward<f32>,
    O: mlp::OutputLayer<f32, Act = Sigmoid> + mlp::Takes<f32, H::Out>,
{
    let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0f32], [1.0], [1.0], [0.0]];
    net.fit(x.view(), y.view(), &TrainConfig::new().epochs(20_000))
        .unwrap();
    let out = net.predict_batch(x.view()).unwrap();
    out.iter()
        .zip(y.iter())
        .all(|(o, t)| (*o > 0.5) == (*t > 0.5))
}

/// `network!{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce; init he }`
/// learns XOR from at least 95 of the seeds 0 to 99 (97 measured), where
/// the start Keras would make (every layer drawn by He, zero biases: three
/// of four units can start dead) learns it from 63. The difference is the
/// declared network's start: ReLU biases at 0.1 and a zero output layer
/// (see the `network!` documentation).
#[test]
fn the_mission_line_learns_xor_from_almost_every_seed() {
    let declared = (0..100)
        .filter(|&seed| learns_xor(&mut MissionLine::new(seed)))
        .count();
    let keras_start = (0..100u64)
        .filter(|&seed| {
            let mut r = rng(seed);
            let hidden = Dense::<2, 4, _>::new(Relu, Init::HeNormal, &mut r);
            let output = Dense::<4, 1, _>::new(Sigmoid, Init::HeNormal, &mut r);
            let mut net = Network::new(hidden, output, Bce, r);
            let mut layers = net.get_weights();
            layers[0].1.fill(0.0);
            net.set_weights(&layers).unwrap();
            learns_xor(&mut net)
        })
        .count();
    assert!(declared >= 95, "{declared} of 100 seeds");
    assert_eq!((declared, keras_start), (97, 63));
}
