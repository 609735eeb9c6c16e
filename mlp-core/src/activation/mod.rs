//! Activation functions `phi` and their derivatives `phi'`, one file each.
//!
//! A layer computes `a = W h + b` and then `h' = phi(a)`. Backprop needs the
//! local derivative: the error at a layer is `delta = phi'(a) (.) dL/dh'`.
//! Most activations act element by element and implement [`Elementwise`]
//! (the function) and [`ElementwiseDerivative`] (its derivative, which may
//! use the input `x`, the output `phi(x)`, or both, as dfdx's
//! `UnaryDerivative` does). [`Softmax`] couples the outputs of a row and
//! implements [`Activation`] and [`Derivative`] directly.
//!
//! [`Step`] has no useful derivative (zero almost everywhere), so it does not
//! implement [`Derivative`]: a network that contains it can run forward but
//! `fit` on it is a compile error.

mod elu;
mod identity;
mod leaky_relu;
mod mish;
mod relu;
mod selu;
mod sigmoid;
mod softmax;
mod softplus;
mod softsign;
mod step;
mod swish;
mod tanh;

pub use elu::Elu;
pub use identity::Identity;
pub use leaky_relu::LeakyRelu;
pub use mish::Mish;
pub use relu::Relu;
pub use selu::Selu;
pub use sigmoid::Sigmoid;
pub use softmax::Softmax;
pub use softplus::Softplus;
pub use softsign::Softsign;
pub use step::Step;
pub use swish::Swish;
pub use tanh::Tanh;

use crate::Float;
use std::fmt::Debug;

/// An activation function `phi`, applied to the pre-activations of a batch.
pub trait Activation<F: Float>: Copy + Debug + Send + Sync + 'static {
    /// The name used in summaries and in the DSL, e.g. `"relu"`.
    const NAME: &'static str;

    /// `h = phi(a)` for a row-major batch whose rows are `width` long.
    fn forward(&self, a: &[F], h: &mut [F], width: usize);

    /// The name with its parameters, e.g. `leaky_relu(0.1)`.
    fn describe(&self) -> String {
        Self::NAME.to_string()
    }

    /// Whether a unit is saturated: its derivative is (close to) zero there,
    /// so it passes almost no gradient back. Used by the activation
    /// statistics of [`History`](crate::History).
    fn saturated(&self, _a: F, _h: F) -> bool {
        false
    }

    /// Checks the activation's parameters (a finite slope, say); training
    /// refuses an activation that fails, naming the reason.
    ///
    /// # Errors
    /// Why the parameters are invalid.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// The value a new layer's biases start at: `0`, except where a unit
    /// would otherwise start with no gradient (see [`Relu`]).
    fn initial_bias(&self) -> f64 {
        0.0
    }
}

/// The derivative of an activation, as backprop uses it.
#[diagnostic::on_unimplemented(
    message = "the activation `{Self}` has no useful derivative, so a network containing it cannot be trained",
    label = "this network contains a `{Self}` layer",
    note = "the step function is flat everywhere except at 0, so backprop would only ever see a zero gradient; \
            use `sigmoid` or `tanh` for a smooth threshold, or build the network by hand and only run it forward"
)]
pub trait Derivative<F: Float>: Activation<F> {
    /// `delta = phi'(a) (.) grad_h` (for row-coupled activations the
    /// Jacobian-vector product `J_phi(a)^T grad_h`), given `a`, `h = phi(a)`
    /// and `grad_h = dL/dh`, for a row-major batch with rows `width` long.
    ///
    /// Copies `grad_h` into `delta` and calls
    /// [`backward_in_place`](Self::backward_in_place).
    fn backward(&self, a: &[F], h: &[F], grad_h: &[F], delta: &mut [F], width: usize) {
        delta.copy_from_slice(grad_h);
        self.backward_in_place(a, h, delta, width);
    }

    /// [`backward`](Self::backward) in place: on entry `delta` holds
    /// `grad_h = dL/dh`, and on return `phi'(a) (.) grad_h`, the same bits.
    /// Backprop uses this form. The layer above writes `dL/dh` straight into
    /// a layer's `delta`, so no layer keeps a separate `dL/dh` buffer.
    fn backward_in_place(&self, a: &[F], h: &[F], delta: &mut [F], width: usize);
}

/// An activation that maps each pre-activation to its output on its own.
pub trait Elementwise<F: Float>: Copy + Debug + Send + Sync + 'static {
    /// The DSL name, e.g. `"sigmoid"`.
    const NAME: &'static str;
    /// `phi(x)`.
    fn phi(&self, x: F) -> F;
    /// The name with parameters (defaults to [`NAME`](Self::NAME)).
    fn describe(&self) -> String {
        Self::NAME.to_string()
    }
    /// See [`Activation::saturated`].
    fn saturated(&self, _x: F, _fx: F) -> bool {
        false
    }
    /// See [`Activation::validate`].
    ///
    /// # Errors
    /// Why the parameters are invalid.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }
    /// See [`Activation::initial_bias`].
    fn initial_bias(&self) -> f64 {
        0.0
    }
}

/// The derivative of an [`Elementwise`] activation.
///
/// `dphi` receives both the input `x` and the output `fx = phi(x)`: sigmoid's
/// derivative is cheapest from the output (`fx (1 - fx)`), relu's from the
/// input.
pub trait ElementwiseDerivative<F: Float>: Elementwise<F> {
    /// `phi'(x)`, given `x` and `fx = phi(x)`.
    fn dphi(&self, x: F, fx: F) -> F;
}

/// Implements [`Activation`] and [`Derivative`] for types that implement
/// [`Elementwise`] and [`ElementwiseDerivative`], applying them element by
/// element. Use it for your own activations:
///
/// ```
/// use mlp_core::{Elementwise, ElementwiseDerivative, Float};
///
/// /// `phi(x) = x^3`, `phi'(x) = 3 x^2`.
/// #[derive(Debug, Clone, Copy)]
/// struct Cube;
/// impl<F: Float> Elementwise<F> for Cube {
///     const NAME: &'static str = "cube";
///     fn phi(&self, x: F) -> F { x * x * x }
/// }
/// impl<F: Float> ElementwiseDerivative<F> for Cube {
///     fn dphi(&self, x: F, _fx: F) -> F { F::from_f64(3.0) * x * x }
/// }
/// mlp_core::elementwise_activation!(Cube);
/// ```
#[macro_export]
macro_rules! elementwise_activation {
    // Forward only (no derivative: the type cannot be trained through).
    (@forward $($t:ty),+) => {$(
        impl<F: $crate::Float> $crate::Activation<F> for $t {
            const NAME: &'static str = <$t as $crate::Elementwise<F>>::NAME;
            #[inline]
            fn forward(&self, a: &[F], h: &mut [F], _width: usize) {
                // Inlined into the vector loop even when `phi` is long (mish).
                $crate::activation::__map(
                    a,
                    h,
                    #[inline(always)]
                    |a| $crate::Elementwise::<F>::phi(self, a),
                );
            }
            fn describe(&self) -> ::std::string::String {
                $crate::Elementwise::<F>::describe(self)
            }
            fn saturated(&self, a: F, h: F) -> bool {
                $crate::Elementwise::<F>::saturated(self, a, h)
            }
            fn validate(&self) -> ::std::result::Result<(), ::std::string::String> {
                $crate::Elementwise::<F>::validate(self)
            }
            fn initial_bias(&self) -> f64 {
                $crate::Elementwise::<F>::initial_bias(self)
            }
        }
    )+};
    // Forward and backward.
    ($($t:ty),+ $(,)?) => {$(
        $crate::elementwise_activation!(@forward $t);
        impl<F: $crate::Float> $crate::Derivative<F> for $t {
            #[inline]
            fn backward_in_place(&self, a: &[F], h: &[F], delta: &mut [F], _width: usize) {
                $crate::activation::__map3(
                    a,
                    h,
                    delta,
                    #[inline(always)]
                    |a, h, g| $crate::ElementwiseDerivative::<F>::dphi(self, a, h) * g,
                );
            }
        }
    )+};
}

elementwise_activation!(@forward Step);
elementwise_activation!(
    Identity, Sigmoid, Tanh, Relu, LeakyRelu, Elu, Selu, Softplus, Softsign, Swish, Mish
);

/// `out[k] = f(a[k])` over slices of equal length, eight values at a time,
/// then four, then one by one. A plain loop vectorises only whole groups of
/// its vector width and leaves a short slice (a layer of four units, a
/// single sample) entirely scalar; the explicit groups of eight and four
/// keep every group of four values in one vector operation. Each value is
/// computed on its own, so the results are the same bits as the plain loop.
/// A batch of at least 64 values runs with the wider vectors when the CPU
/// has them (same bits; see `simd::wide`).
#[doc(hidden)]
#[inline(always)]
pub fn __map<F: Copy>(a: &[F], out: &mut [F], f: impl Fn(F) -> F) {
    debug_assert_eq!(a.len(), out.len());
    if a.len() >= 64 && crate::simd::has_avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { map_avx2(a, out, f) }
    } else {
        map_loops(a, out, f)
    }
}

/// [`map_loops`] compiled with AVX2, for [`__map`]. The loops are in this
/// function's own body: passed in a closure to `simd::wide` they are
/// optimised for the baseline first, and the body of an `exp`-based
/// activation then stays scalar (2.9x slower than the baseline for sigmoid).
///
/// # Safety
/// On x86-64 the CPU must have AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn map_avx2<F: Copy>(a: &[F], out: &mut [F], f: impl Fn(F) -> F) {
    map_loops(a, out, f)
}

#[inline(always)]
fn map_loops<F: Copy>(a: &[F], out: &mut [F], f: impl Fn(F) -> F) {
    let (o8, o_rest) = out.as_chunks_mut::<8>();
    let (a8, a_rest) = a.as_chunks::<8>();
    for (o, a) in o8.iter_mut().zip(a8) {
        for k in 0..8 {
            o[k] = f(a[k]);
        }
    }
    let (o4, o_rest) = o_rest.as_chunks_mut::<4>();
    let (a4, a_rest) = a_rest.as_chunks::<4>();
    if let (Some(o), Some(a)) = (o4.first_mut(), a4.first()) {
        for k in 0..4 {
            o[k] = f(a[k]);
        }
    }
    for (o, &a) in o_rest.iter_mut().zip(a_rest) {
        *o = f(a);
    }
}

/// `c[k] = f(a[k], b[k], c[k])`, in place, grouped as [`__map`].
#[doc(hidden)]
#[inline(always)]
pub fn __map3<F: Copy>(a: &[F], b: &[F], c: &mut [F], f: impl Fn(F, F, F) -> F) {
    debug_assert!(a.len() == c.len() && b.len() == c.len());
    if a.len() >= 64 && crate::simd::has_avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { map3_avx2(a, b, c, f) }
    } else {
        map3_loops(a, b, c, f)
    }
}

/// [`map3_loops`] compiled with AVX2, for [`__map3`] (see [`map_avx2`]).
///
/// # Safety
/// On x86-64 the CPU must have AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn map3_avx2<F: Copy>(a: &[F], b: &[F], c: &mut [F], f: impl Fn(F, F, F) -> F) {
    map3_loops(a, b, c, f)
}

#[inline(always)]
fn map3_loops<F: Copy>(a: &[F], b: &[F], c: &mut [F], f: impl Fn(F, F, F) -> F) {
    let (c8, c_rest) = c.as_chunks_mut::<8>();
    let ((a8, a_rest), (b8, b_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    for (c, (a, b)) in c8.iter_mut().zip(a8.iter().zip(b8)) {
        for k in 0..8 {
            c[k] = f(a[k], b[k], c[k]);
        }
    }
    let (c4, c_rest) = c_rest.as_chunks_mut::<4>();
    let ((a4, a_rest), (b4, b_rest)) = (a_rest.as_chunks::<4>(), b_rest.as_chunks::<4>());
    if let (Some(c), Some(a), Some(b)) = (c4.first_mut(), a4.first(), b4.first()) {
        for k in 0..4 {
            c[k] = f(a[k], b[k], c[k]);
        }
    }
    for (c, (&a, &b)) in c_rest.iter_mut().zip(a_rest.iter().zip(b_rest)) {
        *c = f(a, b, *c);
    }
}

/// The logistic function `1 / (1 + e^-x)`, computed without overflow for
/// either sign of `x`.
#[inline(always)]
pub(crate) fn logistic<F: Float>(x: F) -> F {
    // One exponential, e^-|x| <= 1, for either sign; no branch, so it vectorises.
    let e = (-x.abs()).vexp();
    let (pos, neg) = (F::one() / (F::one() + e), e / (F::one() + e));
    if x >= F::zero() { pos } else { neg }
}

/// `ln(1 + e^x)` without overflow: `max(x, 0) + ln(1 + e^-|x|)`.
#[inline(always)]
pub(crate) fn softplus<F: Float>(x: F) -> F {
    x.max(F::zero()) + (-x.abs()).vexp().vln1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every elementwise derivative agrees with a central difference of its
    /// own function, in f64, away from kinks.
    fn check<A: ElementwiseDerivative<f64>>(act: A) {
        for &x in &[-7.3, -2.0, -0.7, -0.1, 0.13, 0.9, 2.5, 6.1] {
            let eps = 1e-6;
            let numeric = (act.phi(x + eps) - act.phi(x - eps)) / (2.0 * eps);
            let analytic = act.dphi(x, act.phi(x));
            let err = (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-12);
            assert!(
                err < 1e-7 || (numeric - analytic).abs() < 1e-10,
                "{} at {x}: numeric {numeric}, analytic {analytic}",
                Elementwise::<f64>::describe(&act)
            );
        }
    }

    #[test]
    fn derivatives_match_central_differences() {
        check(Identity);
        check(Sigmoid);
        check(Tanh);
        check(Relu);
        check(LeakyRelu::new(0.1));
        check(Elu::new(1.0));
        check(Elu::new(0.5));
        check(Selu);
        check(Softplus);
        check(Softsign);
        check(Swish);
        check(Mish);
    }

    /// A batch of 64 values or more runs with the wider vectors; forward
    /// and backward must give the bits of `phi` and `dphi` one value at a
    /// time, across the range where the exponentials saturate.
    fn wide_matches_scalar<F: Float, A: ElementwiseDerivative<F> + Derivative<F>>(act: A) {
        let n = 203;
        let v = |s: f64| -> Vec<F> {
            (0..n)
                .map(|i| F::from_f64(((i as f64) * 0.61 + s).sin() * 40.0))
                .collect()
        };
        let (a, g) = (v(0.2), v(0.9));
        let bits = |v: &[F]| v.iter().map(|x| x.as_f64().to_bits()).collect::<Vec<_>>();
        let mut h = vec![F::zero(); n];
        act.forward(&a, &mut h, n);
        let want: Vec<F> = a.iter().map(|&x| act.phi(x)).collect();
        assert_eq!(
            bits(&h),
            bits(&want),
            "{} forward",
            Elementwise::describe(&act)
        );
        let mut d = vec![F::zero(); n];
        Derivative::backward(&act, &a, &h, &g, &mut d, n);
        let want: Vec<F> = (0..n).map(|i| act.dphi(a[i], h[i]) * g[i]).collect();
        assert_eq!(
            bits(&d),
            bits(&want),
            "{} backward",
            Elementwise::describe(&act)
        );
    }

    /// Runs `$check::<f32, _>` and `$check::<f64, _>` on every element-wise
    /// activation that has a derivative.
    macro_rules! every_elementwise {
        ($check:ident) => {
            every_elementwise!($check, f32);
            every_elementwise!($check, f64);
        };
        ($check:ident, $f:ty) => {
            $check::<$f, _>(Identity);
            $check::<$f, _>(Sigmoid);
            $check::<$f, _>(Tanh);
            $check::<$f, _>(Relu);
            $check::<$f, _>(LeakyRelu::default());
            $check::<$f, _>(Elu::default());
            $check::<$f, _>(Selu);
            $check::<$f, _>(Softplus);
            $check::<$f, _>(Softsign);
            $check::<$f, _>(Swish);
            $check::<$f, _>(Mish);
        };
    }

    #[test]
    fn wide_batches_match_one_value_at_a_time() {
        every_elementwise!(wide_matches_scalar);
    }

    /// |a| = 1e4 must give finite outputs and derivatives in both precisions.
    fn finite_at_extremes<F: Float, A: ElementwiseDerivative<F>>(act: A) {
        for x in [F::from_f64(-1e4), F::from_f64(1e4)] {
            let fx = act.phi(x);
            assert!(fx.is_finite(), "{}({x}) = {fx}", act.describe());
            assert!(act.dphi(x, fx).is_finite(), "{}'({x})", act.describe());
        }
    }

    #[test]
    fn finite_at_extreme_inputs() {
        every_elementwise!(finite_at_extremes);
        let mut h = [0.0f32; 3];
        Softmax.forward(&[1e4, -1e4, 0.0], &mut h, 3);
        assert_eq!(h, [1.0, 0.0, 0.0]);
    }
}
