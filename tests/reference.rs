//! Fixed reference numbers from an independent implementation.
//!
//! The numbers below were printed by `scripts/reference_numbers.py` (numpy,
//! backprop written out from the chain rule with the full softmax Jacobian and
//! the unfused BCE derivative, and confirmed there by central differences):
//!
//! ```text
//! W1 = [[0.2, -0.4], [0.7, 0.1], [-0.5, 0.3]]; b1 = [0.1, -0.2, 0.05]
//! W2 = [[0.6, -0.3, 0.8], [-0.1, 0.5, 0.2]];   b2 = [0.0, 0.1]
//! X  = [[1, 2], [-0.5, 0.3], [0, -1]];          Y = [[1, 0], [0, 1], [1, 0]]
//! a1 = X W1^T + b1; h1 = tanh(a1); a2 = h1 W2^T + b2; h2 = sigmoid or softmax
//! ```

use approx::assert_abs_diff_eq;
use mlp::prelude::*;
use mlp::{Trace, rng};
use ndarray::{Array2, ArrayView2, array};

fn params() -> (
    Array2<f64>,
    ndarray::Array1<f64>,
    Array2<f64>,
    ndarray::Array1<f64>,
) {
    (
        array![[0.2, -0.4], [0.7, 0.1], [-0.5, 0.3]],
        array![0.1, -0.2, 0.05],
        array![[0.6, -0.3, 0.8], [-0.1, 0.5, 0.2]],
        array![0.0, 0.1],
    )
}

fn data() -> (Array2<f64>, Array2<f64>) {
    (
        array![[1.0, 2.0], [-0.5, 0.3], [0.0, -1.0]],
        array![[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
    )
}

fn close(got: ArrayView2<'_, f64>, want: Array2<f64>) {
    assert_eq!(got.dim(), want.dim());
    for (g, w) in got.iter().zip(want.iter()) {
        assert_abs_diff_eq!(*g, *w, epsilon = 1e-12);
    }
}

struct Expected {
    loss: f64,
    h2: Array2<f64>,
    delta2: Array2<f64>,
    delta1: Array2<f64>,
    grad_w2: Array2<f64>,
    grad_b2: [f64; 2],
    grad_w1: Array2<f64>,
    grad_b1: [f64; 3],
    w1_after_sgd: Array2<f64>,
}

fn check_trace(t: &Trace<f64>, e: &Expected) {
    assert_abs_diff_eq!(t.loss, e.loss, epsilon = 1e-12);
    let [l1, l2] = &t.layers[..] else {
        panic!("two layers")
    };
    close(
        l1.a.view(),
        array![
            [-0.5000000000000001, 0.7, 0.14999999999999997],
            [-0.12, -0.52, 0.38999999999999996],
            [0.5, -0.30000000000000004, -0.25]
        ],
    );
    close(
        l1.h.view(),
        array![
            [-0.4621171572600098, 0.6043677771171634, 0.14888503362331793],
            [
                -0.11942729853438588,
                -0.477700012168498,
                0.37136022787650763
            ],
            [
                0.46211715726000974,
                -0.29131261245159096,
                -0.24491866240370913
            ]
        ],
    );
    close(
        l2.a.view(),
        array![
            [-0.3394726005925005, 0.47817261100924624],
            [0.368741806831124, -0.052635230655508874],
            [0.16872914816851578, -0.14085175443253828]
        ],
    );
    close(l2.input.view(), l1.h.clone());
    close(l2.h.view(), e.h2.clone());
    close(l2.delta.view(), e.delta2.clone());
    close(l1.delta.view(), e.delta1.clone());
    close(l2.grad_w.view(), e.grad_w2.clone());
    close(l1.grad_w.view(), e.grad_w1.clone());
    assert_abs_diff_eq!(
        l2.grad_b.as_slice().unwrap(),
        &e.grad_b2[..],
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        l1.grad_b.as_slice().unwrap(),
        &e.grad_b1[..],
        epsilon = 1e-12
    );
}

#[test]
fn sigmoid_bce_matches_numpy() {
    let e = Expected {
        loss: 1.5631775747234211,
        h2: array![
            [0.4159375943718805, 0.6173162707209026],
            [0.5911549196563846, 0.48684422949877726],
            [0.5420824953269361, 0.46484516255315345]
        ],
        delta2: array![
            [-0.5840624056281195, 0.6173162707209026],
            [0.5911549196563846, -0.5131557705012227],
            [-0.4579175046730639, 0.46484516255315345]
        ],
        delta1: array![
            [
                -0.3241494310532598,
                0.30713579784521144,
                -0.3361660360703068
            ],
            [0.4002176780661784, -0.3349039928239693, 0.3192262895999684],
            [-0.2526345524883379, 0.3384156650874709, -0.2569671320976795]
        ],
        grad_w2: array![
            [
                -0.004102104012559384,
                -0.16732868850895607,
                0.08157527250320869
            ],
            [
                -0.003058235890823784,
                0.16093510714592482,
                -0.07083524852810973
            ]
        ],
        grad_b2: [-0.15027499688159962, 0.1896685542576111],
        grad_w1: array![
            [-0.17475275669544965, -0.09186633539944271],
            [0.15819593141906538, 0.05846157758525372],
            [-0.1652597269567637, -0.10653235105431454]
        ],
        grad_b1: [
            -0.05885543515847308,
            0.10354915670290434,
            -0.09130229285600598,
        ],
        w1_after_sgd: array![
            [0.28737637834772484, -0.3540668323002787],
            [0.6209020342904673, 0.07076921120737314],
            [-0.41737013652161814, 0.3532661755271573]
        ],
    };
    let (w1, b1, w2, b2) = params();
    let l1 = Dense::<2, 3, _, f64>::from_weights(w1, b1, Tanh).unwrap();
    let l2 = Dense::<3, 2, _, f64>::from_weights(w2, b2, Sigmoid).unwrap();
    let mut net = Network::new(l1, l2, Bce, rng(0));
    let (x, y) = data();
    check_trace(&net.trace(x.view(), y.view()).unwrap(), &e);
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    close(net.hidden().weights(), e.w1_after_sgd);
}

#[test]
fn softmax_cross_entropy_matches_numpy() {
    let e = Expected {
        loss: 0.8864887038872822,
        h2: array![
            [0.3062637446102462, 0.6937362553897539],
            [0.6038127158396868, 0.39618728416031324],
            [0.5767829609160819, 0.42321703908391806]
        ],
        delta2: array![
            [-0.6937362553897538, 0.6937362553897539],
            [0.6038127158396869, -0.6038127158396869],
            [-0.42321703908391806, 0.42321703908391806]
        ],
        delta1: array![
            [-0.3819111137292805, 0.3522734930416469, -0.4070150250029744],
            [0.4166404254260145, -0.37281942671818763, 0.3123251153505733],
            [
                -0.23298665665806972,
                0.3098412442724149,
                -0.23869818060405135
            ]
        ],
        grad_w2: array![
            [
                0.017633283250004638,
                -0.1948082396633464,
                0.07486627771947747
            ],
            [
                -0.01763328325000466,
                0.19480823966334646,
                -0.07486627771947746
            ]
        ],
        grad_b2: [-0.17104685954466167, 0.1710468595446617],
        grad_w1: array![
            [-0.19674377548076258, -0.13528114772422897],
            [0.17956106880024691, 0.09428663793180754],
            [-0.18772586089275367, -0.16054477826557514]
        ],
        grad_b1: [
            -0.06608578165377858,
            0.09643177019862471,
            -0.11112936341881748,
        ],
        w1_after_sgd: array![
            [0.2983718877403813, -0.33235942613788555],
            [0.6102194655998765, 0.052856681034096235],
            [-0.40613706955362316, 0.38027238913278755]
        ],
    };
    let (w1, b1, w2, b2) = params();
    let l1 = Dense::<2, 3, _, f64>::from_weights(w1, b1, Tanh).unwrap();
    let l2 = Dense::<3, 2, _, f64>::from_weights(w2, b2, Softmax).unwrap();
    let mut net = Network::new(l1, l2, CrossEntropy, rng(0));
    let (x, y) = data();
    check_trace(&net.trace(x.view(), y.view()).unwrap(), &e);
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    net.fit(x.view(), y.view(), &cfg).unwrap();
    close(net.hidden().weights(), e.w1_after_sgd);
}

/// The same network in f32 agrees with the f64 reference to f32 precision.
#[test]
fn f32_agrees_with_reference() {
    let (w1, b1, w2, b2) = params();
    let f = |a: Array2<f64>| a.mapv(|v| v as f32);
    let l1 = Dense::<2, 3, _, f32>::from_weights(f(w1), b1.mapv(|v| v as f32), Tanh).unwrap();
    let l2 = Dense::<3, 2, _, f32>::from_weights(f(w2), b2.mapv(|v| v as f32), Sigmoid).unwrap();
    let mut net = Network::new(l1, l2, Bce, rng(0));
    let (x, y) = data();
    let t = net.trace(f(x).view(), f(y).view()).unwrap();
    assert!((t.loss - 1.563_177_6).abs() < 1e-6);
    assert!((t.layers[0].grad_w[[0, 0]] - (-0.174_752_76)).abs() < 1e-6);
}
