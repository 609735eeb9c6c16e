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
