//! What the chapter programs of *Backprop by the Book* share.
//!
//! - [`Page`]: what a chapter program prints, cut into anchored sections the
//!   book includes by name, and the numbers its prose quotes ("facts"), so
//!   no number in the text is typed by hand.
//! - [`plot`]: figures in one style (legible at the width the book shows
//!   them, with axis titles and legends).
//!
//! Not part of the `mlp` library; the book's code blocks use it through
//! hidden `extern crate mlp_book;` lines.
#![warn(missing_docs)]

mod page;
pub mod plot;

pub use page::Page;

/// Makes the repository's root the current directory, so the chapter
/// programs find `data/` by a relative path wherever they are started from
/// (`cargo run`, `cargo test`, or `mdbook test`, which runs them elsewhere).
///
/// # Panics
/// If the repository is no longer where this crate was compiled.
pub fn at_repository_root() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::set_current_dir(&root)
        .unwrap_or_else(|e| panic!("cannot enter the repository at {}: {e}", root.display()));
}
