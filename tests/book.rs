//! The book's outputs and figures, pinned.
//!
//! Each chapter program in `examples/` has a `chapter()` function that returns
//! everything it prints; its insta snapshot is what the book shows under the
//! code (the book includes the snapshot file), so the book cannot show a number
//! the code did not print. Figures (SVG) are compared byte for byte with the
//! files in `book/src/figures/`; after a deliberate change, regenerate them with
//! `UPDATE_FIGURES=1 cargo test --test book` and review the diff.

use std::path::Path;

#[path = "../examples/ch01_introduction.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod ch01;

/// Compares a figure with its committed file (or writes it when `UPDATE_FIGURES=1`).
#[allow(dead_code)]
#[rustfmt::skip]
fn check_figure(name: &str, svg: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book/src/figures")
        .join(name);
    if std::env::var_os("UPDATE_FIGURES").is_some() {
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; generate it with UPDATE_FIGURES=1", path.display()));
    assert!(
        committed == svg,
        "{} is stale: the chapter program now draws something else. Regenerate with \
         UPDATE_FIGURES=1 cargo test --test book and review the difference.",
        path.display()
    );
}

#[test]
fn ch01_introduction() {
    insta::assert_snapshot!("ch01_introduction", ch01::chapter());
}

#[path = "../examples/ch02_perceptron.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod ch02;

#[test]
fn ch02_perceptron() {
    insta::assert_snapshot!("ch02_perceptron", ch02::chapter());
    for (name, svg) in ch02::figures() {
        check_figure(name, &svg);
    }
}

#[path = "../examples/ch03_xor.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod ch03;

#[test]
fn ch03_xor() {
    insta::assert_snapshot!("ch03_xor", ch03::chapter());
    for (name, svg) in ch03::figures() {
        check_figure(name, &svg);
    }
}

#[path = "../examples/ch04_activations.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod ch04;

#[test]
fn ch04_activations() {
    insta::assert_snapshot!("ch04_activations", ch04::chapter());
    for (name, svg) in ch04::figures() {
        check_figure(name, &svg);
    }
}
