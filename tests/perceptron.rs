//! Rosenblatt's rule, Novikoff's bound and the delta rule.

use mlp::perceptron::{Perceptron, delta_rule, novikoff_bound};
use ndarray::{Array1, array};

fn inputs() -> ndarray::Array2<f64> {
    array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
}

#[test]
fn learns_and_and_or_within_novikoff_bound() {
    // Labels in {-1, +1}; separators with the bias first.
    let cases = [
        ("AND", [-1.0, -1.0, -1.0, 1.0], array![-1.5, 1.0, 1.0]),
        ("OR", [-1.0, 1.0, 1.0, 1.0], array![-0.5, 1.0, 1.0]),
    ];
    for (name, y, w_star) in cases {
        let x = inputs();
        let bound = novikoff_bound(x.view(), &y, w_star.view()).unwrap();
        for eta in [0.1, 1.0, 7.0] {
            let mut p = Perceptron::new(2);
            let run = p.train(x.view(), &y, eta, 1000).unwrap();
            assert!(run.converged, "{name} did not converge");
            assert!(
                run.updates as f64 <= bound.bound,
                "{name}: {} updates > bound {}",
                run.updates,
                bound.bound
            );
            for (row, &t) in x.rows().into_iter().zip(&y) {
                assert_eq!(p.predict(row).unwrap(), t, "{name}");
            }
        }
    }
}

#[test]
fn novikoff_numbers_for_and() {
    // D = ||[1, 1, 1]|| = sqrt(3); gamma = min y w.x / ||w|| = 0.5 / sqrt(4.25).
    let b = novikoff_bound(
        inputs().view(),
        &[-1.0, -1.0, -1.0, 1.0],
        array![-1.5, 1.0, 1.0].view(),
    )
    .unwrap();
    assert!((b.radius - 3f64.sqrt()).abs() < 1e-12);
    assert!((b.margin - 0.5 / 4.25f64.sqrt()).abs() < 1e-12);
    assert!((b.bound - 51.0).abs() < 1e-9);
}

#[test]
fn never_learns_xor() {
    let y = [-1.0, 1.0, 1.0, -1.0];
    let mut p = Perceptron::new(2);
    let run = p.train(inputs().view(), &y, 1.0, 10_000).unwrap();
    assert!(!run.converged);
    assert_eq!(run.epochs, 10_000);
    assert!(
        run.errors_per_epoch.iter().all(|&e| e >= 1),
        "every epoch makes a mistake"
    );
    // No separator exists, so the bound cannot even be formed.
    assert!(novikoff_bound(inputs().view(), &y, array![0.0, 1.0, 1.0].view()).is_err());
}

#[test]
fn delta_rule_settles_on_least_squares() {
    // On XOR targets (not separable), LMS converges near the least-squares
    // fit, w = [0.5, 0, 0] for 0/1 targets, with mean half squared error 0.125.
    let mut w = Array1::zeros(3);
    let losses = delta_rule(&mut w, inputs().view(), &[0.0, 1.0, 1.0, 0.0], 0.01, 5000).unwrap();
    assert!((losses.last().unwrap() - 0.125).abs() < 0.005, "{losses:?}");
    assert!(
        (w[0] - 0.5).abs() < 0.1 && w[1].abs() < 0.1 && w[2].abs() < 0.1,
        "{w}"
    );
}

#[test]
fn bad_labels_are_errors() {
    let mut p = Perceptron::<f64>::new(2);
    assert!(
        p.train(inputs().view(), &[0.0, 1.0, 1.0, 1.0], 1.0, 10)
            .is_err()
    );
    assert!(p.train(inputs().view(), &[1.0, 1.0], 1.0, 10).is_err());
    assert!(
        Perceptron::<f64>::new(3)
            .train(inputs().view(), &[1.0; 4], 1.0, 10)
            .is_err()
    );
}
