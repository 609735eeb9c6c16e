//! Backprop against central finite differences, in f64, for every activation
//! and loss pairing that makes sense, with 1, 2 and 3 hidden layers.
//!
//! `grad_check` perturbs every weight and bias by +-1e-4 and +-2e-4,
//! recomputes the mean loss, and compares the fourth-order central difference
//! with backprop's gradient. The relative error is
//! `|g_bp - g_fd| / max(|g_bp|, |g_fd|, 1e-5)` (see `GRAD_CHECK_FLOOR` for why
//! tiny components are compared on an absolute scale).

use mlp::prelude::*;
use mlp::{GradCheck, rng};
use ndarray::{Array2, array};

const TOL: f64 = 1e-6;

fn inputs() -> Array2<f64> {
    array![
        [0.31, -1.20, 0.75],
        [-0.52, 0.44, 1.61],
        [1.93, -0.27, -0.88],
        [-1.05, -0.91, 0.12],
        [0.66, 1.38, -1.47],
        [-0.14, 0.09, 0.58],
    ]
}

/// Targets suitable for each loss, 2 outputs per sample.
fn targets(kind: &str) -> Array2<f64> {
    match kind {
        "regression" => array![
            [0.3, -0.8],
            [1.2, 0.1],
            [-0.4, 0.9],
            [0.0, -1.3],
            [0.7, 0.5],
            [-1.1, 0.2]
        ],
        "binary" => array![
            [1.0, 0.0],
            [0.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [0.3, 0.8]
        ],
        "onehot" => array![
            [1.0, 0.0],
            [0.0, 1.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [1.0, 0.0],
            [0.0, 1.0]
        ],
        "signs" => array![
            [1.0, -1.0],
            [-1.0, -1.0],
            [1.0, 1.0],
            [-1.0, 1.0],
            [1.0, -1.0],
            [-1.0, 1.0]
        ],
        _ => unreachable!(),
    }
}

fn assert_ok(what: &str, report: GradCheck) {
    assert!(report.checked > 0);
    assert!(
        report.max_rel_error < TOL,
        "{what}: max relative error {:.3e} (abs {:.3e}) over {} parameters",
        report.max_rel_error,
        report.max_abs_error,
        report.checked
    );
}

/// Builds the same hidden activation into networks of depth 1, 2 and 3,
/// with the given output activation and loss, and checks each.
macro_rules! check_pairing {
    ($hidden:expr, $out:expr, $loss:expr, $targets:expr) => {{
        let (x, y) = (inputs(), targets($targets));
        let what = |depth: usize| format!("{:?} x{depth} -> {:?} + {:?}", $hidden, $out, $loss);
        let mut r = rng(11);
        let l1 = Dense::<3, 5, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let out = Dense::<5, 2, _, f64>::new($out, Init::XavierNormal, &mut r);
        let mut net = Network::new(l1, out, $loss, r);
        assert_ok(&what(1), net.grad_check(x.view(), y.view(), 1e-4).unwrap());

        let mut r = rng(12);
        let l1 = Dense::<3, 5, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let l2 = Dense::<5, 4, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let out = Dense::<4, 2, _, f64>::new($out, Init::XavierNormal, &mut r);
        let mut net = Network::new(l1.then(l2), out, $loss, r);
        assert_ok(&what(2), net.grad_check(x.view(), y.view(), 1e-4).unwrap());

        let mut r = rng(13);
        let l1 = Dense::<3, 5, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let l2 = Dense::<5, 4, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let l3 = Dense::<4, 3, _, f64>::new($hidden, Init::XavierNormal, &mut r);
        let out = Dense::<3, 2, _, f64>::new($out, Init::XavierNormal, &mut r);
        let mut net = Network::new(l1.then(l2).then(l3), out, $loss, r);
        assert_ok(&what(3), net.grad_check(x.view(), y.view(), 1e-4).unwrap());
    }};
}

/// Every output pairing for one hidden activation.
macro_rules! check_hidden {
    ($name:ident, $hidden:expr) => {
        #[test]
        fn $name() {
            check_pairing!($hidden, Identity, Mse, "regression");
            check_pairing!($hidden, Identity, Mae, "regression");
            check_pairing!($hidden, Identity, Huber::new(0.5), "regression");
            check_pairing!($hidden, Identity, mlp::Hinge, "signs");
            check_pairing!($hidden, Tanh, Mse, "regression");
            check_pairing!($hidden, Sigmoid, Mse, "binary");
            check_pairing!($hidden, Sigmoid, Bce, "binary");
            check_pairing!($hidden, Softmax, CrossEntropy, "onehot");
            check_pairing!($hidden, Softmax, Mse, "onehot");
        }
    };
}

check_hidden!(identity_hidden, Identity);
check_hidden!(sigmoid_hidden, Sigmoid);
check_hidden!(tanh_hidden, Tanh);
check_hidden!(relu_hidden, Relu);
check_hidden!(leaky_relu_hidden, LeakyRelu::new(0.1));
check_hidden!(elu_hidden, Elu::new(1.0));
check_hidden!(selu_hidden, Selu);
check_hidden!(softplus_hidden, Softplus);
check_hidden!(softsign_hidden, Softsign);
check_hidden!(swish_hidden, Swish);
check_hidden!(mish_hidden, Mish);
check_hidden!(softmax_hidden, Softmax);

/// A network with no hidden layer (logistic regression) checks too.
#[test]
fn no_hidden_layer() {
    let (x, y) = (inputs(), targets("binary"));
    let mut r = rng(5);
    let out = Dense::<3, 2, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
    let mut net = Network::new(Input::<3>, out, Bce, r);
    assert_ok(
        "logistic regression",
        net.grad_check(x.view(), y.view(), 1e-4).unwrap(),
    );
}

/// Dropout is off in grad_check (inference mode), so a network with dropout
/// layers checks like the same network without them.
#[test]
fn dropout_is_transparent_to_grad_check() {
    let (x, y) = (inputs(), targets("onehot"));
    let mut r = rng(6);
    let l1 = Dense::<3, 6, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
    let drop = Dropout::<6, f64>::new(0.5).unwrap();
    let out = Dense::<6, 2, _, f64>::new(Softmax, Init::XavierNormal, &mut r);
    let mut net = Network::new(l1.then(drop), out, CrossEntropy, r);
    assert_ok(
        "tanh + dropout",
        net.grad_check(x.view(), y.view(), 1e-4).unwrap(),
    );
}

/// Layers with IN * OUT >= 4096 take the register-blocked products; their
/// gradients check the same way.
#[test]
fn large_layers_use_the_fast_products_and_check() {
    let x = ndarray::Array2::from_shape_fn((9, 80), |(i, j)| ((i * 80 + j) as f64 * 0.37).sin());
    let labels: Vec<usize> = (0..9).map(|i| i % 3).collect();
    let y = mlp::data::one_hot::<f64>(&labels, 3).unwrap();
    let mut r = rng(21);
    let l1 = Dense::<80, 64, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
    let l2 = Dense::<64, 70, _, f64>::new(Swish, Init::XavierNormal, &mut r);
    let out = Dense::<70, 3, _, f64>::new(Softmax, Init::XavierNormal, &mut r);
    let mut net = Network::new(l1.then(l2), out, CrossEntropy, r);
    assert_ok(
        "80-64-70-3",
        net.grad_check(x.view(), y.view(), 1e-4).unwrap(),
    );
}
