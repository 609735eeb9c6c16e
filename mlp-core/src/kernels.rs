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

/// Forward product `a = x W^T + b` for `rows = x.len() / n_in` samples.
pub(crate) fn affine<F: Float, const IN: usize, const OUT: usize>(
    x: &[F],
    w: &[F],
    b: &[F],
    a: &mut [F],
) {
    let (n_in, n_out) = (IN, OUT);
    let mut xs = x.chunks_exact(n_in * 4);
    let mut as_ = a.chunks_exact_mut(n_out * 4);
    for (x4, a4) in (&mut xs).zip(&mut as_) {
        let (x0, rest) = x4.split_at(n_in);
        let (x1, rest) = rest.split_at(n_in);
        let (x2, x3) = rest.split_at(n_in);
        for (o, (w, &b)) in w.chunks_exact(n_in).zip(b).enumerate() {
            a4[o] = b + dot(x0, w);
            a4[n_out + o] = b + dot(x1, w);
            a4[2 * n_out + o] = b + dot(x2, w);
            a4[3 * n_out + o] = b + dot(x3, w);
        }
    }
    let rows = xs
        .remainder()
        .chunks_exact(n_in)
        .zip(as_.into_remainder().chunks_exact_mut(n_out));
    for (x, a) in rows {
        for ((a, w), &b) in a.iter_mut().zip(w.chunks_exact(n_in)).zip(b) {
            *a = b + dot(x, w);
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
    let (n_in, n_out) = (IN, OUT);
    gw.fill(F::zero());
    gb.fill(F::zero());
    let mut ds = delta.chunks_exact(n_out * 4);
    let mut xs = x.chunks_exact(n_in * 4);
    for (d4, x4) in (&mut ds).zip(&mut xs) {
        let (x0, rest) = x4.split_at(n_in);
        let (x1, rest) = rest.split_at(n_in);
        let (x2, x3) = rest.split_at(n_in);
        for (o, (gw, gb)) in gw.chunks_exact_mut(n_in).zip(gb.iter_mut()).enumerate() {
            let (d0, d1, d2, d3) = (d4[o], d4[n_out + o], d4[2 * n_out + o], d4[3 * n_out + o]);
            *gb += (d0 + d1) + (d2 + d3);
            for i in 0..n_in {
                gw[i] += (d0 * x0[i] + d1 * x1[i]) + (d2 * x2[i] + d3 * x3[i]);
            }
        }
    }
    let rows = ds
        .remainder()
        .chunks_exact(n_out)
        .zip(xs.remainder().chunks_exact(n_in));
    for (d, x) in rows {
        for ((gw, gb), &d) in gw.chunks_exact_mut(n_in).zip(gb.iter_mut()).zip(d) {
            *gb += d;
            axpy(d, x, gw);
        }
    }
    for g in gw.iter_mut().chain(gb.iter_mut()) {
        *g *= scale;
    }
}

/// Input gradient `gx = delta W`, overwriting `gx`.
pub(crate) fn grad_input<F: Float, const IN: usize, const OUT: usize>(
    delta: &[F],
    w: &[F],
    gx: &mut [F],
) {
    let (n_in, n_out) = (IN, OUT);
    gx.fill(F::zero());
    for (d, gx) in delta.chunks_exact(n_out).zip(gx.chunks_exact_mut(n_in)) {
        for (&d, w) in d.iter().zip(w.chunks_exact(n_in)) {
            axpy(d, w, gx);
        }
    }
}

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
            }
        }
    }
}
