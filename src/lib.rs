//! `mlp`: typed multilayer perceptrons, declared in one macro line, trained
//! with backprop exactly as the textbooks derive it.
//!
//! This crate is the front door: it re-exports the engine
//! ([`mlp_core`]) and, with it, everything needed to build, train, inspect
//! and save a network. Start with `use mlp::prelude::*;`.

#[doc(inline)]
pub use mlp_core::*;

/// Everything a training script needs, in one `use`.
pub mod prelude {
    #[doc(no_inline)]
    pub use mlp_core::prelude::*;
    #[doc(no_inline)]
    pub use mlp_macros::network;
}

#[doc(inline)]
pub use mlp_macros::network;
