//! The three matrix products of a dense layer, on row-major slices.
//!
//! Data is batch-major (one row per sample) and `W` is stored `out x in`
//! (PyTorch's layout), so all three products walk contiguous memory:
//!
//! - forward:     `a[r, o] = b[o] + sum_i x[r, i] W[o, i]`  (`a = x W^T + b`)
//! - weight grad: `gw[o, i] = s sum_r delta[r, o] x[r, i]`  (`dL/dW = s delta^T x`)
//! - input grad:  `gx[r, i] = sum_o delta[r, o] W[o, i]`    (`dL/dx = delta W`)
//!
//! The widths are const generics, the layer's own: for small layers the
//! compiler unrolls the loops completely, with no heap traffic and no
//! per-call dispatch. They allocate nothing and, being plain loops, give the same bits for the
//! same inputs on every run and every thread count. Rows are processed four
//! at a time so each row of `W` is loaded once per four samples.

use crate::Float;
use crate::simd::has_avx2;

/// `sum_k a[k] b[k]` with eight independent accumulators (so the compiler can
/// vectorise it) and a fixed summation order.
#[inline(always)]
pub(crate) fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [F::zero(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (&x, &y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `y[k] += alpha x[k]`.
#[inline(always)]
fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// The rows of a row-major `rows x N` slice as fixed-size arrays, so the
/// compiler knows every row's length (and unrolls small layers completely).
#[inline(always)]
fn rows<F, const N: usize>(v: &[F]) -> &[[F; N]] {
    let (rows, rest) = v.as_chunks::<N>();
    debug_assert!(rest.is_empty());
    rows
}

/// As [`rows`], mutably.
#[inline(always)]
fn rows_mut<F, const N: usize>(v: &mut [F]) -> &mut [[F; N]] {
    let (rows, rest) = v.as_chunks_mut::<N>();
    debug_assert!(rest.is_empty());
    rows
}

/// `W` (`OUT x IN`, row-major) as an array of its rows.
#[inline(always)]
fn matrix<F, const IN: usize, const OUT: usize>(w: &[F]) -> &[[F; IN]; OUT] {
    rows::<F, IN>(w)
        .try_into()
        .expect("W holds OUT x IN values")
}

/// Fewest multiply-adds for which a batch kernel runs with the wider
/// vectors (see [`wide_if`]); the XOR networks of the
/// book stay below it.
const WIDE_MACS: usize = 4096;

/// Forward product `a = x W^T + b` for `rows = x.len() / IN` samples.
pub(crate) fn affine<F: Float, const IN: usize, const OUT: usize>(
    x: &[F],
    w: &[F],
    b: &[F],
    a: &mut [F],
) {
    let wide = x.len() * OUT >= WIDE_MACS;
    if wide && has_avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { affine_avx2::<F, IN, OUT>(x, w, b, a) }
    } else {
        affine_loops::<F, IN, OUT>(x, w, b, a)
    }
}

/// [`affine_loops`] compiled with AVX2 (the loops in this function's own
/// body, as `activation::map_avx2` explains).
///
/// # Safety
/// On x86-64 the CPU must have AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn affine_avx2<F: Float, const IN: usize, const OUT: usize>(
    x: &[F],
    w: &[F],
    b: &[F],
    a: &mut [F],
) {
    affine_loops::<F, IN, OUT>(x, w, b, a)
}

#[inline(always)]
fn affine_loops<F: Float, const IN: usize, const OUT: usize>(
    x: &[F],
    w: &[F],
    b: &[F],
    a: &mut [F],
) {
    let w = matrix::<F, IN, OUT>(w);
    let b: &[F; OUT] = b.try_into().expect("b holds OUT values");
    let (xs, x_rest) = rows::<F, IN>(x).as_chunks::<4>();
    let (as_, a_rest) = rows_mut::<F, OUT>(a).as_chunks_mut::<4>();
    for ([x0, x1, x2, x3], [a0, a1, a2, a3]) in xs.iter().zip(as_) {
        for o in 0..OUT {
            a0[o] = b[o] + dot(x0, &w[o]);
            a1[o] = b[o] + dot(x1, &w[o]);
            a2[o] = b[o] + dot(x2, &w[o]);
            a3[o] = b[o] + dot(x3, &w[o]);
        }
    }
    for (x, a) in x_rest.iter().zip(a_rest) {
        for o in 0..OUT {
            a[o] = b[o] + dot(x, &w[o]);
        }
    }
}

/// Parameter gradients `gw = scale delta^T x` and `gb = scale sum_r delta[r, :]`,
/// overwriting `gw` and `gb`.
pub(crate) fn grad_params<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    x: &[F],
    gw: &mut [F],
    gb: &mut [F],
    scale: F,
) {
    let wide = x.len() * OUT >= WIDE_MACS;
    if wide && has_avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { grad_params_avx2::<F, IN, OUT>(delta, x, gw, gb, scale) }
    } else {
        grad_params_loops::<F, IN, OUT>(delta, x, gw, gb, scale)
    }
}

/// [`grad_params_loops`] compiled with AVX2 (the loops in this function's own
/// body, as `activation::map_avx2` explains).
///
/// # Safety
/// On x86-64 the CPU must have AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn grad_params_avx2<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    x: &[F],
    gw: &mut [F],
    gb: &mut [F],
    scale: F,
) {
    grad_params_loops::<F, IN, OUT>(delta, x, gw, gb, scale)
}

#[inline(always)]
fn grad_params_loops<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    x: &[F],
    gw: &mut [F],
    gb: &mut [F],
    scale: F,
) {
    let gw: &mut [[F; IN]; OUT] = rows_mut::<F, IN>(gw)
        .try_into()
        .expect("gw holds OUT x IN values");
    let gb: &mut [F; OUT] = gb.try_into().expect("gb holds OUT values");
    *gw = [[F::zero(); IN]; OUT];
    *gb = [F::zero(); OUT];
    let (ds, d_rest) = rows::<F, OUT>(delta).as_chunks::<4>();
    let (xs, x_rest) = rows::<F, IN>(x).as_chunks::<4>();
    for ([d0, d1, d2, d3], [x0, x1, x2, x3]) in ds.iter().zip(xs) {
        for o in 0..OUT {
            let (d0, d1, d2, d3) = (d0[o], d1[o], d2[o], d3[o]);
            gb[o] += (d0 + d1) + (d2 + d3);
            for i in 0..IN {
                gw[o][i] += (d0 * x0[i] + d1 * x1[i]) + (d2 * x2[i] + d3 * x3[i]);
            }
        }
    }
    for (d, x) in d_rest.iter().zip(x_rest) {
        for o in 0..OUT {
            gb[o] += d[o];
            axpy(d[o], x, &mut gw[o]);
        }
    }
    // Two plain loops: a chained iterator checks which half it is in at
    // every element.
    for g in gw.as_flattened_mut() {
        *g *= scale;
    }
    for g in gb.iter_mut() {
        *g *= scale;
    }
}

/// Input gradient `gx = delta W`, overwriting `gx`.
pub(crate) fn grad_input<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    w: &[F],
    gx: &mut [F],
) {
    let wide = gx.len() * OUT >= WIDE_MACS;
    if wide && has_avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { grad_input_avx2::<F, IN, OUT>(delta, w, gx) }
    } else {
        grad_input_loops::<F, IN, OUT>(delta, w, gx)
    }
}

/// [`grad_input_loops`] compiled with AVX2 (the loops in this function's own
/// body, as `activation::map_avx2` explains).
///
/// # Safety
/// On x86-64 the CPU must have AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn grad_input_avx2<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    w: &[F],
    gx: &mut [F],
) {
    grad_input_loops::<F, IN, OUT>(delta, w, gx)
}

#[inline(always)]
fn grad_input_loops<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    w: &[F],
    gx: &mut [F],
) {
    let w = matrix::<F, IN, OUT>(w);
    for (d, gx) in rows::<F, OUT>(delta).iter().zip(rows_mut::<F, IN>(gx)) {
        *gx = [F::zero(); IN];
        for o in 0..OUT {
            axpy(d[o], &w[o], gx);
        }
    }
}

/// [`affine`] for one sample: `a = W x + b`, on arrays of known length.
#[inline(always)]
pub(crate) fn affine_one<F: Float, const IN: usize, const OUT: usize>(
    x: &[F; IN],
    w: &[F],
    b: &[F],
) -> [F; OUT] {
    let w = matrix::<F, IN, OUT>(w);
    let b: &[F; OUT] = b.try_into().expect("b holds OUT values");
    // A loop, not `array::from_fn`, whose closure the compiler leaves as a
    // call per output.
    let mut a = [F::zero(); OUT];
    for ((a, &b), w) in a.iter_mut().zip(b).zip(w) {
        *a = b + dot(x, w);
    }
    a
}

// ANCHOR: one_sample
/// [`grad_params`] for one sample, whose scale `1 / rows` is 1:
/// `gw = delta x^T`, `gb = delta`, with the same additions to zero (which
/// turn `-0` into `+0`) so the bits agree.
#[inline(always)]
pub(crate) fn grad_params_one<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F; OUT],
    x: &[F; IN],
    gw: &mut [F],
    gb: &mut [F],
) {
    let gw: &mut [[F; IN]; OUT] = rows_mut::<F, IN>(gw)
        .try_into()
        .expect("gw holds OUT x IN values");
    let gb: &mut [F; OUT] = gb.try_into().expect("gb holds OUT values");
    for o in 0..OUT {
        gb[o] = F::zero() + delta[o];
        for i in 0..IN {
            gw[o][i] = F::zero() + delta[o] * x[i];
        }
    }
}

/// [`grad_input`] for one sample: `gx = delta W`.
#[inline(always)]
pub(crate) fn grad_input_one<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F; OUT],
    w: &[F],
) -> [F; IN] {
    let w = matrix::<F, IN, OUT>(w);
    let mut gx = [F::zero(); IN];
    for o in 0..OUT {
        axpy(delta[o], &w[o], &mut gx);
    }
    gx
}
// ANCHOR_END: one_sample

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Array2};

    fn arr(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
        Array::from_shape_fn((rows, cols), |(r, c)| {
            ((r * 31 + c * 17) as f64 * 0.37 + seed).sin()
        })
    }

    /// The kernels agree with ndarray's matrix products for every remainder
    /// of the four-row blocking and widths that are not multiples of eight.
    #[test]
    fn kernels_match_ndarray() {
        for rows in 1..=9 {
            check::<1, 1>(rows);
            check::<2, 4>(rows);
            check::<13, 3>(rows);
            check::<17, 9>(rows);
        }
    }

    /// Above `WIDE_MACS` the batch kernels run with the wider vectors; they
    /// must give the bits of the same loops compiled for the baseline (here,
    /// called directly), for a full block of four rows and for remainders.
    #[test]
    fn wide_kernels_give_the_baseline_bits() {
        fn check<F: Float, const IN: usize, const OUT: usize>(rows: usize) {
            assert!(rows * IN * OUT >= WIDE_MACS);
            let v = |n: usize, s: f64| -> Vec<F> {
                (0..n)
                    .map(|i| F::from_f64(((i as f64) * 0.37 + s).sin()))
                    .collect()
            };
            let (x, w, b, d) = (
                v(rows * IN, 0.1),
                v(OUT * IN, 0.2),
                v(OUT, 0.3),
                v(rows * OUT, 0.4),
            );
            let bits = |v: &[F]| v.iter().map(|x| x.as_f64().to_bits()).collect::<Vec<_>>();
            let (mut a1, mut a2) = (vec![F::zero(); rows * OUT], vec![F::zero(); rows * OUT]);
            affine::<F, IN, OUT>(&x, &w, &b, &mut a1);
            affine_loops::<F, IN, OUT>(&x, &w, &b, &mut a2);
            assert_eq!(bits(&a1), bits(&a2));
            let scale = F::from_f64(1.0 / rows as f64);
            let (mut gw1, mut gb1) = (vec![F::zero(); OUT * IN], vec![F::zero(); OUT]);
            let (mut gw2, mut gb2) = (vec![F::zero(); OUT * IN], vec![F::zero(); OUT]);
            grad_params::<F, IN, OUT>(&d, &x, &mut gw1, &mut gb1, scale);
            grad_params_loops::<F, IN, OUT>(&d, &x, &mut gw2, &mut gb2, scale);
            assert_eq!((bits(&gw1), bits(&gb1)), (bits(&gw2), bits(&gb2)));
            let (mut gx1, mut gx2) = (vec![F::zero(); rows * IN], vec![F::zero(); rows * IN]);
            grad_input::<F, IN, OUT>(&d, &w, &mut gx1);
            grad_input_loops::<F, IN, OUT>(&d, &w, &mut gx2);
            assert_eq!(bits(&gx1), bits(&gx2));
        }
        for rows in [64, 67] {
            check::<f32, 128, 10>(rows);
            check::<f64, 128, 10>(rows);
            check::<f32, 30, 10>(rows);
        }
    }

    fn check<const IN: usize, const OUT: usize>(rows: usize) {
        let (n_in, n_out) = (IN, OUT);
        {
            {
                let x = arr(rows, n_in, 0.1);
                let w = arr(n_out, n_in, 0.2);
                let b = arr(1, n_out, 0.3).row(0).to_owned();
                let delta = arr(rows, n_out, 0.4);

                let mut a = vec![0.0; rows * n_out];
                affine::<_, IN, OUT>(
                    x.as_slice().unwrap(),
                    w.as_slice().unwrap(),
                    b.as_slice().unwrap(),
                    &mut a,
                );
                let want = x.dot(&w.t()) + &b;
                for (g, w) in a.iter().zip(want.iter()) {
                    assert!((g - w).abs() < 1e-12);
                }

                let (mut gw, mut gb) = (vec![9.0; n_out * n_in], vec![9.0; n_out]);
                grad_params::<_, IN, OUT>(
                    delta.as_slice().unwrap(),
                    x.as_slice().unwrap(),
                    &mut gw,
                    &mut gb,
                    0.5,
                );
                let want = delta.t().dot(&x) * 0.5;
                for (g, w) in gw.iter().zip(want.iter()) {
                    assert!((g - w).abs() < 1e-12);
                }
                let want = delta.sum_axis(ndarray::Axis(0)) * 0.5;
                for (g, w) in gb.iter().zip(want.iter()) {
                    assert!((g - w).abs() < 1e-12);
                }

                let mut gx = vec![9.0; rows * n_in];
                grad_input::<_, IN, OUT>(delta.as_slice().unwrap(), w.as_slice().unwrap(), &mut gx);
                let want = delta.dot(&w);
                for (g, w) in gx.iter().zip(want.iter()) {
                    assert!((g - w).abs() < 1e-12);
                }

                // The one-sample kernels give the batch kernels' bits on row 0.
                let first = |v: &[f64], n: usize| v[..n].to_vec();
                let (w, b) = (w.as_slice().unwrap(), b.as_slice().unwrap());
                let x0: [f64; IN] = first(x.as_slice().unwrap(), IN).try_into().unwrap();
                let d0: [f64; OUT] = first(delta.as_slice().unwrap(), OUT).try_into().unwrap();
                let mut a1 = [0.0; OUT];
                affine::<_, IN, OUT>(&x0, w, b, &mut a1);
                assert_eq!(
                    affine_one::<_, IN, OUT>(&x0, w, b).map(f64::to_bits),
                    a1.map(f64::to_bits)
                );
                let (mut gw1, mut gb1) = (vec![9.0; n_out * n_in], vec![9.0; n_out]);
                grad_params::<_, IN, OUT>(&d0, &x0, &mut gw1, &mut gb1, 1.0);
                let (mut gw2, mut gb2) = (vec![9.0; n_out * n_in], vec![9.0; n_out]);
                grad_params_one::<_, IN, OUT>(&d0, &x0, &mut gw2, &mut gb2);
                let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!((bits(&gw1), bits(&gb1)), (bits(&gw2), bits(&gb2)));
                let mut gx1 = [0.0; IN];
                grad_input::<_, IN, OUT>(&d0, w, &mut gx1);
                assert_eq!(
                    grad_input_one::<_, IN, OUT>(&d0, w).map(f64::to_bits),
                    gx1.map(f64::to_bits)
                );
            }
        }
    }
}
