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

    /// `e^x`, for the activations and losses. In `f64` this is the standard
    /// library's `exp`. In `f32` it is a branch-free evaluation the compiler
    /// can vectorise: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, Cephes' degree-6
    /// polynomial for `e^r` (Moshier, *Methods and Programs for Mathematical
    /// Functions*, 1989), then a scale by `2^n`; within 2 ulp of a correctly
    /// rounded `exp` wherever the result is a normal float (tested), `+inf`
    /// above `ln f32::MAX`, `0` below about -104, NaN for NaN.
    #[doc(hidden)]
    fn vexp(self) -> Self;
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
    #[inline(always)]
    fn vexp(self) -> Self {
        expf(self)
    }
}

/// `e^x` in `f32` without branches or calls (see [`Float::vexp`]).
#[inline(always)]
fn expf(x: f32) -> f32 {
    const HI: f32 = 88.722_83; // ln(f32::MAX)
    const LO: f32 = -103.972_08; // ln of the smallest subnormal
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let t = x.clamp(LO, HI);
    let n = (t * LOG2E + ROUND) - ROUND;
    let r = (t - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_2e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let y = p * r * r + r + 1.0;
    // 2^n in two factors, each a normal float for n in [-150, 128].
    let k = n as i32;
    let (k1, k2) = (k >> 1, k - (k >> 1));
    let pow2 = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    let v = y * pow2(k1) * pow2(k2);
    if x > HI {
        f32::INFINITY
    } else if x < LO {
        0.0
    } else {
        v
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
    #[inline(always)]
    fn vexp(self) -> Self {
        self.exp()
    }
}

/// Shorthand for a constant in the float type of the surrounding code.
#[inline(always)]
pub(crate) fn c<F: Float>(x: f64) -> F {
    F::from_f64(x)
}

#[cfg(test)]
mod tests {
    use super::expf;

    /// Distance in units in the last place between two finite floats of one sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    /// `expf` against the standard library's `exp` computed in `f64` and
    /// rounded: within 2 ulp across the whole normal range, on a grid of
    /// two million points.
    #[test]
    fn expf_is_within_two_ulp() {
        let (lo, hi) = (-87.33_f32, 88.72_f32);
        let steps = 2_000_000;
        let mut worst = 0;
        for i in 0..=steps {
            let x = lo + (hi - lo) * (i as f32 / steps as f32);
            let want = f64::from(x).exp() as f32;
            worst = worst.max(ulps(expf(x), want));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
    }

    /// The edges: overflow, underflow, subnormals, infinities and NaN.
    #[test]
    fn expf_edges() {
        assert_eq!(expf(0.0), 1.0);
        assert_eq!(expf(89.0), f32::INFINITY);
        assert_eq!(expf(f32::INFINITY), f32::INFINITY);
        assert_eq!(expf(-105.0), 0.0);
        assert_eq!(expf(f32::NEG_INFINITY), 0.0);
        assert!(expf(f32::NAN).is_nan());
        assert!(expf(88.72).is_finite());
        let sub = expf(-100.0);
        assert!(sub > 0.0 && sub < f32::MIN_POSITIVE);
        // A subnormal has few significant bits: within one step of the rounded value.
        assert!(ulps(sub, (-100.0f64).exp() as f32) <= 1);
    }
}
