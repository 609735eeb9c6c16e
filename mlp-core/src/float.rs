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

    /// Appends the value's little-endian bytes (as safetensors stores it).
    #[doc(hidden)]
    fn push_le_bytes(self, out: &mut Vec<u8>);

    /// A value from its little-endian bytes (`bytes` has the type's size).
    #[doc(hidden)]
    fn from_le_bytes(bytes: &[u8]) -> Self;

    /// `e^x`, for the activations and losses. In `f64` this is the standard
    /// library's `exp`. In `f32` it is a branch-free evaluation the compiler
    /// can vectorise: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, Cephes' degree-6
    /// polynomial for `e^r` (Moshier, *Methods and Programs for Mathematical
    /// Functions*, 1989), then a scale by `2^n`; within 2 ulp of a correctly
    /// rounded `exp` wherever the result is a normal float (tested), `+inf`
    /// above `ln f32::MAX`, `0` below about -104, NaN for NaN.
    #[doc(hidden)]
    fn vexp(self) -> Self;

    /// `ln(1 + x)`, for the softplus and the binary cross-entropy. In `f64`
    /// this is the standard library's `ln_1p`. In `f32` it is branch-free so
    /// the compiler can vectorise it: `u = 1 + x = 2^e m` with
    /// `m` in `[sqrt(1/2), sqrt(2))`, Cephes' degree-9 polynomial for `ln m`
    /// (Moshier 1989), then Goldberg's correction `ln(u) x / (u - 1)`, which
    /// restores the bits `1 + x` rounded away (Goldberg, *What every computer
    /// scientist should know about floating-point arithmetic*, 1991, Thm. 4).
    /// Within 2 ulp of a correctly rounded `ln_1p` for every `x > -1` whose
    /// result is normal (tested); `+inf` at `+inf`, `-inf` at -1, NaN below -1
    /// and for NaN.
    #[doc(hidden)]
    fn vln1p(self) -> Self;

    /// `tanh x`, for the tanh and mish activations. In `f64` this is the
    /// standard library's `tanh`. In `f32` it is branch-free so the compiler
    /// can vectorise it: for `|x| < 0.625` the odd polynomial
    /// `x + x^3 P(x^2)`, `P` of degree 5 fitted for least relative error (its
    /// coefficients are within 2e-4 of the Taylor series'
    /// `-1/3, 2/15, -17/315, ...`); above, `1 - 2 / (e^(2|x|) + 1)` with
    /// [`vexp`](Self::vexp), where the subtracted term is below 0.45 and
    /// cancels no significant bits; the sign of `x` last. Within 1 ulp of a
    /// correctly rounded `tanh` for every `f32` (checked once over all of
    /// them: 99.87% are correctly rounded; the tests check a grid); `+-1` at
    /// `+-inf`, NaN for NaN.
    #[doc(hidden)]
    fn vtanh(self) -> Self;
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
    fn push_le_bytes(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn from_le_bytes(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }
    #[inline(always)]
    fn vexp(self) -> Self {
        expf(self)
    }
    #[inline(always)]
    fn vln1p(self) -> Self {
        log1pf(self)
    }
    #[inline(always)]
    fn vtanh(self) -> Self {
        tanhf(self)
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
    let shifted = t * LOG2E + ROUND;
    let n = shifted - ROUND;
    // The same integer read off the bits (the float-to-int `as` saturates,
    // which does not vectorise): `shifted` lies in [2^23, 2^24), where one
    // unit in the last place is 1.
    let k = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let r = (t - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_2e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let y = p * r * r + r + 1.0;
    // 2^n in two factors, each a normal float for n in [-150, 128].
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

/// `ln(1 + x)` in `f32` without branches or calls (see [`Float::vln1p`]).
#[inline(always)]
fn log1pf(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    // ln 2 split as in `expf`, so that e * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let u = 1.0 + x;
    // u = 2^e m with m in [1/2, 1), read off the bits (u is a normal float
    // for every x > -1 that matters: the selects below catch the rest).
    let bits = u.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    // Move m to [sqrt(1/2), sqrt(2)) and take r = m - 1.
    let small = m < SQRT_HALF;
    e -= small as i32;
    let r = if small { m + m - 1.0 } else { m - 1.0 };
    let z = r * r;
    let mut p = 7.037_683_6e-2_f32;
    p = p * r - 1.151_461e-1;
    p = p * r + 1.167_699_9e-1;
    p = p * r - 1.242_014_1e-1;
    p = p * r + 1.424_932_3e-1;
    p = p * r - 1.666_805_8e-1;
    p = p * r + 2.000_071_4e-1;
    p = p * r - 2.499_999_4e-1;
    p = p * r + 3.333_333e-1; // Cephes: 3.3333331174e-1, the same f32
    let ef = e as f32;
    let ln_u = ((p * r * z + ef * LN2_LO) - 0.5 * z + r) + ef * LN2_HI;
    // ln(1 + x) = ln(u) x / (u - 1): exact where 1 + x rounded to 1.
    let d = u - 1.0;
    let v = if d == 0.0 { x } else { ln_u * (x / d) };
    if x == f32::INFINITY {
        x
    } else if x == -1.0 {
        f32::NEG_INFINITY
    } else if x < -1.0 || x.is_nan() {
        f32::NAN
    } else {
        v
    }
}

/// `tanh x` in `f32` without branches or calls (see [`Float::vtanh`]).
#[inline(always)]
fn tanhf(x: f32) -> f32 {
    // Below this |x| the polynomial; from it on, 2 / (e^2|x| + 1) < 0.45, so
    // subtracting it from 1 leaves the result's leading bits intact.
    const SMALL: f32 = 0.625;
    let a = x.abs();
    let z = a * a;
    // tanh(a) / a - 1 = z P(z), fitted on [0, 0.625^2] (relative error below
    // 3e-9 before rounding).
    let mut p = 2.138_226_3e-3_f32;
    p = p * z - 8.171_788e-3;
    p = p * z + 2.169_821e-2;
    p = p * z - 5.394_625_3e-2;
    p = p * z + 1.333_320_1e-1;
    p = p * z - 3.333_333e-1;
    let near = a + a * z * p;
    // e^2a overflows to +inf above about 44, giving exactly 1; NaN stays NaN.
    let far = 1.0 - 2.0 / (expf(a + a) + 1.0);
    (if a < SMALL { near } else { far }).copysign(x)
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
    fn push_le_bytes(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn from_le_bytes(bytes: &[u8]) -> Self {
        f64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
    #[inline(always)]
    fn vexp(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn vln1p(self) -> Self {
        self.ln_1p()
    }
    #[inline(always)]
    fn vtanh(self) -> Self {
        self.tanh()
    }
}

/// `Ok` if a hyper-parameter is finite, else an error naming it.
pub(crate) fn finite_param(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(format!("{name} must be finite, got {value}"))
    }
}

/// Shorthand for a constant in the float type of the surrounding code.
#[inline(always)]
pub(crate) fn c<F: Float>(x: f64) -> F {
    F::from_f64(x)
}

#[cfg(test)]
mod tests {
    use super::{expf, log1pf, tanhf};

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

    /// `log1pf` against the standard library's `ln_1p` computed in `f64` and
    /// rounded: within 2 ulp on a grid across (-1, 1] (where Goldberg's
    /// correction matters), on a geometric grid of tiny and large arguments
    /// of both signs, and at every float in [0, 1e-6] spaced 2^10 apart.
    #[test]
    fn log1pf_is_within_two_ulp() {
        let check = |x: f32, worst: &mut u32| {
            let want = f64::from(x).ln_1p() as f32;
            let got = log1pf(x);
            assert_eq!(got.is_sign_negative(), want.is_sign_negative(), "x = {x:e}");
            *worst = (*worst).max(ulps(got.abs(), want.abs()));
        };
        let mut worst = 0;
        let steps = 2_000_000;
        for i in 1..=steps {
            check(-1.0 + 2.0 * (i as f32 / steps as f32), &mut worst);
        }
        let mut x = 1e-37_f32;
        while x < 1e37 {
            check(x, &mut worst);
            if x < 0.99 {
                check(-x, &mut worst);
            }
            x *= 1.0001;
        }
        for bits in (0..1e-6_f32.to_bits()).step_by(1 << 10) {
            check(f32::from_bits(bits), &mut worst);
        }
        assert!(worst <= 2, "worst error {worst} ulp");
    }

    /// The edges: zero, the pole at -1, infinities and NaN.
    #[test]
    fn log1pf_edges() {
        assert_eq!(log1pf(0.0), 0.0);
        assert_eq!(log1pf(1.0), std::f32::consts::LN_2);
        assert_eq!(log1pf(-1.0), f32::NEG_INFINITY);
        assert!(log1pf(-1.5).is_nan());
        assert_eq!(log1pf(f32::INFINITY), f32::INFINITY);
        assert!(log1pf(f32::NEG_INFINITY).is_nan());
        assert!(log1pf(f32::NAN).is_nan());
        assert_eq!(log1pf(f32::MAX), (f64::from(f32::MAX)).ln_1p() as f32);
        // Tiny arguments: ln(1 + x) = x to within rounding.
        assert_eq!(log1pf(1e-30), 1e-30);
        assert_eq!(log1pf(-1e-30), -1e-30);
    }

    /// `tanhf` against the standard library's `tanh` computed in `f64` and
    /// rounded: within 1 ulp on a grid across [-10, 10] (both formulas and the
    /// switch between them at 0.625), on a geometric grid of tiny to huge
    /// arguments of both signs, and at every float in [0.6, 0.65] spaced 2^6
    /// apart (around the switch).
    #[test]
    fn tanhf_is_within_two_ulp() {
        let check = |x: f32, worst: &mut u32| {
            let want = f64::from(x).tanh() as f32;
            let got = tanhf(x);
            assert_eq!(got.is_sign_negative(), want.is_sign_negative(), "x = {x:e}");
            *worst = (*worst).max(ulps(got.abs(), want.abs()));
        };
        let mut worst = 0;
        let steps = 2_000_000;
        for i in 0..=steps {
            check(-10.0 + 20.0 * (i as f32 / steps as f32), &mut worst);
        }
        let mut x = 1e-38_f32;
        while x < 1e38 {
            check(x, &mut worst);
            check(-x, &mut worst);
            x *= 1.0001;
        }
        for bits in (0.6_f32.to_bits()..0.65_f32.to_bits()).step_by(1 << 6) {
            check(f32::from_bits(bits), &mut worst);
        }
        assert!(worst <= 1, "worst error {worst} ulp");
    }

    /// The edges: signed zeros, saturation, infinities and NaN.
    #[test]
    fn tanhf_edges() {
        assert_eq!(tanhf(0.0).to_bits(), 0.0_f32.to_bits());
        assert_eq!(tanhf(-0.0).to_bits(), (-0.0_f32).to_bits());
        assert_eq!(tanhf(20.0), 1.0);
        assert_eq!(tanhf(-20.0), -1.0);
        assert_eq!(tanhf(f32::MAX), 1.0);
        assert_eq!(tanhf(f32::INFINITY), 1.0);
        assert_eq!(tanhf(f32::NEG_INFINITY), -1.0);
        assert!(tanhf(f32::NAN).is_nan());
        // Tiny arguments: tanh x = x to within rounding, subnormals included.
        assert_eq!(tanhf(1e-30), 1e-30);
        assert_eq!(tanhf(-1e-40), -1e-40);
    }
}
