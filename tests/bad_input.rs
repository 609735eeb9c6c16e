//! Every bad training input is an `Err` that names the problem, and the
//! network it was given to is left exactly as it was: every parameter bit
//! for bit, the optimiser's step count and epoch, and its random stream
//! (checked at the end by training it beside an untouched clone).

use mlp::prelude::*;
use ndarray::{Array2, s};

mlp::network! {
    Net: input 2 => dense 4 relu => dropout 0.2 => dense 1 sigmoid; loss bce; dtype f64; seed 3
}
mlp::network! {
    Ae: input 3 => noise gaussian(0.1) => dense 2 sigmoid kl(0.1, 1.0) => dense 3 sigmoid;
        loss mse; dtype f64; seed 3
}

fn data() -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((12, 2), |(i, j)| ((i * 2 + j) as f64 * 0.9).sin());
    let y = Array2::from_shape_fn((12, 1), |(i, _)| (i % 2) as f64);
    (x, y)
}

/// Everything a refused call must leave alone: every parameter's bits,
/// the optimiser's step count and its epoch.
trait StateOf {
    fn state(&self) -> (Vec<u64>, u64, usize);
}

impl<H, O, L> StateOf for Network<H, O, L, f64>
where
    H: mlp::Parameters<f64>,
    O: mlp::OutputLayer<f64> + mlp::Takes<f64, H::Out>,
    L: mlp::Loss<f64>,
{
    fn state(&self) -> (Vec<u64>, u64, usize) {
        let bits = self
            .get_weights()
            .iter()
            .flat_map(|(w, b)| {
                w.iter()
                    .chain(b.iter())
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            })
            .collect();
        (bits, self.optimizer_steps(), self.schedule_epoch())
    }
}

/// The configurations that must be refused, and a word each message must contain.
fn bad_configs() -> Vec<(TrainConfig, &'static str)> {
    let cfg = TrainConfig::new().epochs(2).batch(Batch::Mini(4));
    let mut v = vec![
        (cfg.clone().batch(Batch::Mini(0)), "mini-batch size"),
        (cfg.clone().validation_split(1.0), "validation_split"),
        (cfg.clone().validation_split(-0.1), "validation_split"),
        (cfg.clone().validation_split(f64::NAN), "validation_split"),
        (cfg.clone().validation_split(1.5), "validation_split"),
        (cfg.clone().validation_split(0.01), "validation_split"),
        (cfg.clone().l1(-1e-3), "penalties"),
        (cfg.clone().l2(f64::NAN), "penalties"),
        (cfg.clone().l2(f64::INFINITY), "penalties"),
        (
            cfg.clone().optimizer(Sgd::new(0.1).momentum(1.0)),
            "momentum",
        ),
        (
            cfg.clone().optimizer(Sgd::new(0.1).momentum(f64::NAN)),
            "momentum",
        ),
        (
            cfg.clone().optimizer(Sgd::new(0.1).momentum(-0.5)),
            "momentum",
        ),
        (
            cfg.clone().optimizer(Adam {
                beta1: 1.0,
                ..Adam::new(0.01)
            }),
            "beta1",
        ),
        (
            cfg.clone().optimizer(Adam {
                beta2: 1.0,
                ..Adam::new(0.01)
            }),
            "beta2",
        ),
        (
            cfg.clone().optimizer(Adam {
                beta1: -0.1,
                ..Adam::new(0.01)
            }),
            "beta1",
        ),
        (
            cfg.clone().optimizer(Adam {
                eps: 0.0,
                ..Adam::new(0.01)
            }),
            "eps",
        ),
        (
            cfg.clone().optimizer(Adam {
                eps: f64::NAN,
                ..Adam::new(0.01)
            }),
            "eps",
        ),
        (
            cfg.clone().optimizer(Adam {
                eps: f64::INFINITY,
                ..Adam::new(0.01)
            }),
            "eps",
        ),
    ];
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        v.push((cfg.clone().optimizer(Sgd::new(lr)), "learning rate"));
        v.push((cfg.clone().optimizer(Adam::new(lr)), "learning rate"));
    }
    for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        v.push((cfg.clone().clip(Clip::Value(c)), "clipping threshold"));
        v.push((cfg.clone().clip(Clip::Norm(c)), "clipping threshold"));
    }
    v
}

#[test]
fn every_bad_input_is_an_error_that_changes_nothing() {
    let (x, y) = data();
    let cfg = TrainConfig::new().epochs(2).batch(Batch::Mini(4));
    let mut net = Net::default();
    // Train a little first, so there is optimiser state to keep.
    net.fit(x.view(), y.view(), &cfg).unwrap();
    let untouched = net.clone();
    let before = net.state();

    let mut bad_data: Vec<(&str, Array2<f64>, Array2<f64>, &str)> = Vec::new();
    for (r, c, v) in [
        (3, 1, f64::NAN),
        (0, 0, f64::INFINITY),
        (11, 1, f64::NEG_INFINITY),
    ] {
        let mut bx = x.clone();
        bx[[r, c]] = v;
        bad_data.push(("x", bx, y.clone(), "inputs"));
        let mut by = y.clone();
        by[[r, 0]] = v;
        bad_data.push(("y", x.clone(), by, "targets"));
    }
    for label in [2.0, -1.0, 1.5] {
        let mut by = y.clone();
        by[[4, 0]] = label;
        bad_data.push(("label out of range", x.clone(), by, "target"));
    }
    bad_data.push((
        "empty",
        Array2::zeros((0, 2)),
        Array2::zeros((0, 1)),
        "empty",
    ));
    bad_data.push((
        "x too wide",
        Array2::zeros((12, 3)),
        y.clone(),
        "input columns",
    ));
    bad_data.push((
        "y too wide",
        x.clone(),
        Array2::zeros((12, 2)),
        "target columns",
    ));
    bad_data.push((
        "rows differ",
        x.clone(),
        y.slice(s![..11, ..]).to_owned(),
        "rows",
    ));

    for (what, bx, by, says) in &bad_data {
        let e = net.fit(bx.view(), by.view(), &cfg).unwrap_err().to_string();
        assert!(e.contains(says), "fit, {what}: {e}");
        assert_eq!(net.state(), before, "fit, {what}");
        // The same data as validation data, and through train_on_batch.
        if !bx.is_empty() && bx.ncols() == 2 && by.ncols() == 1 && bx.nrows() == by.nrows() {
            let e = net
                .fit_with(
                    x.view(),
                    y.view(),
                    &cfg,
                    Some((bx.view(), by.view())),
                    |_, _| Control::Continue,
                )
                .unwrap_err();
            assert!(e.to_string().contains(says), "validation, {what}: {e}");
            assert_eq!(net.state(), before, "validation, {what}");
        }
        assert!(
            net.train_on_batch(bx.view(), by.view(), &cfg).is_err(),
            "{what}"
        );
        assert_eq!(net.state(), before, "train_on_batch, {what}");
        assert!(
            net.evaluate(bx.view(), by.view()).is_err(),
            "evaluate, {what}"
        );
    }
    for (bad, says) in bad_configs() {
        let e = net.fit(x.view(), y.view(), &bad).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{bad:?}: {e}");
        assert!(e.to_string().contains(says), "{bad:?}: {e}");
        assert_eq!(net.state(), before, "{bad:?}");
        // A split that leaves no validation row is a matter of `fit` only:
        // `train_on_batch` takes no split.
        if bad.validation_split != 0.01 {
            assert!(
                net.train_on_batch(x.view(), y.view(), &bad).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(net.state(), before, "train_on_batch {bad:?}");
    }
    // Predicting is checked too, and never changes anything.
    assert!(net.predict_batch(Array2::zeros((2, 3)).view()).is_err());
    assert!(net.predict_batch(bad_data[0].1.view()).is_err());

    // Nothing moved: the refused network trains exactly as its untouched
    // clone does (weights, optimiser state and random stream alike).
    let mut twin = untouched;
    net.fit(x.view(), y.view(), &cfg).unwrap();
    twin.fit(x.view(), y.view(), &cfg).unwrap();
    assert_eq!(net.state(), twin.state());
}

/// The autoencoder path checks the same things, and its noise and penalty.
#[test]
fn a_refused_autoencoder_is_unchanged() {
    let x = Array2::from_shape_fn((8, 3), |(i, j)| ((i * 3 + j) as f64 * 0.3).sin().abs());
    let mut ae = Ae::default();
    let before = ae.state();
    let mut nan = x.clone();
    nan[[2, 2]] = f64::NAN;
    for bad in [nan, Array2::zeros((0, 3)), Array2::zeros((8, 2))] {
        assert!(ae.fit_autoencoder(bad.view(), &TrainConfig::new()).is_err());
        assert_eq!(ae.state(), before);
    }
    for (bad, _) in bad_configs() {
        assert!(ae.fit_autoencoder(x.view(), &bad).is_err(), "{bad:?}");
        assert_eq!(ae.state(), before);
    }
}
