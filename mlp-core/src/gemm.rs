//! A register-blocked matrix product for the layers' large products.
//!
//! Everything is `C (m x n) = A (m x k) . B (k x n)`, optionally added to C:
//! `A` is read through strides (element `(i, p)` at `a[i * rsa + p * csa]`),
//! so the transposed `delta` of the weight gradient needs no copy, and `B`
//! and `C` are row-major. The inner kernel keeps a 6 x 16 tile of `C` in
//! registers and streams through `k`, broadcasting one element of `A` and
//! loading one row segment of `B` per step; written as plain Rust over arrays
//! so the compiler vectorises it. On x86-64 a second copy is compiled with
//! AVX2 and FMA enabled and chosen at run time.
//!
//! `kernels.rs` keeps the plain loops as the reference; a test checks that
//! both agree.

use crate::Float;

const MR: usize = 6;
const NR: usize = 16;

/// Operands of one product (see the module docs).
#[derive(Clone, Copy)]
pub(crate) struct Gemm<'a, F> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: &'a [F],
    pub rsa: usize,
    pub csa: usize,
    pub b: &'a [F],
    pub ldb: usize,
    /// `B` is stored transposed: element `(p, j)` at `b[j * ldb + p]`.
    pub b_trans: bool,
}

/// Scratch for two packed panels: one for the calling thread and one for the
/// pool's worker. Grows once; steady-state products allocate nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Packs<F>([Vec<F>; 2]);

/// Products with at least this many multiply-adds may be split over two threads.
const PARALLEL_MIN: usize = 1 << 20;

/// Depth of one block of `k`: a packed `KC x NR` panel of `B` (16 KiB in
/// `f32`) stays in L1 while every row tile of `A` streams past it.
const KC: usize = 256;

/// `C = A B` (or `C += A B` when `accumulate`), with `C` row-major, row stride
/// `ldc`. `pack` is scratch space for one packed panel of `B`; it grows to
/// `KC * NR` once and is reused, so steady-state calls allocate nothing.
///
/// # Panics
/// If an operand is too short for the given shape and strides.
pub(crate) fn gemm<F: Float>(
    g: Gemm<'_, F>,
    c: &mut [F],
    ldc: usize,
    accumulate: bool,
    packs: &mut Packs<F>,
) {
    let Gemm {
        m,
        n,
        k,
        a,
        rsa,
        csa,
        b,
        ldb,
        b_trans,
    } = g;
    if m == 0 || n == 0 {
        return;
    }
    // Every index the kernels form is below these bounds, so they may skip checks.
    assert!(
        k == 0 || a.len() > (m - 1) * rsa + (k - 1) * csa,
        "A too short"
    );
    if k > 0 {
        let b_needed = if b_trans {
            (n - 1) * ldb + k
        } else {
            (k - 1) * ldb + n
        };
        assert!(b.len() >= b_needed, "B too short");
    }
    assert!(ldc >= n && c.len() >= (m - 1) * ldc + n, "C too short");
    let [pack0, pack1] = &mut packs.0;
    crate::layer::ensure_len(pack0, KC * NR);
    // Split the columns in two (at a multiple of NR) for the pool's worker.
    let mid = (n / 2) / NR * NR;
    if crate::pool::num_threads() > 1 && m * n * k >= PARALLEL_MIN && mid > 0 {
        crate::layer::ensure_len(pack1, KC * NR);
        let right = Gemm {
            n: n - mid,
            b: if b_trans { &b[mid * ldb..] } else { &b[mid..] },
            ..g
        };
        // Both halves address C through raw pointers: their columns interleave
        // in memory but never overlap, and no `&mut` spans both.
        let c_ptr = c.as_mut_ptr();
        let right_job = RightHalf {
            g: right,
            // SAFETY: mid < n <= ldc, so the offset stays inside C.
            c: SendPtr(unsafe { c_ptr.add(mid) }),
            ldc,
            accumulate,
            pack: SendPtr(pack1.as_mut_ptr()),
            pack_len: pack1.len(),
        };
        crate::pool::join(
            // SAFETY: bounds checked above; the halves write disjoint columns.
            || unsafe { dispatch(Gemm { n: mid, ..g }, c_ptr, ldc, accumulate, pack0) },
            &|| right_job.run(),
        );
        return;
    }
    // SAFETY: bounds checked above.
    unsafe { dispatch(g, c.as_mut_ptr(), ldc, accumulate, pack0) };
}

/// A raw pointer that may cross to the worker thread.
#[derive(Clone, Copy)]
struct SendPtr<F>(*mut F);
// SAFETY: the pointee is only touched by one thread at a time (see `RightHalf`).
unsafe impl<F> Send for SendPtr<F> {}
// SAFETY: as above.
unsafe impl<F> Sync for SendPtr<F> {}

/// The right half of a split product, run by the pool's worker. `c` addresses
/// the columns from `mid` on, which only this half writes, and `pack` is the
/// worker's own panel; `join` keeps both alive until it is done.
struct RightHalf<'a, F> {
    g: Gemm<'a, F>,
    c: SendPtr<F>,
    ldc: usize,
    accumulate: bool,
    pack: SendPtr<F>,
    pack_len: usize,
}

// SAFETY: see the struct's docs; `Gemm` holds shared slices of `F: Sync`.
unsafe impl<F: Sync> Sync for RightHalf<'_, F> {}

impl<F: Float> RightHalf<'_, F> {
    fn run(&self) {
        // SAFETY: the worker's panel is a live `Vec` of this length that only it uses.
        let pack = unsafe { std::slice::from_raw_parts_mut(self.pack.0, self.pack_len) };
        // SAFETY: bounds were checked for the whole product; this half writes
        // only its own columns of C.
        unsafe { dispatch(self.g, self.c.0, self.ldc, self.accumulate, pack) };
    }
}

/// Chooses the AVX2 + FMA build when the CPU has it.
///
/// # Safety
/// `c` must address an `m x n` block with row stride `ldc` that no other
/// thread writes, and the operands must satisfy the bounds checked in [`gemm`].
unsafe fn dispatch<F: Float>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features; bounds are the caller's promise.
            unsafe { gemm_avx2_fma(g, c, ldc, accumulate, pack) };
            return;
        }
    }
    // SAFETY: the caller's promise.
    unsafe { gemm_generic::<F, false>(g, c, ldc, accumulate, pack) };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_avx2_fma<F: Float>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
) {
    // SAFETY: forwarded from the caller.
    unsafe { gemm_generic::<F, true>(g, c, ldc, accumulate, pack) }
}

/// `x * y + z`, fused when the caller was compiled with FMA.
#[inline(always)]
fn madd<F: Float, const FMA: bool>(x: F, y: F, z: F) -> F {
    if FMA { x.mul_add(y, z) } else { x * y + z }
}

/// The blocked product.
///
/// # Safety
/// The operands must hold every index the shape and strides imply (checked
/// by [`gemm`]), and `pack` must hold `KC * NR` elements.
#[inline(always)]
unsafe fn gemm_generic<F: Float, const FMA: bool>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
) {
    let Gemm {
        m,
        n,
        k,
        a,
        rsa,
        csa,
        b,
        ldb,
        b_trans,
    } = g;
    let cp = c;
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                // SAFETY: row i < m of C, n <= ldc columns.
                unsafe { std::slice::from_raw_parts_mut(cp.add(i * ldc), n) }.fill(F::zero());
            }
        }
        return;
    }
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        // The first block writes C (or adds to it when accumulating); later blocks add.
        let add = accumulate || k0 > 0;
        for j0 in (0..n).step_by(NR) {
            let width = NR.min(n - j0);
            // SAFETY: the panel lies within B (rows k0..k0+kc, columns j0..j0+width).
            unsafe { pack_panel(b, ldb, b_trans, k0, kc, j0, width, pack) };
            let panel = &pack[..kc * NR];
            for i0 in (0..m).step_by(MR) {
                // SAFETY: rows i0..i0+MR (or fewer) and columns j0..j0+width lie within A and C.
                unsafe {
                    let (a0, c0) = (a.as_ptr().add(i0 * rsa + k0 * csa), cp.add(i0 * ldc + j0));
                    match m - i0 {
                        1 => micro::<F, FMA, 1>(panel, a0, rsa, csa, c0, ldc, width, add),
                        2 => micro::<F, FMA, 2>(panel, a0, rsa, csa, c0, ldc, width, add),
                        3 => micro::<F, FMA, 3>(panel, a0, rsa, csa, c0, ldc, width, add),
                        4 => micro::<F, FMA, 4>(panel, a0, rsa, csa, c0, ldc, width, add),
                        5 => micro::<F, FMA, 5>(panel, a0, rsa, csa, c0, ldc, width, add),
                        _ => micro::<F, FMA, MR>(panel, a0, rsa, csa, c0, ldc, width, add),
                    }
                }
            }
        }
    }
}

/// Copies `B[k0..k0+kc, j0..j0+width]` into `pack` as `kc` rows of `NR`,
/// padding columns past `width` with zeros (a transposed `B` is transposed
/// here, inside the small panel).
///
/// # Safety
/// The block must lie within `b` for the given layout.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_panel<F: Float>(
    b: &[F],
    ldb: usize,
    b_trans: bool,
    k0: usize,
    kc: usize,
    j0: usize,
    width: usize,
    pack: &mut [F],
) {
    let bp = b.as_ptr();
    if b_trans {
        for jj in 0..NR {
            if jj < width {
                // SAFETY: column j0 + jj < n, rows k0..k0 + kc <= k.
                let col = unsafe { std::slice::from_raw_parts(bp.add((j0 + jj) * ldb + k0), kc) };
                for (p, &v) in col.iter().enumerate() {
                    pack[p * NR + jj] = v;
                }
            } else {
                for p in 0..kc {
                    pack[p * NR + jj] = F::zero();
                }
            }
        }
    } else {
        for p in 0..kc {
            // SAFETY: row k0 + p < k, columns j0..j0 + width <= n.
            let src = unsafe { std::slice::from_raw_parts(bp.add((k0 + p) * ldb + j0), width) };
            let dst = &mut pack[p * NR..(p + 1) * NR];
            dst[..width].copy_from_slice(src);
            dst[width..].fill(F::zero());
        }
    }
}

/// The inner kernel: an `R x NR` tile of `C` held in registers while `p` runs
/// through the packed panel. Writes (or adds) the first `width` columns.
///
/// # Safety
/// `a` must address `R` rows of `panel.len() / NR` elements with the given
/// strides, and `c` must address `R` rows of `width` elements, `ldc` apart.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro<F: Float, const FMA: bool, const R: usize>(
    panel: &[F],
    a: *const F,
    rsa: usize,
    csa: usize,
    c: *mut F,
    ldc: usize,
    width: usize,
    add: bool,
) {
    let mut acc = [[F::zero(); NR]; R];
    for (p, brow) in panel.chunks_exact(NR).enumerate() {
        let brow: &[F; NR] = brow.try_into().expect("NR wide");
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: row r < R, column p < kc of the caller's block of A.
            let av = unsafe { *a.add(r * rsa + p * csa) };
            for (acc, &bv) in acc.iter_mut().zip(brow) {
                *acc = madd::<F, FMA>(av, bv, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        // SAFETY: row r < R of the caller's tile of C, `width` columns.
        let crow = unsafe { std::slice::from_raw_parts_mut(c.add(r * ldc), width) };
        if add {
            crow.iter_mut().zip(acc).for_each(|(c, &v)| *c += v);
        } else {
            crow.copy_from_slice(&acc[..width]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `C = A B` straight from the definition.
    fn naive(g: Gemm<'_, f64>) -> Vec<f64> {
        let mut c = vec![0.0; g.m * g.n];
        for i in 0..g.m {
            for j in 0..g.n {
                let b = |p: usize| {
                    if g.b_trans {
                        g.b[j * g.ldb + p]
                    } else {
                        g.b[p * g.ldb + j]
                    }
                };
                c[i * g.n + j] = (0..g.k).map(|p| g.a[i * g.rsa + p * g.csa] * b(p)).sum();
            }
        }
        c
    }

    #[test]
    fn matches_the_definition_for_all_edge_shapes() {
        let shapes = [
            (1, 1, 1),
            (4, 16, 3),
            (5, 17, 9),
            (9, 33, 1),
            (3, 15, 20),
            (8, 48, 31),
            (6, 35, 600),
            (4, 16, 0),
        ];
        for (m, n, k) in shapes {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            // A read transposed from a k x m array, B stored transposed (n x k).
            let at: Vec<f64> = (0..k * m).map(|t| a[(t % m) * k + t / m]).collect();
            let bt: Vec<f64> = (0..n * k).map(|t| b[(t % k) * n + t / k]).collect();
            let plain = Gemm {
                m,
                n,
                k,
                a: &a,
                rsa: k,
                csa: 1,
                b: &b,
                ldb: n,
                b_trans: false,
            };
            for g in [
                plain,
                Gemm {
                    a: &at,
                    rsa: 1,
                    csa: m,
                    ..plain
                },
                Gemm {
                    b: &bt,
                    ldb: k,
                    b_trans: true,
                    ..plain
                },
            ] {
                let want = naive(g);
                let mut c = vec![7.0; m * n];
                let mut pack = Packs::default();
                gemm(g, &mut c, n, false, &mut pack);
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "{m}x{n}x{k}");
                }
                gemm(g, &mut c, n, true, &mut pack);
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - 2.0 * y).abs() < 1e-12, "accumulate {m}x{n}x{k}");
                }
            }
        }
    }
}

/// The dense layer's forward product `a = x W^T + b` through [`gemm`], reading
/// `W` transposed (each packed panel is transposed in cache).
pub(crate) fn affine<F: Float>(
    x: &[F],
    w: &[F],
    b: &[F],
    packs: &mut Packs<F>,
    a: &mut [F],
    n_in: usize,
    n_out: usize,
) {
    for row in a.chunks_exact_mut(n_out) {
        row.copy_from_slice(b);
    }
    let rows = x.len() / n_in;
    let g = Gemm {
        m: rows,
        n: n_out,
        k: n_in,
        a: x,
        rsa: n_in,
        csa: 1,
        b: w,
        ldb: n_in,
        b_trans: true,
    };
    gemm(g, a, n_out, true, packs);
}

/// `gw = scale delta^T x` and `gb = scale sum_r delta[r, :]` through [`gemm`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn grad_params<F: Float>(
    delta: &[F],
    x: &[F],
    gw: &mut [F],
    gb: &mut [F],
    n_in: usize,
    n_out: usize,
    scale: F,
    packs: &mut Packs<F>,
) {
    let rows = delta.len() / n_out;
    let g = Gemm {
        m: n_out,
        n: n_in,
        k: rows,
        a: delta,
        rsa: 1,
        csa: n_out,
        b: x,
        ldb: n_in,
        b_trans: false,
    };
    gemm(g, gw, n_in, false, packs);
    gb.fill(F::zero());
    for d in delta.chunks_exact(n_out) {
        gb.iter_mut().zip(d).for_each(|(g, &d)| *g += d);
    }
    gw.iter_mut().chain(gb.iter_mut()).for_each(|g| *g *= scale);
}

/// `gx = delta W` through [`gemm`].
pub(crate) fn grad_input<F: Float>(
    delta: &[F],
    w: &[F],
    gx: &mut [F],
    n_in: usize,
    n_out: usize,
    packs: &mut Packs<F>,
) {
    let rows = delta.len() / n_out;
    let g = Gemm {
        m: rows,
        n: n_in,
        k: n_out,
        a: delta,
        rsa: n_out,
        csa: 1,
        b: w,
        ldb: n_in,
        b_trans: false,
    };
    gemm(g, gx, n_in, false, packs);
}

#[cfg(test)]
mod layer_tests {
    use super::Packs;
    use crate::kernels;

    /// The fast layer products agree with the reference loops of `kernels.rs`
    /// to rounding (the summation order differs, and FMA rounds once).
    #[test]
    fn fast_layer_products_match_the_reference() {
        let (rows, n_in, n_out) = (37, 70, 45);
        let x: Vec<f64> = (0..rows * n_in).map(|i| (i as f64 * 0.013).sin()).collect();
        let w: Vec<f64> = (0..n_out * n_in)
            .map(|i| (i as f64 * 0.029).cos() * 0.3)
            .collect();
        let b: Vec<f64> = (0..n_out).map(|i| i as f64 * 0.01).collect();
        let delta: Vec<f64> = (0..rows * n_out)
            .map(|i| (i as f64 * 0.071).sin())
            .collect();
        let close = |p: &[f64], q: &[f64]| {
            assert_eq!(p.len(), q.len());
            let worst = p
                .iter()
                .zip(q)
                .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
                .fold(0.0, f64::max);
            assert!(worst < 1e-12, "{worst:e}");
        };
        let (mut a_ref, mut a_fast) = (vec![0.0; rows * n_out], vec![0.0; rows * n_out]);
        kernels::affine(&x, &w, &b, &mut a_ref, n_in, n_out);
        let mut pack = Packs::default();
        super::affine(&x, &w, &b, &mut pack, &mut a_fast, n_in, n_out);
        close(&a_ref, &a_fast);
        let (mut gw_ref, mut gb_ref) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        let (mut gw_fast, mut gb_fast) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        kernels::grad_params(&delta, &x, &mut gw_ref, &mut gb_ref, n_in, n_out, 0.5);
        super::grad_params(
            &delta,
            &x,
            &mut gw_fast,
            &mut gb_fast,
            n_in,
            n_out,
            0.5,
            &mut pack,
        );
        close(&gw_ref, &gw_fast);
        close(&gb_ref, &gb_fast);
        let (mut gx_ref, mut gx_fast) = (vec![0.0; rows * n_in], vec![0.0; rows * n_in]);
        kernels::grad_input(&delta, &w, &mut gx_ref, n_in, n_out);
        super::grad_input(&delta, &w, &mut gx_fast, n_in, n_out, &mut pack);
        close(&gx_ref, &gx_fast);
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    /// Split over two threads, a large product gives the same bits as on one.
    #[test]
    fn two_threads_give_identical_bits() {
        let (m, n, k) = (70, 300, 130);
        assert!(m * n * k >= PARALLEL_MIN);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let g = Gemm {
            m,
            n,
            k,
            a: &a,
            rsa: k,
            csa: 1,
            b: &b,
            ldb: n,
            b_trans: false,
        };
        let (mut one, mut two) = (vec![0.0; m * n], vec![0.0; m * n]);
        let mut packs = Packs::default();
        crate::layer::ensure_len(&mut packs.0[0], KC * NR);
        // SAFETY: `one` is m x n with row stride n; the operands match the shape.
        unsafe { dispatch(g, one.as_mut_ptr(), n, false, &mut packs.0[0]) };
        crate::set_num_threads(2);
        gemm(g, &mut two, n, false, &mut packs);
        crate::set_num_threads(1);
        assert_eq!(one, two);
    }
}
