//! The floating-point types the engine runs on.

use ndarray::NdFloat;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A float the engine computes in: `f32` (the default) or `f64`.
///
/// The trait is sealed: every kernel, activation and loss is written once,
/// generically, and checked in both precisions. Use `f64` for gradient
/// checks and for the derivation chapters of the book, `f32` for speed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a float type the engine computes in",
    note = "networks compute in `f32` (the default) or `f64`"
)]
pub trait Float:
    NdFloat
    + num_traits::Float
    + Default
    + sealed::Sealed
    + crate::gemm::Kernel
    + std::iter::Sum
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`, as PyTorch and safetensors spell the dtype.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(x: f64) -> Self;

    /// Widens (or copies) to `f64`.
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

/// Shorthand for a constant in the float type of the surrounding code.
#[inline(always)]
pub(crate) fn c<F: Float>(x: f64) -> F {
    F::from_f64(x)
}
