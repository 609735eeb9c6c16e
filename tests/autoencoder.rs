//! Autoencoders: the activity penalties against an independent reference and
//! against finite differences, corruption layers, the code, and the checks
//! that refuse misuse at run time.

use approx::assert_abs_diff_eq;
use mlp::data::Dataset;
use mlp::prelude::*;
use mlp::{GradCheck, Trace};
use ndarray::{Array1, Array2, array, s};

/// The 3-2-3 network of `scripts/autoencoder_reference.py`.
fn reference_net(
    penalty: &str,
) -> Network<Dense<3, 2, Sigmoid, f64>, Dense<2, 3, Sigmoid, f64>, Mse, f64> {
    let w1 = array![[0.5, -0.3, 0.8], [-0.6, 0.4, 0.2]];
    let w2 = array![[0.7, -0.5], [-0.2, 0.9], [0.4, 0.3]];
    let code = Dense::from_weights(w1, array![0.1, -0.2], Sigmoid).unwrap();
    let code = match penalty {
        "l1" => code.activity_l1(0.3),
        "kl" => code.sparse_kl(0.2, 1.5),
        _ => code.contractive(0.4),
    };
    let out = Dense::from_weights(w2, array![0.05, -0.1, 0.0], Sigmoid).unwrap();
    Network::new(code, out, Mse, mlp::rng(0))
}

fn reference_x() -> Array2<f64> {
    array![
        [0.9, 0.1, 0.4],
        [0.2, 0.8, 0.6],
        [0.5, 0.5, 0.0],
        [0.0, 0.3, 1.0]
    ]
}

fn close(got: &Array2<f64>, want: Array2<f64>) {
    assert_eq!(got.dim(), want.dim());
    for (g, w) in got.iter().zip(&want) {
        assert_abs_diff_eq!(*g, *w, epsilon = 1e-12);
    }
}

fn close1(got: &Array1<f64>, want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_abs_diff_eq!(*g, *w, epsilon = 1e-12);
    }
}

/// The objective and every gradient printed by
/// `python3 scripts/autoencoder_reference.py` (numpy, backprop written out
/// from the chain rule and confirmed there by central differences to 1e-10).
#[test]
fn penalties_match_the_independent_reference() {
    let x = reference_x();
    // The output layer's gradients do not depend on the penalty.
    let grad_w2 = array![
        [0.026122118324307, 0.024885692306061],
        [0.021941354336733, 0.011042851478265],
        [0.011510429482022, 0.006799053569428]
    ];
    let grad_b2 = [0.041256430812392, 0.030250383047402, 0.023824007500456];
    let cases = [
        (
            "l1",
            0.501415831117259,
            array![
                [0.027338158170648, 0.035866894229129, 0.036980578816644],
                [0.035903648413059, 0.028108598814757, 0.033940315594938]
            ],
            [0.076152217766012, 0.075339133255572],
        ),
        (
            "kl",
            0.993733577519411,
            array![
                [0.256232350626907, 0.289115607549814, 0.316186874015378],
                [0.154907296500655, 0.160456288204321, 0.188573830197939]
            ],
            [0.652883810113035, 0.381770409599946],
        ),
        (
            "contractive",
            0.206178953820704,
            array![
                [0.016860488284988, -0.01045142740496, 0.030961200123935],
                [-0.018641256766185, 0.01574609677963, 0.006678460020961]
            ],
            [-0.002537257796039, 0.004485921964854],
        ),
    ];
    for (penalty, objective, grad_w1, grad_b1) in cases {
        let mut net = reference_net(penalty);
        let g = net.gradients(x.view(), x.view()).unwrap();
        assert_abs_diff_eq!(g.loss, objective, epsilon = 1e-12);
        close(&g.layers[0].0, grad_w1);
        close1(&g.layers[0].1, &grad_b1);
        close(&g.layers[1].0, grad_w2.clone());
        close1(&g.layers[1].1, &grad_b2);
        // `evaluate` is the reconstruction error alone: without the penalty.
        let data_only = net.evaluate(x.view(), x.view()).unwrap();
        assert!(
            data_only < objective,
            "{penalty}: {data_only} vs {objective}"
        );
    }
}

fn assert_fd(what: &str, report: GradCheck) {
    assert!(report.checked > 0);
    assert!(
        report.max_rel_error < 1e-6,
        "{what}: max relative error {:.3e} over {} parameters",
        report.max_rel_error,
        report.checked
    );
}

/// Every penalty, on a hidden layer that is not the first (so its gradient
/// also flows into the layer below) and behind noise and dropout layers
/// (off in a gradient check), agrees with central differences in f64.
#[test]
fn penalties_agree_with_finite_differences() {
    let x = Array2::from_shape_fn((7, 5), |(i, j)| {
        ((i * 5 + j) as f64 * 0.61).sin() * 0.5 + 0.5
    });
    let mut rng = mlp::rng(4);
    let first = || Dense::<5, 6, _, f64>::new(Tanh, Init::XavierNormal, &mut mlp::rng(9));
    let last = |rng: &mut mlp::Rng| Dense::<3, 5, _, f64>::new(Sigmoid, Init::XavierNormal, rng);
    let code = |rng: &mut mlp::Rng| Dense::<6, 3, _, f64>::new(Sigmoid, Init::XavierNormal, rng);
    let noise = || Noise::<5, f64>::gaussian(0.3).unwrap();

    let hidden = noise()
        .then(first())
        .then(code(&mut rng).sparse_kl(0.1, 2.0));
    let mut net = Network::new(hidden, last(&mut rng), Mse, rng.clone());
    assert_fd("kl", net.grad_check(x.view(), x.view(), 1e-4).unwrap());

    let hidden = noise().then(first()).then(code(&mut rng).contractive(0.7));
    let mut net = Network::new(hidden, last(&mut rng), Mse, rng.clone());
    assert_fd(
        "contractive",
        net.grad_check(x.view(), x.view(), 1e-4).unwrap(),
    );

    // L1 on a ReLU layer (|h| has a kink only where h = 0, which ReLU's
    // zero outputs sit on with a zero derivative anyway) and bce outputs.
    let relu = Dense::<6, 3, _, f64>::new(Relu, Init::HeNormal, &mut rng).activity_l1(0.05);
    let hidden = first()
        .then(Dropout::<6, f64>::new(0.4).unwrap())
        .then(relu);
    let mut net = Network::new(hidden, last(&mut rng), Bce, rng.clone());
    assert_fd("l1", net.grad_check(x.view(), x.view(), 1e-4).unwrap());

    // Two penalised layers at once.
    let hidden = first()
        .activity_l1(0.02)
        .then(code(&mut rng).sparse_kl(0.3, 0.5));
    let mut net = Network::new(hidden, last(&mut rng), Mse, rng);
    assert_fd("l1 + kl", net.grad_check(x.view(), x.view(), 1e-4).unwrap());
}

/// The penalty is part of what training minimises and reports: the loss of
/// the history's first epoch (measured before its only full-batch update)
/// is the reference objective, and the KL penalty pulls the mean
/// activations toward rho.
#[test]
fn training_minimises_the_penalised_objective() {
    let x = reference_x();
    let mut net = reference_net("kl");
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.1));
    let h = net.fit_autoencoder(x.view(), &cfg).unwrap();
    assert_abs_diff_eq!(h.epochs[0].train_loss, 0.993733577519411, epsilon = 1e-12);

    let mean_code = |net: &Network<_, _, _, f64>| {
        let t: Trace<f64> = net.clone().trace(x.view(), x.view()).unwrap();
        t.layers[0].h.mean_axis(ndarray::Axis(0)).unwrap()
    };
    let before = mean_code(&net);
    let cfg = cfg.epochs(2000).optimizer(Adam::new(0.01));
    net.fit_autoencoder(x.view(), &cfg).unwrap();
    let after = mean_code(&net);
    for (b, a) in before.iter().zip(&after) {
        assert!(
            (a - 0.2).abs() < (b - 0.2).abs() && (a - 0.2).abs() < 0.02,
            "{before} -> {after}"
        );
    }
}

/// Misuse that the type system cannot see is an `Err` before anything
/// changes: a penalty on the output layer, a sparsity target outside
/// `(0, 1)`, a negative weight.
#[test]
fn bad_penalties_are_refused_and_change_nothing() {
    let x = reference_x();
    let cfg = TrainConfig::new().epochs(3).batch(Batch::Full);
    let out = Dense::from_weights(Array2::from_elem((3, 2), 0.1), Array1::zeros(3), Sigmoid)
        .unwrap()
        .sparse_kl(0.1, 1.0);
    let code = Dense::<3, 2, _, f64>::new(Sigmoid, Init::XavierNormal, &mut mlp::rng(1));
    let mut net = Network::new(code, out, Mse, mlp::rng(1));
    let before = net.get_weights();
    let e = net.fit_autoencoder(x.view(), &cfg).unwrap_err();
    assert!(e.to_string().contains("output layer"), "{e}");
    assert_eq!(net.get_weights(), before);

    for (net, says) in [
        (reference_net("kl"), "rho must be in (0, 1)"),
        (reference_net("l1"), "must be finite and at least 0"),
    ] {
        let mut net = net;
        let (w, b) = {
            let l = net.get_weights();
            (l[0].0.clone(), l[0].1.clone())
        };
        let bad = Dense::from_weights(w, b, Sigmoid).unwrap();
        let bad = if says.contains("rho") {
            bad.sparse_kl(1.5, 1.0)
        } else {
            bad.activity_l1(-1.0)
        };
        let output = net.output_layer().clone();
        net = Network::new(bad, output, Mse, mlp::rng(0));
        let before = net.get_weights();
        let e = net.fit_autoencoder(x.view(), &cfg).unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
        assert_eq!(net.get_weights(), before);
    }
}

/// Corruption acts only while training, draws afresh every pass from the
/// network's seed, and masking blocks the gradient of what it zeroed.
#[test]
fn noise_corrupts_only_while_training() {
    let x = Array2::from_shape_fn((6, 4), |(i, j)| (i + j) as f64 / 10.0);
    let build = |seed| {
        let mut rng = mlp::rng(seed);
        let hidden = Noise::<4, f64>::mask(0.5)
            .unwrap()
            .then(Dense::<4, 3, _, f64>::new(
                Sigmoid,
                Init::XavierNormal,
                &mut rng,
            ));
        let out = Dense::<3, 4, _, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
        Network::new(hidden, out, Mse, rng)
    };
    let clean = {
        let net = build(2);
        let mut rng = mlp::rng(2);
        let code = Dense::<4, 3, _, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
        let out = Dense::<3, 4, _, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
        let plain = Network::new(code, out, Mse, rng);
        // At inference the noise layer is the identity.
        assert_eq!(
            net.predict_batch(x.view()).unwrap(),
            plain.predict_batch(x.view()).unwrap()
        );
        assert_eq!(
            net.predict(&[0.1, 0.2, 0.3, 0.4]),
            plain.predict(&[0.1, 0.2, 0.3, 0.4])
        );
        plain
    };
    // One step of training differs from the noise-free network's step, two
    // steps draw different masks, and the same seed trains the same bits.
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    let mut a = build(2);
    let mut plain = clean;
    a.fit_autoencoder(x.view(), &cfg).unwrap();
    plain.fit_autoencoder(x.view(), &cfg).unwrap();
    assert_ne!(a.get_weights(), plain.get_weights());
    let mut b = build(2);
    b.fit_autoencoder(x.view(), &cfg.clone().epochs(1)).unwrap();
    assert_eq!(a.get_weights(), b.get_weights());
    let w1 = a.get_weights();
    a.fit_autoencoder(x.view(), &cfg).unwrap();
    let w2 = a.get_weights();
    a.fit_autoencoder(x.view(), &cfg).unwrap();
    let step =
        |p: &[(Array2<f64>, Array1<f64>)], q: &[(Array2<f64>, Array1<f64>)]| &q[0].0 - &p[0].0;
    assert_ne!(step(&w1, &w2), step(&w2, &a.get_weights()));

    // A masked input contributes nothing to the first layer's weight
    // gradient: with every input masked but through one row, the columns
    // of zeroed inputs get no gradient in a one-sample step.
    for p in [0.0, 0.99] {
        let mut rng = mlp::rng(5);
        let hidden = Noise::<4, f64>::mask(p)
            .unwrap()
            .then(Dense::<4, 3, _, f64>::new(
                Sigmoid,
                Init::XavierNormal,
                &mut rng,
            ));
        let out = Dense::<3, 4, _, f64>::new(Sigmoid, Init::XavierNormal, &mut rng);
        let mut net = Network::new(hidden, out, Mse, rng);
        let before = net.get_weights();
        let one = x.slice(s![1..2, ..]);
        net.fit_autoencoder(one, &cfg.clone().epochs(1)).unwrap();
        let moved = &net.get_weights()[0].0 - &before[0].0;
        let zero_columns = (0..4)
            .filter(|&j| moved.column(j).iter().all(|&m| m == 0.0))
            .count();
        if p == 0.0 {
            assert_eq!(zero_columns, 0);
        } else {
            assert!(zero_columns >= 3, "{moved}");
        }
    }
}

/// Bad corruption parameters are errors, not panics.
#[test]
fn bad_noise_is_an_error() {
    for bad in [
        Noise::<3>::gaussian(-0.1),
        Noise::<3>::gaussian(f64::NAN),
        Noise::<3>::mask(1.0),
        Noise::<3>::mask(-0.2),
    ] {
        assert!(matches!(bad, Err(Error::InvalidConfig(_))));
    }
}

mlp::network! {
    /// The declared form of the chapter's sparse autoencoder.
    Sparse: input 3 => dense 4 relu => dense 2 sigmoid code kl(0.2, 1.5) => dense 3 sigmoid;
        loss mse; dtype f64; seed 1
}

/// The code of a declared network is the marked layer's output, one
/// sample or a batch at a time, and its penalty is the one declared.
#[test]
fn a_declared_code_is_the_marked_layer() {
    let net = Sparse::default();
    let x = reference_x();
    let t = net.clone().trace(x.view(), x.view()).unwrap();
    let batch = net.encode_batch(x.view()).unwrap();
    assert_eq!(batch, t.layers[1].h);
    for (i, row) in x.rows().into_iter().enumerate() {
        let code: [f64; Sparse::CODE] = net.encode(&[row[0], row[1], row[2]]);
        assert_eq!(code.as_slice(), batch.row(i).as_slice().unwrap());
    }
    let mut penalties = Vec::new();
    net.visit_layers(0, &mut |l| {
        if let mlp::LayerView::Dense(d) = l {
            penalties.push(d.penalty);
        }
    });
    assert_eq!(
        penalties,
        [
            None,
            Some(Penalty::Kl {
                rho: 0.2,
                beta: 1.5
            }),
            None
        ]
    );
    assert!(
        net.summary().contains("sigmoid kl(0.2, 1.5)"),
        "{}",
        net.summary()
    );
    assert!(matches!(
        net.encode_batch(Array2::zeros((2, 4)).view()),
        Err(Error::ShapeMismatch { .. })
    ));
}

mlp::network! {
    Denoiser: input 64 => noise mask(0.3) => dense 32 sigmoid => dense 64 sigmoid;
        loss mse; init xavier; seed 7
}
mlp::network! {
    Plain: input 64 => dense 32 sigmoid => dense 64 sigmoid; loss mse; init xavier; seed 7
}

/// Trained on clean digits, the denoising autoencoder (masking noise at
/// 0.3) reconstructs the clean digit from a corrupted one better than the
/// same autoencoder trained without noise.
#[test]
fn a_denoising_autoencoder_beats_the_plain_one_on_corrupted_input() {
    let digits = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    let x = digits.x.mapv(|v| v / 16.0);
    let (train, test) = (x.slice(s![..1500, ..]), x.slice(s![1500.., ..]));
    let cfg = TrainConfig::new()
        .epochs(60)
        .batch(Batch::Mini(32))
        .optimizer(Adam::new(0.003));
    let mut denoiser = Denoiser::default();
    denoiser.fit_autoencoder(train, &cfg).unwrap();
    let mut plain = Plain::default();
    plain.fit_autoencoder(train, &cfg).unwrap();
    // The same corruption for both: each pixel zeroed with probability 0.3.
    let mut rng = mlp::rng(99);
    let corrupted = test.mapv(|v| {
        if mlp::rand::RngExt::random::<f64>(&mut rng) < 0.3 {
            0.0
        } else {
            v
        }
    });
    let (d, p) = (
        denoiser.evaluate(corrupted.view(), test).unwrap(),
        plain.evaluate(corrupted.view(), test).unwrap(),
    );
    assert!(d < 0.8 * p, "denoising {d:.4} vs plain {p:.4}");
    // On clean input both reconstruct well.
    assert!(plain.evaluate(test, test).unwrap() < 0.5 * p);
}

/// A saved autoencoder keeps its noise layer in the architecture (PyTorch
/// sees an `Identity` at its place) and loads back bit for bit.
#[test]
fn an_autoencoder_with_noise_saves_and_loads() {
    let mut net = Denoiser::new(3);
    let x = Array2::from_shape_fn((10, 64), |(i, j)| ((i * 64 + j) % 17) as f32 / 17.0);
    net.fit_autoencoder(x.view(), &TrainConfig::new().epochs(2))
        .unwrap();
    let path = std::env::temp_dir().join(format!("mlp-ae-{}.safetensors", std::process::id()));
    net.save(&path).unwrap();
    let mut back = Denoiser::new(4);
    back.load(&path).unwrap();
    assert_eq!(back.get_weights(), net.get_weights());
    assert!(
        net.describe()
            .starts_with("input 64 => noise mask(0.3) => dense 32 sigmoid"),
        "{}",
        net.describe()
    );
    // The plain network differs by the noise layer, which is named.
    let mut other = Plain::new(0);
    let e = other.load(&path).unwrap_err().to_string();
    std::fs::remove_file(&path).ok();
    assert!(e.contains("noise"), "{e}");
}

#[path = "../examples/ch13_autoencoders.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod ch13;

/// A linear autoencoder spans the principal subspace (Baldi & Hornik
/// 1989): trained on the digits, its error meets PCA's optimum (half the
/// variance outside the top 8 directions, computed by Jacobi rotations)
/// and its decoder's columns span the top 8 principal directions.
#[test]
fn a_linear_autoencoder_spans_the_pca_subspace() {
    let digits = Dataset::<f32>::read_csv("data/digits.csv.gz").unwrap();
    let train = digits.x.mapv(|v| v / 16.0).slice(s![..1500, ..]).to_owned();
    let r = ch13::linear_vs_pca(&train);
    // The eigenvectors are eigenvectors: C v = lambda v.
    let centred = &train.mapv(f64::from) - &r.mean;
    let cov = centred.t().dot(&centred) / centred.nrows() as f64;
    for k in 0..8 {
        let v = r.top8.column(k);
        let residual = &cov.dot(&v) - &(&v * r.variances[k]);
        assert!(residual.iter().all(|e| e.abs() < 1e-10), "eigenvector {k}");
    }
    assert!(
        r.linear_error >= r.pca_error - 1e-9,
        "{} below the optimum {}",
        r.linear_error,
        r.pca_error
    );
    assert!(
        r.linear_error < r.pca_error * 1.0001,
        "{} vs {}",
        r.linear_error,
        r.pca_error
    );
    assert!(
        r.angles.iter().all(|&a| a < 0.5),
        "principal angles {:?} degrees",
        r.angles
    );
    // A different basis of the same subspace: no column is an eigenvector.
    let d0 = r.decoder.column(0);
    let best = (0..8)
        .map(|k| (d0.dot(&r.top8.column(k)) / d0.dot(&d0).sqrt()).abs())
        .fold(0.0, f64::max);
    assert!(best < 0.99, "{best}");
}
