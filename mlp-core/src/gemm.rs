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
use std::sync::atomic::{AtomicUsize, Ordering};

const MR: usize = 6;

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
    /// Multiplies the finished `C` by this factor as it is stored (the
    /// `1 / rows` of a gradient), saving a pass over `C`.
    pub scale: Option<F>,
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
        scale: _,
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
    crate::layer::ensure_len(pack0, KC * F::NR);
    if crate::pool::num_threads() > 1 && m * n * k >= PARALLEL_MIN {
        let next = AtomicUsize::new(0);
        crate::layer::ensure_len(pack1, KC * F::NR);
        // Both threads claim blocks of C from `next` until none are left, so
        // a thread that runs slower (its operands in the other core's cache,
        // say) simply does fewer. Blocks never overlap, and each is computed
        // by one thread in the same order, so the bits do not depend on the
        // thread count.
        let helper = Helper {
            g,
            c: SendPtr(c.as_mut_ptr()),
            ldc,
            accumulate,
            pack: SendPtr(pack1.as_mut_ptr()),
            pack_len: pack1.len(),
            next: &next,
        };
        let c_ptr = helper.c;
        crate::pool::join(
            // SAFETY: bounds checked above; blocks are claimed by one thread each.
            || unsafe { dispatch(g, c_ptr.0, ldc, accumulate, pack0, Some(&next)) },
            &|| helper.run(),
        );
        return;
    }
    // SAFETY: bounds checked above.
    unsafe { dispatch(g, c.as_mut_ptr(), ldc, accumulate, pack0, None) };
}

/// A raw pointer that may cross to the worker thread.
#[derive(Clone, Copy)]
struct SendPtr<F>(*mut F);
// SAFETY: the threads write disjoint blocks of C through it (see `Helper`).
unsafe impl<F> Send for SendPtr<F> {}
// SAFETY: as above.
unsafe impl<F> Sync for SendPtr<F> {}

/// The pool worker's share of a product: it claims blocks of `C` from `next`
/// as the calling thread does, and packs into its own panel `pack`; `join`
/// keeps everything alive until it is done.
struct Helper<'a, F> {
    g: Gemm<'a, F>,
    c: SendPtr<F>,
    ldc: usize,
    accumulate: bool,
    pack: SendPtr<F>,
    pack_len: usize,
    next: &'a AtomicUsize,
}

// SAFETY: see the struct's docs; `Gemm` holds shared slices of `F: Sync`.
unsafe impl<F: Sync> Sync for Helper<'_, F> {}

impl<F: Float> Helper<'_, F> {
    fn run(&self) {
        // SAFETY: the worker's panel is a live `Vec` of this length that only it uses.
        let pack = unsafe { std::slice::from_raw_parts_mut(self.pack.0, self.pack_len) };
        // SAFETY: bounds were checked for the whole product; each block of C
        // is claimed by exactly one thread.
        unsafe {
            dispatch(
                self.g,
                self.c.0,
                self.ldc,
                self.accumulate,
                pack,
                Some(self.next),
            )
        };
    }
}

/// Chooses the AVX2 + FMA kernels when the CPU has them.
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
    next: Option<&AtomicUsize>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features; bounds are the caller's promise.
            unsafe { blocked::<F, true>(g, c, ldc, accumulate, pack, next) };
            return;
        }
    }
    // SAFETY: the caller's promise.
    unsafe { blocked::<F, false>(g, c, ldc, accumulate, pack, next) };
}

/// Most rows of a packed block of `A`: its `MC x KC` elements (the size of
/// the stack buffer they are packed into) stay in L2 while every packed
/// panel of `B` passes over them.
const MC: usize = 96;

/// The blocked product. `C` is cut into even row blocks (at most 258 rows
/// when `A` is read in place, `MC` when it is packed) and column panels of
/// `NR`, and `k` into steps of `KC`. One step of one block packs the
/// block's part of `A` when `A` is packed (into L2), then for each
/// panel packs a `KC x NR` panel of `B` (into L1) and multiplies every
/// `MR`-row tile of the block by it. Alone (`next` is `None`), the steps of
/// `k` are outermost, so each part of `A` stays in L2 while every panel
/// passes over it. Shared, the threads claim units of one row block by a run
/// of panels from `next` and take each through all of `k`. Either way every
/// element of `C` sees the steps of `k` in order, so the bits are the same.
///
/// # Safety
/// The operands must hold every index the shape and strides imply (checked
/// by [`gemm`]), `pack` must hold `KC * F::NR` elements, and the blocks
/// claimed from `next` must be written by no other thread.
unsafe fn blocked<F: Float, const SIMD: bool>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
    next: Option<&AtomicUsize>,
) {
    let Gemm { m, n, k, csa, .. } = g;
    if k == 0 {
        // Only one thread clears C.
        if !accumulate && next.is_none_or(|n| n.fetch_add(1, Ordering::Relaxed) == 0) {
            for i in 0..m {
                // SAFETY: row i < m of C, n <= ldc columns.
                unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), n) }.fill(F::zero());
            }
        }
        return;
    }
    if csa != 1 {
        // SAFETY: the caller's promise; the scratch holds MC x KC.
        with_a_scratch(|apack| unsafe {
            blocks::<F, SIMD>(g, c, ldc, accumulate, pack, next, Some(apack))
        });
    } else {
        // SAFETY: the caller's promise.
        unsafe { blocks::<F, SIMD>(g, c, ldc, accumulate, pack, next, None) };
    }
}

/// Runs `f` with scratch for `MC x KC` elements on this function's stack
/// (96 KiB in `f32`), into which [`blocks`] packs `A` when it is read with a
/// column stride (the transposed `delta` of a weight gradient). Its rows are
/// adjacent, so a tile's column is a few elements from each cache line, and
/// with a stride that is a multiple of 512 floats all of a tile's lines fall
/// in at most two sets of L1; packed, a tile reads one contiguous run. Kept
/// out of line so products that read `A` in place do not reserve the buffer.
#[inline(never)]
fn with_a_scratch<F: Float>(f: impl FnOnce(*mut F)) {
    let mut scratch = [const { std::mem::MaybeUninit::<F>::uninit() }; MC * KC];
    f(scratch.as_mut_ptr().cast());
}

/// The loops of [`blocked`] for `k > 0`; `apack`, when given, is scratch for
/// `MC x KC` elements into which each block's part of `A` is packed.
///
/// # Safety
/// As for [`blocked`].
#[inline(always)]
unsafe fn blocks<F: Float, const SIMD: bool>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
    next: Option<&AtomicUsize>,
    apack: Option<*mut F>,
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
        scale,
    } = g;
    let nr = F::NR;
    let panels = n.div_ceil(nr);
    // A is cut into even row blocks (whole tiles) of at most MC rows when
    // packed, and 258 when read in place, so each panel of B is packed once
    // per block and step of k (258 x KC of A still fits in L2).
    let most = if apack.is_some() { MC } else { 258 };
    let mc_max = m.div_ceil(m.div_ceil(most)).div_ceil(MR) * MR;
    let row_blocks = m.div_ceil(mc_max);
    // One step of k for one row block and a run of its column panels: pack
    // the block's part of A once (if packing), then for each panel pack the
    // panel of B and run every tile of the block against it.
    let mut step = |ib: usize, panel_run: std::ops::Range<usize>, k0: usize| {
        let i0 = ib * mc_max;
        let mc = mc_max.min(m - i0);
        let kc = KC.min(k - k0);
        if let Some(apack) = apack {
            // SAFETY: rows i0..i0 + mc <= m and columns k0..k0 + kc <= k
            // lie within A; apack holds MC x KC >= mc x kc.
            unsafe { pack_a(a.as_ptr(), rsa, csa, i0, mc, k0, kc, apack) };
        }
        // The first step of k writes C (or adds to it when accumulating); later steps add.
        let add = accumulate || k0 > 0;
        for jp in panel_run {
            let j0 = jp * nr;
            let width = nr.min(n - j0);
            // SAFETY: the panel lies within B (rows k0..k0+kc, columns j0..j0+width).
            unsafe { pack_panel::<F, SIMD>(b, ldb, b_trans, k0, kc, j0, width, nr, pack) };
            for (t, i) in (i0..i0 + mc).step_by(MR).enumerate() {
                // Tile t of the packed block, or row i, column k0 of A in place.
                let (ta, trsa, tcsa) = match apack {
                    Some(p) => (p.wrapping_add(t * MR * kc).cast_const(), 1, MR),
                    None => (a.as_ptr().wrapping_add(i * rsa + k0 * csa), rsa, csa),
                };
                let tile = Tile {
                    kc,
                    a: ta,
                    rsa: trsa,
                    csa: tcsa,
                    // SAFETY: row i < m, column j0 < n of C.
                    c: unsafe { c.add(i * ldc + j0) },
                    ldc,
                    rows: MR.min(m - i),
                    width,
                    add,
                    // The last step of k finishes C.
                    scale: if k0 + kc == k { scale } else { None },
                };
                // SAFETY: the tile lies within A (or its packed copy) and C
                // (checked by `gemm`), and the panel holds kc rows of NR.
                unsafe { F::tile::<SIMD>(pack.as_ptr(), &tile) };
            }
        }
    };
    let Some(next) = next else {
        // Alone: k outermost, so each block's part of A stays in L2 while
        // every panel of B passes over it.
        for k0 in (0..k).step_by(KC) {
            for ib in 0..row_blocks {
                step(ib, 0..panels, k0);
            }
        }
        return;
    };
    // Shared: the threads claim units of one row block by a run of its
    // panels, about eight units in all, and take each through all of k.
    let run_len = panels.div_ceil(8usize.div_ceil(row_blocks).min(panels));
    let runs = panels.div_ceil(run_len);
    loop {
        let unit = next.fetch_add(1, Ordering::Relaxed);
        if unit >= row_blocks * runs {
            return;
        }
        let (ib, jr) = (unit / runs, unit % runs);
        let panel_run = jr * run_len..panels.min((jr + 1) * run_len);
        for k0 in (0..k).step_by(KC) {
            step(ib, panel_run.clone(), k0);
        }
    }
}

/// Copies rows `i0..i0 + mc`, columns `k0..k0 + kc` of `A` into `out` as
/// tiles of `MR` rows, each `kc x MR` (column `p` of the tile's rows at
/// `p * MR`), the order the kernel reads them in. Rows past the last real
/// one of a short tile are left unwritten: the kernel never reads them.
///
/// # Safety
/// The block must lie within `A` at its strides, and `out` must hold `MC x KC`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_a<F: Float>(
    a: *const F,
    rsa: usize,
    csa: usize,
    i0: usize,
    mc: usize,
    k0: usize,
    kc: usize,
    out: *mut F,
) {
    for (t, i) in (i0..i0 + mc).step_by(MR).enumerate() {
        let rows = MR.min(i0 + mc - i);
        // SAFETY: tile t of at most MC / MR holds kc x MR.
        let dst = unsafe { out.add(t * MR * kc) };
        if rsa == 1 && rows == MR {
            // A transposed (delta^T): each column of the tile is MR adjacent elements.
            for p in 0..kc {
                // SAFETY: rows i..i + MR of column k0 + p lie within A.
                unsafe {
                    let v = a.add(i + (k0 + p) * csa).cast::<[F; MR]>().read_unaligned();
                    dst.add(p * MR).cast::<[F; MR]>().write_unaligned(v);
                }
            }
        } else {
            for r in 0..rows {
                // SAFETY: row i + r < m, columns k0..k0 + kc <= k.
                let src = unsafe { a.add((i + r) * rsa + k0 * csa) };
                for p in 0..kc {
                    // SAFETY: as above; p < kc.
                    unsafe { *dst.add(p * MR + r) = *src.add(p * csa) };
                }
            }
        }
    }
}

/// Copies `B[k0..k0+kc, j0..j0+width]` into `pack` as `kc` rows of `nr`,
/// padding columns past `width` with zeros (a transposed `B` is transposed
/// here, inside the small panel).
///
/// # Safety
/// The block must lie within `b` for the given layout.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_panel<F: Float, const SIMD: bool>(
    b: &[F],
    ldb: usize,
    b_trans: bool,
    k0: usize,
    kc: usize,
    j0: usize,
    width: usize,
    nr: usize,
    pack: &mut [F],
) {
    let bp = b.as_ptr();
    let pack = &mut pack[..kc * nr];
    if b_trans {
        if width == nr {
            // SAFETY: the panel's nr columns of B each hold kc elements from k0.
            unsafe { F::pack_transposed::<SIMD>(bp.add(j0 * ldb + k0), ldb, kc, pack) };
            return;
        }
        pack.fill(F::zero());
        // SAFETY: columns j0..j0 + width < n of B each hold rows k0..k0 + kc <= k.
        unsafe { transpose_into(bp.add(j0 * ldb + k0), ldb, kc, width, nr, pack) };
    } else if width == nr {
        // SAFETY: rows k0..k0 + kc of B hold columns j0..j0 + nr.
        unsafe { F::pack_rows(bp.add(k0 * ldb + j0), ldb, kc, pack) };
    } else {
        for (p, dst) in pack.chunks_exact_mut(nr).enumerate() {
            // SAFETY: row k0 + p < k, columns j0..j0 + width <= n.
            let src = unsafe { std::slice::from_raw_parts(bp.add((k0 + p) * ldb + j0), width) };
            dst[..width].copy_from_slice(src);
            dst[width..].fill(F::zero());
        }
    }
}

/// One `MR x NR` tile of `C`: `kc` steps of `A` (strided) against a packed
/// panel of `B`. Only the first `rows` rows and `width` columns are stored.
pub struct Tile<F> {
    kc: usize,
    a: *const F,
    rsa: usize,
    csa: usize,
    c: *mut F,
    ldc: usize,
    rows: usize,
    width: usize,
    add: bool,
    scale: Option<F>,
}

/// The register tile each float type uses, with its inner kernels.
///
/// `f32` holds a 6 x 16 tile of `C` (twelve 8-lane registers), `f64` a 6 x 8
/// tile (twelve 4-lane registers): the shape of BLIS's Haswell kernels.
pub trait Kernel: Copy + 'static {
    /// Columns of the register tile (and of a packed panel of `B`).
    #[doc(hidden)]
    const NR: usize;

    /// Computes one tile (see [`Tile`]); `SIMD` selects the AVX2 + FMA kernel.
    ///
    /// # Safety
    /// `panel` holds `kc x NR` elements, `A` holds rows `0..rows` and columns
    /// `0..kc` at its strides, `C` holds `rows x width` at row stride `ldc`,
    /// and `SIMD` is only set when the CPU has AVX2 and FMA.
    #[doc(hidden)]
    unsafe fn tile<const SIMD: bool>(panel: *const Self, t: &Tile<Self>);

    /// Packs a full panel of `B`: `kc` rows of `NR` elements, `ld` apart.
    ///
    /// # Safety
    /// `b` addresses `kc` rows of `NR` elements at stride `ld`, and `pack`
    /// holds `kc x NR`.
    #[doc(hidden)]
    unsafe fn pack_rows(b: *const Self, ld: usize, kc: usize, pack: &mut [Self]);

    /// Packs a full panel of a transposed `B`: `NR` rows of `kc` elements,
    /// `ld` apart, become `kc` rows of `NR` in `pack`.
    ///
    /// # Safety
    /// `b` addresses `NR` rows of `kc` elements at stride `ld`, `pack` holds
    /// `kc x NR`, and `SIMD` is only set when the CPU has AVX2 and FMA.
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn pack_transposed<const SIMD: bool>(
        b: *const Self,
        ld: usize,
        kc: usize,
        pack: &mut [Self],
    ) {
        // SAFETY: the caller's promise.
        unsafe { transpose_into(b, ld, kc, Self::NR, Self::NR, pack) }
    }
}

impl Kernel for f32 {
    const NR: usize = 16;
    #[inline(always)]
    unsafe fn pack_rows(b: *const Self, ld: usize, kc: usize, pack: &mut [Self]) {
        // SAFETY: the caller's promise.
        unsafe { copy_rows::<f32, 16>(b, ld, kc, pack) }
    }
    #[inline(always)]
    unsafe fn tile<const SIMD: bool>(panel: *const Self, t: &Tile<Self>) {
        #[cfg(target_arch = "x86_64")]
        if SIMD {
            // SAFETY: the caller's promise, including the CPU features.
            unsafe { x86::tile_f32(panel, t) };
            return;
        }
        // SAFETY: the caller's promise.
        unsafe { tile_generic::<f32, 16>(panel, t) }
    }
    #[inline(always)]
    unsafe fn pack_transposed<const SIMD: bool>(
        b: *const Self,
        ld: usize,
        kc: usize,
        pack: &mut [Self],
    ) {
        #[cfg(target_arch = "x86_64")]
        if SIMD {
            // SAFETY: the caller's promise, including the CPU features.
            unsafe { x86::pack_transposed_f32(b, ld, kc, pack) };
            return;
        }
        // SAFETY: the caller's promise.
        unsafe { transpose_into(b, ld, kc, 16, 16, pack) }
    }
}

impl Kernel for f64 {
    const NR: usize = 8;
    #[inline(always)]
    unsafe fn pack_rows(b: *const Self, ld: usize, kc: usize, pack: &mut [Self]) {
        // SAFETY: the caller's promise.
        unsafe { copy_rows::<f64, 8>(b, ld, kc, pack) }
    }
    #[inline(always)]
    unsafe fn tile<const SIMD: bool>(panel: *const Self, t: &Tile<Self>) {
        #[cfg(target_arch = "x86_64")]
        if SIMD {
            // SAFETY: the caller's promise, including the CPU features.
            unsafe { x86::tile_f64(panel, t) };
            return;
        }
        // SAFETY: the caller's promise.
        unsafe { tile_generic::<f64, 8>(panel, t) }
    }
}

/// Writes `width` rows of `kc` elements, `ld` apart, into `pack` as the
/// first `width` columns of `kc` rows of `nr`, element by element.
///
/// # Safety
/// `b` addresses `width` rows of `kc` elements at stride `ld`, and `pack`
/// holds `kc x nr` with `width <= nr`.
#[inline(always)]
unsafe fn transpose_into<F: Copy>(
    b: *const F,
    ld: usize,
    kc: usize,
    width: usize,
    nr: usize,
    pack: &mut [F],
) {
    for jj in 0..width {
        // SAFETY: row jj < width holds kc elements.
        let col = unsafe { std::slice::from_raw_parts(b.add(jj * ld), kc) };
        for (dst, &v) in pack[jj..].iter_mut().step_by(nr).zip(col) {
            *dst = v;
        }
    }
}

/// Copies `kc` rows of `NR` elements, `ld` apart, into `pack` back to back;
/// fixed-size copies, so no call to `memcpy` per row.
///
/// # Safety
/// As for [`Kernel::pack_rows`].
#[inline(always)]
unsafe fn copy_rows<F: Copy, const NR: usize>(b: *const F, ld: usize, kc: usize, pack: &mut [F]) {
    for (p, dst) in pack[..kc * NR].chunks_exact_mut(NR).enumerate() {
        let dst: &mut [F; NR] = dst.try_into().expect("NR wide");
        // SAFETY: row p < kc holds NR elements.
        *dst = unsafe { b.add(p * ld).cast::<[F; NR]>().read_unaligned() };
    }
}

/// Row pointers of a tile's `A`, with rows past `rows` aliased to the last
/// real row: they compute values that are never stored.
#[inline(always)]
fn a_rows<F>(t: &Tile<F>) -> [*const F; MR] {
    std::array::from_fn(|r| t.a.wrapping_add(r.min(t.rows - 1) * t.rsa))
}

/// Stores (or adds) the first `rows x width` of a register tile held as rows
/// of `NR` elements.
///
/// # Safety
/// As for [`Kernel::tile`].
#[inline(always)]
unsafe fn store<F: Float, const NR: usize>(acc: &[[F; NR]; MR], t: &Tile<F>) {
    for (r, acc) in acc.iter().enumerate().take(t.rows) {
        // SAFETY: row r < rows of the tile, `width` columns.
        let crow = unsafe { std::slice::from_raw_parts_mut(t.c.add(r * t.ldc), t.width) };
        if t.add {
            crow.iter_mut().zip(acc).for_each(|(c, &v)| *c += v);
        } else {
            crow.copy_from_slice(&acc[..t.width]);
        }
        if let Some(s) = t.scale {
            crow.iter_mut().for_each(|c| *c *= s);
        }
    }
}

/// The portable kernel: plain Rust over arrays, which the compiler vectorises.
///
/// # Safety
/// As for [`Kernel::tile`].
#[inline(always)]
unsafe fn tile_generic<F: Float, const NR: usize>(panel: *const F, t: &Tile<F>) {
    let rows = a_rows(t);
    let mut acc = [[F::zero(); NR]; MR];
    for p in 0..t.kc {
        // SAFETY: p < kc rows of NR in the panel.
        let brow = unsafe { &*panel.add(p * NR).cast::<[F; NR]>() };
        for (acc, row) in acc.iter_mut().zip(rows) {
            // SAFETY: column p < kc of a real row of A.
            let av = unsafe { *row.add(p * t.csa) };
            for (acc, &bv) in acc.iter_mut().zip(brow) {
                *acc = av * bv + *acc;
            }
        }
    }
    // SAFETY: the caller's promise.
    unsafe { store(&acc, t) }
}

/// The AVX2 + FMA kernels, written with intrinsics so the twelve accumulators
/// stay in registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MR, Tile, a_rows, store};
    use std::arch::x86_64::*;

    /// Asks for the tile's rows of `C` (first and last element of each) to
    /// be brought into L1 while the products run, so adding to them at the
    /// end does not wait on L2 or L3.
    #[inline(always)]
    fn prefetch_c<F>(t: &Tile<F>) {
        for r in 0..t.rows {
            let row = t.c.wrapping_add(r * t.ldc);
            crate::simd::prefetch(row);
            crate::simd::prefetch(row.wrapping_add(t.width - 1));
        }
    }

    /// The 6 x 16 `f32` tile.
    ///
    /// # Safety
    /// As for [`super::Kernel::tile`] with `SIMD` set.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_f32(panel: *const f32, t: &Tile<f32>) {
        let rows = a_rows(t);
        prefetch_c(t);
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let mut b = panel;
        let mut off = 0;
        for _ in 0..t.kc {
            // SAFETY: the panel holds kc rows of 16; `off` is column p of A.
            unsafe {
                let b0 = _mm256_loadu_ps(b);
                let b1 = _mm256_loadu_ps(b.add(8));
                for (acc, row) in acc.iter_mut().zip(rows) {
                    let av = _mm256_broadcast_ss(&*row.add(off));
                    acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
                }
                b = b.add(16);
            }
            off += t.csa;
        }
        if t.rows == MR && t.width == 16 {
            for (r, acc) in acc.iter().enumerate() {
                // SAFETY: a full tile: row r, 16 columns of C.
                unsafe {
                    let c = t.c.add(r * t.ldc);
                    let (mut c0, mut c1) = (acc[0], acc[1]);
                    if t.add {
                        c0 = _mm256_add_ps(c0, _mm256_loadu_ps(c));
                        c1 = _mm256_add_ps(c1, _mm256_loadu_ps(c.add(8)));
                    }
                    if let Some(s) = t.scale {
                        c0 = _mm256_mul_ps(c0, _mm256_set1_ps(s));
                        c1 = _mm256_mul_ps(c1, _mm256_set1_ps(s));
                    }
                    _mm256_storeu_ps(c, c0);
                    _mm256_storeu_ps(c.add(8), c1);
                }
            }
        } else {
            let mut out = [[0.0f32; 16]; MR];
            for (out, acc) in out.iter_mut().zip(&acc) {
                // SAFETY: `out` rows hold 16 floats.
                unsafe {
                    _mm256_storeu_ps(out.as_mut_ptr(), acc[0]);
                    _mm256_storeu_ps(out.as_mut_ptr().add(8), acc[1]);
                }
            }
            // SAFETY: the caller's promise.
            unsafe { store(&out, t) }
        }
    }

    /// Packs 16 rows of `kc` floats (`ld` apart) as `kc` rows of 16, by 8 x 8
    /// register transposes; a tail of `kc % 8` is copied element by element.
    ///
    /// # Safety
    /// As for [`super::Kernel::pack_transposed`] with `SIMD` set.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn pack_transposed_f32(
        b: *const f32,
        ld: usize,
        kc: usize,
        pack: &mut [f32],
    ) {
        assert!(pack.len() >= kc * 16);
        let out = pack.as_mut_ptr();
        let body = kc / 8 * 8;
        for half in 0..2 {
            for p in (0..body).step_by(8) {
                // SAFETY: rows 8 * half .. 8 * half + 8 < 16 hold kc > p + 7
                // elements; the stores land in rows p..p + 8 of the pack.
                unsafe {
                    let row = |r: usize| _mm256_loadu_ps(b.add((8 * half + r) * ld + p));
                    let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                    let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
                    let t0 = _mm256_unpacklo_ps(r0, r1);
                    let t1 = _mm256_unpackhi_ps(r0, r1);
                    let t2 = _mm256_unpacklo_ps(r2, r3);
                    let t3 = _mm256_unpackhi_ps(r2, r3);
                    let t4 = _mm256_unpacklo_ps(r4, r5);
                    let t5 = _mm256_unpackhi_ps(r4, r5);
                    let t6 = _mm256_unpacklo_ps(r6, r7);
                    let t7 = _mm256_unpackhi_ps(r6, r7);
                    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                    let dst = |q: usize| out.add((p + q) * 16 + 8 * half);
                    _mm256_storeu_ps(dst(0), _mm256_permute2f128_ps::<0x20>(u0, u4));
                    _mm256_storeu_ps(dst(1), _mm256_permute2f128_ps::<0x20>(u1, u5));
                    _mm256_storeu_ps(dst(2), _mm256_permute2f128_ps::<0x20>(u2, u6));
                    _mm256_storeu_ps(dst(3), _mm256_permute2f128_ps::<0x20>(u3, u7));
                    _mm256_storeu_ps(dst(4), _mm256_permute2f128_ps::<0x31>(u0, u4));
                    _mm256_storeu_ps(dst(5), _mm256_permute2f128_ps::<0x31>(u1, u5));
                    _mm256_storeu_ps(dst(6), _mm256_permute2f128_ps::<0x31>(u2, u6));
                    _mm256_storeu_ps(dst(7), _mm256_permute2f128_ps::<0x31>(u3, u7));
                }
            }
        }
        for jj in 0..16 {
            for p in body..kc {
                // SAFETY: row jj < 16 holds kc elements; the pack holds kc x 16.
                unsafe { *out.add(p * 16 + jj) = *b.add(jj * ld + p) };
            }
        }
    }

    /// The 6 x 8 `f64` tile.
    ///
    /// # Safety
    /// As for [`super::Kernel::tile`] with `SIMD` set.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_f64(panel: *const f64, t: &Tile<f64>) {
        let rows = a_rows(t);
        prefetch_c(t);
        let mut acc = [[_mm256_setzero_pd(); 2]; MR];
        let mut b = panel;
        let mut off = 0;
        for _ in 0..t.kc {
            // SAFETY: the panel holds kc rows of 8; `off` is column p of A.
            unsafe {
                let b0 = _mm256_loadu_pd(b);
                let b1 = _mm256_loadu_pd(b.add(4));
                for (acc, row) in acc.iter_mut().zip(rows) {
                    let av = _mm256_broadcast_sd(&*row.add(off));
                    acc[0] = _mm256_fmadd_pd(av, b0, acc[0]);
                    acc[1] = _mm256_fmadd_pd(av, b1, acc[1]);
                }
                b = b.add(8);
            }
            off += t.csa;
        }
        let mut out = [[0.0f64; 8]; MR];
        for (out, acc) in out.iter_mut().zip(&acc) {
            // SAFETY: `out` rows hold 8 doubles.
            unsafe {
                _mm256_storeu_pd(out.as_mut_ptr(), acc[0]);
                _mm256_storeu_pd(out.as_mut_ptr().add(4), acc[1]);
            }
        }
        // SAFETY: the caller's promise.
        unsafe { store(&out, t) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `f32` kernels (the AVX2 tile and the register-transposing pack
    /// where the CPU has them) against the definition in `f64`, for full
    /// and partial panels, depths with and without a tail of `k % 8`, and
    /// several blocks of `k`.
    #[test]
    fn f32_kernels_match_the_definition() {
        for (m, n, k) in [
            (7, 35, 37),
            (13, 16, 8),
            (6, 48, 600),
            (64, 128, 784),
            (5, 3, 9),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let bt: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.11).cos()).collect();
            let g = Gemm {
                m,
                n,
                k,
                a: &a,
                rsa: k,
                csa: 1,
                b: &bt,
                ldb: k,
                b_trans: true,
                scale: None,
            };
            let mut c = vec![0.0f32; m * n];
            gemm(g, &mut c, n, false, &mut Packs::default());
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| f64::from(a[i * k + p]) * f64::from(bt[j * k + p]))
                        .sum();
                    let got = f64::from(c[i * n + j]);
                    assert!(
                        (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                        "{m}x{n}x{k} at ({i}, {j}): {got} vs {want}"
                    );
                }
            }
        }
    }

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
            // Two row blocks of A in place (260 rows); two or three packed
            // blocks of the transposed A, with a short last tile; two
            // steps of k (300, 257).
            (200, 17, 300),
            (260, 20, 5),
            (101, 33, 257),
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
                scale: None,
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
                    scale: None,
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
        scale: None,
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
        scale: Some(scale),
    };
    gemm(g, gw, n_in, false, packs);
    gb.fill(F::zero());
    for d in delta.chunks_exact(n_out) {
        gb.iter_mut().zip(d).for_each(|(g, &d)| *g += d);
    }
    gb.iter_mut().for_each(|g| *g *= scale);
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
        scale: None,
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
        kernels::affine::<_, 70, 45>(&x, &w, &b, &mut a_ref);
        let mut pack = Packs::default();
        super::affine(&x, &w, &b, &mut pack, &mut a_fast, n_in, n_out);
        close(&a_ref, &a_fast);
        let (mut gw_ref, mut gb_ref) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        let (mut gw_fast, mut gb_fast) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        kernels::grad_params::<_, 70, 45>(&delta, &x, &mut gw_ref, &mut gb_ref, 0.5);
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
        kernels::grad_input::<_, 70, 45>(&delta, &w, &mut gx_ref);
        super::grad_input(&delta, &w, &mut gx_fast, n_in, n_out, &mut pack);
        close(&gx_ref, &gx_fast);
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    /// Split over two threads, a large product gives the same bits as on one:
    /// several row blocks, steps of k and column panels (the last one
    /// partial), with the gradient's scale.
    ///
    /// Covers A read in place (one row block, then several) and A packed
    /// (the transposed `delta` of a weight gradient).
    #[test]
    fn two_threads_give_identical_bits() {
        for (m, n, k, transposed) in [
            (200, 300, 600, false),
            (300, 200, 600, false),
            (300, 200, 600, true),
        ] {
            assert!(m * n * k >= PARALLEL_MIN);
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let (rsa, csa) = if transposed { (1, m) } else { (k, 1) };
            let g = Gemm {
                m,
                n,
                k,
                a: &a,
                rsa,
                csa,
                b: &b,
                ldb: n,
                b_trans: false,
                scale: Some(0.25),
            };
            let (mut one, mut two) = (vec![0.0; m * n], vec![0.0; m * n]);
            let mut packs = Packs::default();
            crate::layer::ensure_len(&mut packs.0[0], KC * f32::NR);
            // SAFETY: `one` is m x n with row stride n; the operands match the shape.
            unsafe { dispatch(g, one.as_mut_ptr(), n, false, &mut packs.0[0], None) };
            crate::set_num_threads(2);
            gemm(g, &mut two, n, false, &mut packs);
            crate::set_num_threads(1);
            assert_eq!(one, two, "{m}x{n}x{k}, transposed A: {transposed}");
        }
    }
}
