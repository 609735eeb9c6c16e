//! `mlp`: typed multilayer perceptrons, declared in one macro line.
pub use mlp_core as core_engine;
