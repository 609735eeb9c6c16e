//! The `network!` DSL: forms, clauses, and equivalence with hand-built networks.

use mlp::prelude::*;
use mlp::rng;
use ndarray::{Array2, array};

mlp::network! {
    /// The XOR network, as a named type.
    pub Xor: input 2 => dense 4 tanh => dense 1 sigmoid; loss bce; init xavier; seed 7; dtype f64
}

/// A struct can hold a declared network, and functions can take one.
struct Model {
    net: Xor,
}

fn train(net: &mut Xor) -> f64 {
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new()
        .epochs(500)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg)
        .unwrap()
        .last()
        .unwrap()
        .train_loss
}

fn all_weights<H, O, L, F: Float>(net: &Network<H, O, L, F>) -> Vec<F>
where
    H: mlp::Parameters<F>,
    O: mlp::OutputLayer<F> + mlp::Takes<F, H::Out>,
    L: mlp::LossFor<F, O::Act>,
{
    let mut w = Vec::new();
    net.visit_layers(0, &mut |l| {
        if let mlp::LayerView::Dense(d) = l {
            w.extend(d.w.iter().copied());
            w.extend(d.b.iter().copied());
        }
    });
    w
}

#[test]
fn macro_and_hand_built_train_to_identical_bits() {
    let mut from_macro = Model {
        net: Xor::default(),
    };
    let mut r = rng(7);
    let hidden = Dense::<2, 4, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
    // A declared network's output layer starts at zero weights.
    let output = Dense::<4, 1, _, f64>::new(Sigmoid, Init::Zeros, &mut r);
    let mut by_hand = Network::new(hidden, output, Bce, r);
    assert_eq!(all_weights(&from_macro.net), all_weights(&by_hand));

    let loss = train(&mut from_macro.net);
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0], [1.0], [1.0], [0.0]];
    let cfg = TrainConfig::new()
        .epochs(500)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    by_hand.fit(x.view(), y.view(), &cfg).unwrap();
    assert_eq!(all_weights(&from_macro.net), all_weights(&by_hand));
    assert!(loss < 0.05, "{loss}");
}

#[test]
fn deep_macro_network_matches_hand_built_chain() {
    let mut a = mlp::network! {
        input 3 => dense 5 relu => dropout 0.3 => dense 4 elu(0.5) => dense 2 softmax;
        loss cross_entropy; init he; seed 11
    };
    let mut r = rng(11);
    let l1 = Dense::<3, 5, _>::new(Relu, Init::HeNormal, &mut r);
    let l2 = Dense::<5, 4, _>::new(Elu::new(0.5), Init::HeNormal, &mut r);
    let out = Dense::<4, 2, _>::new(Softmax, Init::Zeros, &mut r);
    let mut b = Network::new(
        l1.then(Dropout::new(0.3).unwrap()).then(l2),
        out,
        CrossEntropy,
        r,
    );
    let x = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 3 + j) as f32 * 0.7).sin());
    let y = mlp::data::one_hot::<f32>(&[0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0], 2).unwrap();
    let cfg = TrainConfig::new()
        .epochs(20)
        .batch(Batch::Mini(5))
        .optimizer(Adam::new(0.01));
    a.fit(x.view(), y.view(), &cfg).unwrap();
    b.fit(x.view(), y.view(), &cfg).unwrap();
    assert_eq!(all_weights(&a), all_weights(&b));
}

#[test]
fn associated_constants_and_summary() {
    assert_eq!(
        (Xor::INPUTS, Xor::OUTPUTS, Xor::PARAMS, Xor::SEED),
        (2, 1, 17, 7)
    );
    mlp::network! { Wide: input 784 => dense 128 relu => dropout 0.2 => dense 10 softmax; loss cross_entropy }
    assert_eq!(Wide::PARAMS, 784 * 128 + 128 + 128 * 10 + 10);
    let s = Wide::new(0).summary();
    assert!(
        s.contains("dense 784->128")
            && s.contains("dropout 0.2")
            && s.contains("Total params: 101770"),
        "{s}"
    );
    let out: [f32; 10] = Wide::new(1).predict(&[0.5; 784]);
    assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn every_activation_loss_and_initialiser_parses() {
    let a = mlp::network! {
        input 2 => dense 3 identity => dense 3 linear => dense 3 sigmoid => dense 3 tanh => dense 3 relu
        => dense 3 leaky_relu => dense 3 leaky_relu(0.2) => dense 3 elu => dense 3 elu(0.7) => dense 3 selu
        => dense 3 softplus => dense 3 softsign => dense 3 swish => dense 3 mish => dense 3 softmax
        => dense 1 identity; loss mse; init lecun
    };
    assert_eq!(a.predict(&[0.1, 0.2]).len(), 1);
    let _ = mlp::network! { input 2 => dense 1 identity; loss mae; init zeros };
    let _ = mlp::network! { input 2 => dense 1 identity; loss huber; init normal(0.01) };
    let _ = mlp::network! { input 2 => dense 1 identity; loss huber(0.5); init uniform(0.1) };
    let _ = mlp::network! { input 2 => dense 1 identity; loss hinge; init he_uniform };
    let _ = mlp::network! { input 2 => dense 1 sigmoid; loss bce; init xavier_uniform; dtype f32 };
}

#[test]
fn step_networks_run_forward() {
    let net = mlp::network! { input 2 => dense 2 step => dense 1 step; loss mse; init uniform(1.0); seed 3 };
    let y = net.predict(&[1.0, 0.0])[0];
    assert!(y == 0.0 || y == 1.0);
}

#[test]
fn different_seeds_differ_and_same_seeds_agree() {
    assert_eq!(all_weights(&Xor::new(1)), all_weights(&Xor::new(1)));
    assert_ne!(all_weights(&Xor::new(1)), all_weights(&Xor::new(2)));
}
