//! Training modes, optimisers, regularisation, validation and bad input.

use mlp::prelude::*;
use mlp::{Error, rng};
use ndarray::{Array2, array};

type Net = Network<Dense<2, 4, Tanh, f64>, Dense<4, 1, Sigmoid, f64>, Bce, f64>;

fn net(seed: u64) -> Net {
    let mut r = rng(seed);
    let h = Dense::new(Tanh, Init::XavierNormal, &mut r);
    let o = Dense::new(Sigmoid, Init::XavierNormal, &mut r);
    Network::new(h, o, Bce, r)
}

/// Two interleaved half-moons-ish clusters: 40 samples.
fn data() -> (Array2<f64>, Array2<f64>) {
    let n = 40;
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        let t = i as f64 * 0.37;
        if j == 0 {
            t.cos() + (i % 2) as f64 * 0.8
        } else {
            t.sin() - (i % 2) as f64 * 0.4
        }
    });
    let y = Array2::from_shape_fn((n, 1), |(i, _)| (i % 2) as f64);
    (x, y)
}

fn weights(n: &Net) -> Vec<f64> {
    let mut w = n.hidden().weights().iter().copied().collect::<Vec<_>>();
    w.extend(n.output_layer().weights().iter());
    w.extend(n.output_layer().bias().iter());
    w
}

#[test]
fn mini_batch_of_n_equals_full_batch() {
    let (x, y) = data();
    let (mut a, mut b) = (net(1), net(1));
    let cfg = TrainConfig::new().epochs(20).optimizer(Sgd::new(0.3));
    a.fit(x.view(), y.view(), &cfg.clone().batch(Batch::Full))
        .unwrap();
    b.fit(x.view(), y.view(), &cfg.batch(Batch::Mini(40)))
        .unwrap();
    assert_eq!(weights(&a), weights(&b));
}

#[test]
fn stochastic_mode_makes_n_updates_per_epoch() {
    let (x, y) = data();
    let mut n = net(2);
    let h = n
        .fit(
            x.view(),
            y.view(),
            &TrainConfig::new().epochs(3).batch(Batch::Stochastic),
        )
        .unwrap();
    assert!(h.epochs.iter().all(|e| e.updates == 40));
    let h = n
        .fit(
            x.view(),
            y.view(),
            &TrainConfig::new().epochs(2).batch(Batch::Mini(16)),
        )
        .unwrap();
    assert!(h.epochs.iter().all(|e| e.updates == 3), "16 + 16 + 8");
    let h = n
        .fit(
            x.view(),
            y.view(),
            &TrainConfig::new().epochs(2).batch(Batch::Full),
        )
        .unwrap();
    assert!(h.epochs.iter().all(|e| e.updates == 1));
}

#[test]
fn same_seed_same_result_and_shuffling_matters() {
    let (x, y) = data();
    let cfg = TrainConfig::new()
        .epochs(5)
        .batch(Batch::Mini(8))
        .optimizer(Sgd::new(0.1));
    let (mut a, mut b, mut c) = (net(4), net(4), net(4));
    a.fit(x.view(), y.view(), &cfg).unwrap();
    b.fit(x.view(), y.view(), &cfg).unwrap();
    c.fit(x.view(), y.view(), &cfg.clone().shuffle(false))
        .unwrap();
    assert_eq!(weights(&a), weights(&b));
    assert_ne!(weights(&a), weights(&c));
}

#[test]
fn every_optimiser_lowers_the_loss() {
    let (x, y) = data();
    for opt in [
        Optimizer::from(Sgd::new(0.5)),
        Sgd::new(0.1).momentum(0.9).into(),
        Sgd::new(0.1).momentum(0.9).nesterov().into(),
        Adam::new(0.05).into(),
    ] {
        let mut n = net(5);
        let before = n.evaluate(x.view(), y.view()).unwrap();
        let h = n
            .fit(
                x.view(),
                y.view(),
                &TrainConfig::new()
                    .epochs(100)
                    .batch(Batch::Mini(10))
                    .optimizer(opt),
            )
            .unwrap();
        let after = n.evaluate(x.view(), y.view()).unwrap();
        assert!(after < 0.5 * before, "{opt:?}: {before} -> {after}");
        assert!(h.last().unwrap().train_loss < h.epochs[0].train_loss);
    }
}

#[test]
fn schedules_change_the_learning_rate_per_epoch() {
    let (x, y) = data();
    let cfg = TrainConfig::new()
        .epochs(4)
        .optimizer(Sgd::new(0.8))
        .schedule(Schedule::Step {
            every: 2,
            gamma: 0.5,
        });
    let h = net(6).fit(x.view(), y.view(), &cfg).unwrap();
    let lrs: Vec<f64> = h.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(lrs, [0.8, 0.8, 0.4, 0.4]);
}

#[test]
fn l2_penalty_shrinks_weights() {
    let (x, y) = data();
    let cfg = TrainConfig::new()
        .epochs(200)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5));
    let (mut plain, mut decayed) = (net(7), net(7));
    plain.fit(x.view(), y.view(), &cfg).unwrap();
    decayed
        .fit(x.view(), y.view(), &cfg.clone().l2(0.05))
        .unwrap();
    let norm = |n: &Net| weights(n).iter().map(|w| w * w).sum::<f64>();
    assert!(
        norm(&decayed) < 0.7 * norm(&plain),
        "{} vs {}",
        norm(&decayed),
        norm(&plain)
    );
    // L1 drives some weights toward zero as well.
    let mut sparse = net(7);
    sparse.fit(x.view(), y.view(), &cfg.l1(0.02)).unwrap();
    assert!(
        weights(&sparse).iter().map(|w| w.abs()).sum::<f64>()
            < weights(&plain).iter().map(|w| w.abs()).sum::<f64>()
    );
}

#[test]
fn clipping_bounds_the_step() {
    // One full-batch SGD step with lr 1: every weight moves by at most the clip value.
    let (x, y) = data();
    let (mut a, before) = (net(8), weights(&net(8)));
    a.fit(
        x.view(),
        y.view(),
        &TrainConfig::new()
            .epochs(1)
            .batch(Batch::Full)
            .optimizer(Sgd::new(1.0))
            .clip(Clip::Value(1e-3)),
    )
    .unwrap();
    let moved = weights(&a)
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(moved <= 1e-3 + 1e-15 && moved > 0.0, "{moved}");
    // By global norm: the whole step has norm at most the threshold.
    let mut b = net(8);
    b.fit(
        x.view(),
        y.view(),
        &TrainConfig::new()
            .epochs(1)
            .batch(Batch::Full)
            .optimizer(Sgd::new(1.0))
            .clip(Clip::Norm(0.01)),
    )
    .unwrap();
    let step: f64 = weights(&b)
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    // (biases of the hidden layer are not in `weights`, so this is a lower bound of the full norm)
    assert!(step <= 0.01 + 1e-12 && step > 0.001, "{step}");
}

#[test]
fn validation_split_and_early_stopping() {
    let (x, y) = data();
    let cfg = TrainConfig::new()
        .epochs(500)
        .batch(Batch::Full)
        .optimizer(Sgd::new(0.5))
        .validation_split(0.25)
        .early_stopping(EarlyStopping {
            patience: 5,
            min_delta: 1e-3,
            restore_best: true,
        });
    let mut n = net(9);
    let h = n.fit(x.view(), y.view(), &cfg).unwrap();
    assert!(h.epochs.iter().all(|e| e.val_loss.is_some()));
    assert!(h.stopped_early, "stopped after {} epochs", h.epochs.len());
    let best = h.best_epoch.unwrap();
    assert_eq!(h.epochs.len(), best + 5, "patience 5 after the best epoch");
    // The restored weights give the best validation loss again.
    let val = n
        .evaluate(
            x.slice(ndarray::s![30.., ..]),
            y.slice(ndarray::s![30.., ..]),
        )
        .unwrap();
    assert!((val - h.epochs[best - 1].val_loss.unwrap()).abs() < 1e-12);
}

#[test]
fn callback_can_stop_and_sees_every_epoch() {
    let (x, y) = data();
    let mut seen = Vec::new();
    let h = net(10)
        .fit_with(
            x.view(),
            y.view(),
            &TrainConfig::new().epochs(50),
            None,
            |e, _| {
                seen.push(e.epoch);
                if e.epoch == 3 {
                    Control::Stop
                } else {
                    Control::Continue
                }
            },
        )
        .unwrap();
    assert_eq!(seen, [1, 2, 3]);
    assert!(h.stopped_early);
}

#[test]
fn stats_are_recorded_on_request() {
    let (x, y) = data();
    let h = net(11)
        .fit(
            x.view(),
            y.view(),
            &TrainConfig::new().epochs(2).record_stats(true),
        )
        .unwrap();
    let s = &h.epochs[1].layers;
    assert_eq!(s.len(), 2);
    assert!(
        s.iter()
            .all(|l| l.grad_norm > 0.0 && l.std > 0.0 && (0.0..=1.0).contains(&l.saturated))
    );
    let h = net(11)
        .fit(x.view(), y.view(), &TrainConfig::new().epochs(1))
        .unwrap();
    assert!(h.epochs[0].layers.is_empty());
}

#[test]
fn dropout_only_acts_while_training() {
    let (x, y) = data();
    let mut r = rng(12);
    let l1 = Dense::<2, 16, _, f64>::new(Relu, Init::HeNormal, &mut r);
    let out = Dense::<16, 1, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
    let mut n = Network::new(l1.then(Dropout::<16, f64>::new(0.5).unwrap()), out, Bce, r);
    // Inference is deterministic and equals the batch forward pass.
    let a = n.predict_batch(x.view()).unwrap();
    assert_eq!(a, n.predict_batch(x.view()).unwrap());
    let h = n
        .fit(
            x.view(),
            y.view(),
            &TrainConfig::new()
                .epochs(200)
                .batch(Batch::Full)
                .optimizer(Sgd::new(0.5)),
        )
        .unwrap();
    assert!(h.last().unwrap().train_loss < h.epochs[0].train_loss);
    assert!(Dropout::<4, f32>::new(1.0).is_err());
}

#[test]
fn bad_input_is_an_error_and_changes_nothing() {
    let (x, y) = data();
    let mut n = net(13);
    let before = weights(&n);
    let cfg = TrainConfig::new();
    let three = Array2::<f64>::zeros((40, 3));
    assert!(matches!(
        n.fit(three.view(), y.view(), &cfg),
        Err(Error::ShapeMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    assert!(matches!(
        n.fit(x.view(), Array2::zeros((40, 2)).view(), &cfg),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        n.fit(x.view(), y.slice(ndarray::s![..39, ..]), &cfg),
        Err(Error::RowMismatch { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(
        n.fit(empty.view(), Array2::zeros((0, 1)).view(), &cfg),
        Err(Error::EmptyData { .. })
    ));
    let mut nan = x.clone();
    nan[[7, 1]] = f64::NAN;
    assert!(matches!(
        n.fit(nan.view(), y.view(), &cfg),
        Err(Error::NonFiniteValue { row: 7, col: 1, .. })
    ));
    let mut inf = y.clone();
    inf[[3, 0]] = f64::INFINITY;
    assert!(matches!(
        n.fit(x.view(), inf.view(), &cfg),
        Err(Error::NonFiniteValue { .. })
    ));
    let mut two = y.clone();
    two[[5, 0]] = 2.0;
    assert!(matches!(
        n.fit(x.view(), two.view(), &cfg),
        Err(Error::InvalidTarget { row: 5, .. })
    ));
    for bad in [
        cfg.clone().batch(Batch::Mini(0)),
        cfg.clone().optimizer(Sgd::new(-1.0)),
        cfg.clone().optimizer(Sgd::new(f64::NAN)),
        cfg.clone().validation_split(1.0),
        cfg.clone().validation_split(0.01),
        cfg.clone().clip(Clip::Norm(0.0)),
        cfg.clone().l2(-1.0),
    ] {
        assert!(
            matches!(
                n.fit(x.view(), y.view(), &bad),
                Err(Error::InvalidConfig(_))
            ),
            "{bad:?}"
        );
    }
    assert!(n.predict_batch(three.view()).is_err());
    assert!(n.predict_batch(nan.view()).is_err());
    assert_eq!(weights(&n), before, "no error may touch the weights");
    // Messages say what to do.
    let msg = n.fit(three.view(), y.view(), &cfg).unwrap_err().to_string();
    assert!(msg.contains("expects 2, got 3"), "{msg}");
}

#[test]
fn divergence_stops_with_the_last_finite_weights() {
    // Identity output + MSE with a huge learning rate blows up within a few steps.
    let x = array![[1e3, -2e3], [3e3, 1e3], [-2e3, 5e2]];
    let y = array![[1.0], [-1.0], [0.5]];
    let mut r = rng(14);
    let h = Dense::<2, 3, _, f64>::new(Identity, Init::XavierNormal, &mut r);
    let o = Dense::<3, 1, _, f64>::new(Identity, Init::XavierNormal, &mut r);
    let mut n = Network::new(h, o, Mse, r);
    let mut last_good = Vec::new();
    let cfg = TrainConfig::new()
        .epochs(1000)
        .batch(Batch::Full)
        .optimizer(Sgd::new(10.0));
    let err = n
        .fit_with(x.view(), y.view(), &cfg, None, |_, _| Control::Continue)
        .map(|_| ())
        .unwrap_err();
    let Error::NonFiniteLoss {
        epoch,
        step,
        history,
    } = err
    else {
        panic!("{err}")
    };
    assert!(epoch > 1 && step == 1, "epoch {epoch}");
    // The error keeps the history of the epochs that finished.
    assert_eq!(history.epochs.len(), epoch - 1);
    assert!(history.epochs.iter().all(|e| e.train_loss.is_finite()));
    let all: Vec<f64> = n
        .hidden()
        .weights()
        .iter()
        .chain(n.output_layer().weights().iter())
        .copied()
        .collect();
    assert!(
        all.iter().all(|w| w.is_finite()),
        "weights stay finite: {all:?}"
    );
    // Those are the weights after epoch - 1 steps: replaying that many steps gives them again.
    let mut replay = {
        let mut r = rng(14);
        let h = Dense::<2, 3, _, f64>::new(Identity, Init::XavierNormal, &mut r);
        let o = Dense::<3, 1, _, f64>::new(Identity, Init::XavierNormal, &mut r);
        Network::new(h, o, Mse, r)
    };
    replay
        .fit(x.view(), y.view(), &cfg.clone().epochs(epoch - 1))
        .unwrap();
    last_good.extend(
        replay
            .hidden()
            .weights()
            .iter()
            .chain(replay.output_layer().weights().iter())
            .copied(),
    );
    assert_eq!(all, last_good);
}

#[test]
fn one_hot_and_labels() {
    let y = mlp::data::one_hot::<f32>(&[2, 0, 1], 3).unwrap();
    assert_eq!(y, array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
    assert!(matches!(
        mlp::data::one_hot::<f32>(&[0, 3], 3),
        Err(Error::LabelOutOfRange {
            index: 1,
            label: 3,
            classes: 3
        })
    ));
    assert_eq!(mlp::data::classes(y.view()), vec![2, 0, 1]);
}

#[test]
fn summary_lists_layers_and_parameters() {
    let mut r = rng(0);
    let l1 = Dense::<2, 4, _>::new(Relu, Init::HeNormal, &mut r);
    let l2 = Dense::<4, 1, _>::new(Sigmoid, Init::XavierUniform, &mut r);
    let n = Network::new(l1, l2, Bce, r);
    let s = n.summary();
    assert!(
        s.contains("dense 2->4") && s.contains("relu") && s.contains("Total params: 17"),
        "{s}"
    );
}

/// With two threads a large data set is checked by both, half each: a bad
/// value in either half is still found and named, and the network is left
/// untouched.
#[test]
fn two_threads_find_a_bad_value_in_either_half() {
    let x = Array2::from_shape_fn((1100, 1000), |(i, j)| ((i + j) % 7) as f32 * 0.1);
    let y = Array2::from_shape_fn((1100, 1), |(i, _)| (i % 2) as f32);
    let cfg = TrainConfig::new().epochs(1);
    mlp::set_num_threads(2);
    for (row, col) in [(3, 5), (1099, 998)] {
        let mut net =
            mlp::network! { input 1000 => dense 2 relu => dense 1 sigmoid; loss bce; seed 1 };
        let before = net.output_layer().weights().to_owned();
        let mut bad = x.clone();
        bad[[row, col]] = f32::NAN;
        let got = net.fit(bad.view(), y.view(), &cfg);
        assert!(
            matches!(got, Err(Error::NonFiniteValue { row: r, col: c, .. }) if (r, c) == (row, col)),
            "{got:?}"
        );
        assert_eq!(net.output_layer().weights(), before);
    }
    mlp::set_num_threads(1);
}

/// With two threads, large products are shared with the pool's worker, and
/// large batches are gathered and large parameter blocks updated in halves;
/// every element is still computed in the same order, so training gives the
/// same bits. (The batch, 96 x 400 values, and the first layer, 51k
/// parameters, are large enough for every split.)
#[test]
fn two_threads_train_to_identical_weights() {
    let x = Array2::from_shape_fn((192, 400), |(i, j)| ((i * 400 + j) as f32 * 0.013).sin());
    let labels: Vec<usize> = (0..192).map(|i| i % 10).collect();
    let y = mlp::data::one_hot::<f32>(&labels, 10).unwrap();
    let train = || {
        let mut net = mlp::network! {
            input 400 => dense 128 relu => dense 64 tanh => dense 10 softmax;
            loss cross_entropy; init he; seed 3
        };
        let cfg = TrainConfig::new()
            .epochs(3)
            .batch(Batch::Mini(96))
            .optimizer(Adam::new(0.01));
        net.fit(x.view(), y.view(), &cfg).unwrap();
        let w: Vec<f32> = net.output_layer().weights().iter().copied().collect();
        (w, net.hidden().head.weights().to_owned())
    };
    let one = train();
    mlp::set_num_threads(2);
    let two = train();
    mlp::set_num_threads(1);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
}

/// Training continued with a second `fit` is the same training: the
/// schedule goes on from the epoch it reached and the history numbers the
/// epochs on. An explicit `reset_optimizer` starts both afresh.
#[test]
fn continued_training_keeps_its_schedule_and_epoch_count() {
    let (x, y) = data();
    let cfg = TrainConfig::new()
        .batch(Batch::Mini(8))
        .optimizer(Sgd::new(0.4).momentum(0.5))
        .schedule(Schedule::Step {
            every: 2,
            gamma: 0.5,
        });
    let mut once = net(21);
    let all = once
        .fit(x.view(), y.view(), &cfg.clone().epochs(6))
        .unwrap();
    let mut twice = net(21);
    let first = twice
        .fit(x.view(), y.view(), &cfg.clone().epochs(3))
        .unwrap();
    let second = twice
        .fit(x.view(), y.view(), &cfg.clone().epochs(3))
        .unwrap();
    assert_eq!(weights(&once), weights(&twice));
    let numbers = |h: &History| h.epochs.iter().map(|e| (e.epoch, e.lr)).collect::<Vec<_>>();
    assert_eq!(numbers(&first), [(1, 0.4), (2, 0.4), (3, 0.2)]);
    assert_eq!(numbers(&second), [(4, 0.2), (5, 0.1), (6, 0.1)]);
    assert_eq!(numbers(&all)[3..], numbers(&second)[..]);
    assert_eq!(twice.schedule_epoch(), 6);

    twice.reset_optimizer();
    let restarted = twice
        .fit(x.view(), y.view(), &cfg.clone().epochs(1))
        .unwrap();
    assert_eq!(numbers(&restarted), [(1, 0.4)]);
}

/// `main` returning `Result<(), mlp::Error>` prints the error with `{:?}`:
/// that must be the message, not a struct dump.
#[test]
fn debug_prints_the_message() {
    let (x, _) = data();
    let err = net(1)
        .fit(x.view(), Array2::zeros((40, 3)).view(), &TrainConfig::new())
        .unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string());
    assert!(
        format!("{err:#?}").starts_with("ShapeMismatch {"),
        "{err:#?}"
    );
}
