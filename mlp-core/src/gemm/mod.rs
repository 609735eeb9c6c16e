//! A register-blocked matrix product for the layers' large products.
//!
//! Everything is `C (m x n) = A (m x k) . B (k x n)`, optionally added to C:
//! `A` is read through strides (element `(i, p)` at `a[i * rsa + p * csa]`),
//! so the transposed `delta` of the weight gradient needs no copy, and `B`
//! and `C` are row-major. The inner kernel keeps an `MR x NR` tile of `C` in
//! registers and streams through `k`, broadcasting one element of `A` and
//! loading one row segment of `B` per step. Three kernels share the blocking
//! and differ only in the tile and the instructions ([`Isa`]): a portable
//! one in plain Rust that the compiler vectorises, and on x86-64 an AVX2 +
//! FMA one (6 x 16 in `f32`) and an AVX-512 one (8 x 32), chosen at run time.
//!
//! Every kernel computes each element of `C` the same way: for each step of
//! `k` ([`KC`] deep) a fresh accumulator takes the products in order of `k`,
//! then is added to `C`. The AVX2 and AVX-512 kernels both fuse each
//! multiply-add (one rounding), so they give the same bits, and the results
//! do not depend on which of the two the CPU has (tested).
//!
//! `kernels.rs` keeps the plain loops as the reference; a test checks that
//! all agree.

use crate::Float;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

#[cfg(target_arch = "x86_64")]
mod x86;

/// Operands of one product (see the module docs).
#[derive(Clone, Copy)]
pub struct Gemm<'a, F> {
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

thread_local! {
    /// This thread's packed panel of `B`: `KC x MAX_NR` elements of either
    /// float type (32 KiB), allocated at the thread's first product and kept,
    /// as BLAS libraries keep their buffers. One per thread, not per layer,
    /// so it costs the same for a network of any depth, and a product
    /// allocates nothing after a thread's first.
    static PANEL: std::cell::RefCell<crate::buffer::Buffer<f64>> =
        const { std::cell::RefCell::new(crate::buffer::Buffer::new()) };
}

/// Runs `f` with this thread's panel scratch, `KC * F::MAX_NR` elements.
fn with_panel<F: Float, R>(f: impl FnOnce(&mut [F]) -> R) -> R {
    PANEL.with_borrow_mut(|panel| {
        let len = KC * F::MAX_NR;
        panel.ensure_len((len * size_of::<F>()).div_ceil(size_of::<f64>()));
        // SAFETY: the buffer holds at least `len` `F`s' worth of bytes, any
        // bit pattern is a valid float, and a line's alignment covers `F`'s.
        let pack = unsafe { std::slice::from_raw_parts_mut(panel.as_mut_ptr().cast::<F>(), len) };
        f(pack)
    })
}

/// Products with at least this many multiply-adds may be split over two threads.
const PARALLEL_MIN: usize = 1 << 20;

/// Depth of one block of `k`: a packed `KC x NR` panel of `B` (16 KiB in
/// `f32` for the AVX2 tile, 32 KiB for the AVX-512 one) stays in L1 while
/// every row tile of `A` streams past it. Every kernel uses the same depth,
/// so every kernel rounds the same way.
const KC: usize = 256;

/// The instruction sets the kernels are written for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust, vectorised by the compiler for the build's target.
    Portable = 1,
    /// x86-64 AVX2 + FMA: a 6 x 16 `f32` tile (6 x 8 in `f64`).
    Avx2 = 2,
    /// x86-64 AVX-512F: an 8 x 32 `f32` tile (8 x 16 in `f64`).
    Avx512 = 3,
}

/// The kernel in use, as an [`Isa`] discriminant; 0 until first asked.
static ISA: AtomicU8 = AtomicU8::new(0);

impl Isa {
    /// The widest kernel this CPU runs, unless the environment variable
    /// `MLP_MAX_ISA` (`portable`, `avx2` or `avx512`, read once) caps it, as
    /// OpenBLAS's `OPENBLAS_CORETYPE` and oneDNN's `ONEDNN_MAX_CPU_ISA` do:
    /// for comparing kernels on one machine. Results do not change with it,
    /// except on `portable`, which rounds every product separately.
    pub(crate) fn current() -> Isa {
        match ISA.load(Ordering::Relaxed) {
            1 => Isa::Portable,
            2 => Isa::Avx2,
            3 => Isa::Avx512,
            _ => {
                let cap = match std::env::var("MLP_MAX_ISA").as_deref() {
                    Ok("portable") => Isa::Portable,
                    Ok("avx2") => Isa::Avx2,
                    _ => Isa::Avx512,
                };
                let isa = Isa::detected().min(cap);
                ISA.store(isa as u8, Ordering::Relaxed);
                isa
            }
        }
    }

    /// The widest kernel the CPU supports.
    pub(crate) fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                return if has!("avx512f") {
                    Isa::Avx512
                } else {
                    Isa::Avx2
                };
            }
        }
        Isa::Portable
    }

    /// The name `MLP_MAX_ISA` takes for this kernel.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

/// `C = A B` (or `C += A B` when `accumulate`), with `C` row-major, row stride
/// `ldc`. Panels of `B` are packed into each thread's own scratch
/// (`PANEL`), so calls after a thread's first allocate nothing.
///
/// # Panics
/// If an operand is too short for the given shape and strides.
pub(crate) fn gemm<F: Float>(g: Gemm<'_, F>, c: &mut [F], ldc: usize, accumulate: bool) {
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
    let isa = Isa::current();
    if crate::pool::num_threads() > 1 && m * n * k >= PARALLEL_MIN {
        let next = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let c = SendPtr(c.as_mut_ptr());
        // The caller (side 0) takes the first half of the blocks of C and the
        // worker (side 1) the second, then each helps with what is left of
        // the other's (see `Share`). Blocks never overlap, and each is
        // computed by one thread in the same order, so the bits do not
        // depend on the thread count. Each thread packs into its own panel.
        let side = |side| {
            with_panel(|pack| {
                let share = Share { side, next: &next };
                // SAFETY: bounds checked above; each block of C is claimed
                // by exactly one thread, and `join` keeps the operands alive
                // until both sides are done.
                unsafe { F::blocked(isa, g, c.get(), ldc, accumulate, pack, Some(share)) }
            })
        };
        crate::pool::join(|| side(0), &|| side(1));
        return;
    }
    // SAFETY: bounds checked above.
    with_panel(|pack| unsafe { F::blocked(isa, g, c.as_mut_ptr(), ldc, accumulate, pack, None) });
}

/// A raw pointer that may cross to the worker thread.
#[derive(Clone, Copy)]
struct SendPtr<F>(*mut F);
// SAFETY: the threads write disjoint blocks of C through it (see `gemm`).
unsafe impl<F> Send for SendPtr<F> {}
// SAFETY: as above.
unsafe impl<F> Sync for SendPtr<F> {}

impl<F> SendPtr<F> {
    /// The pointer. A method, so a closure captures the whole `SendPtr`
    /// (which may cross threads), not its field (which may not).
    fn get(self) -> *mut F {
        self.0
    }
}

/// Most rows of a packed block of `A`: its `MC x KC` elements (the size of
/// the stack buffer they are packed into) stay in L2 while every packed
/// panel of `B` passes over them. A multiple of every kernel's `MR`.
const MC: usize = 96;

/// A register tile of `MR x NR` elements of `C` and the code that computes
/// it: one per instruction set and float type.
pub trait Micro<F: Float> {
    /// Rows of the register tile.
    const MR: usize;
    /// Columns of the register tile (and of a packed panel of `B`).
    const NR: usize;

    /// Computes one tile (see [`Tile`]).
    ///
    /// # Safety
    /// `panel` holds `kc x NR` elements, `A` holds rows `0..rows` and columns
    /// `0..kc` at its strides, `C` holds `rows x width` at row stride `ldc`,
    /// and the CPU supports the kernel's instructions.
    unsafe fn tile(panel: *const F, t: &Tile<F>);

    /// Packs a full panel of `B`: `kc` rows of `NR` elements, `ld` apart.
    ///
    /// # Safety
    /// `b` addresses `kc` rows of `NR` elements at stride `ld`, `pack` holds
    /// `kc x NR`, and the CPU supports the kernel's instructions.
    unsafe fn pack_rows(b: *const F, ld: usize, kc: usize, pack: &mut [F]) {
        // SAFETY: the caller's promise.
        unsafe { copy_rows(b, ld, kc, Self::NR, pack) }
    }

    /// Packs a full panel of a transposed `B`: `NR` rows of `kc` elements,
    /// `ld` apart, become `kc` rows of `NR` in `pack`.
    ///
    /// # Safety
    /// `b` addresses `NR` rows of `kc` elements at stride `ld`, `pack` holds
    /// `kc x NR`, and the CPU supports the kernel's instructions.
    unsafe fn pack_transposed(b: *const F, ld: usize, kc: usize, pack: &mut [F]) {
        // SAFETY: the caller's promise.
        unsafe { transpose_into(b, ld, kc, Self::NR, Self::NR, pack) }
    }
}

/// The kernels of each float type, chosen by instruction set.
pub trait Kernel: Copy + 'static {
    /// The widest `NR` of this type's kernels: a packed panel holds
    /// `KC x MAX_NR` elements.
    #[doc(hidden)]
    const MAX_NR: usize;

    /// [`blocked`] with this type's kernel for `isa`.
    ///
    /// # Safety
    /// As for [`blocked`], and the CPU supports `isa`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn blocked(
        isa: Isa,
        g: Gemm<'_, Self>,
        c: *mut Self,
        ldc: usize,
        accumulate: bool,
        pack: &mut [Self],
        share: Option<Share<'_>>,
    );
}

/// The portable kernel: a 6-row tile in plain Rust.
pub struct Portable;

impl Micro<f32> for Portable {
    const MR: usize = 6;
    const NR: usize = 16;
    #[inline(always)]
    unsafe fn tile(panel: *const f32, t: &Tile<f32>) {
        // SAFETY: the caller's promise.
        unsafe { tile_generic::<f32, 6, 16>(panel, t) }
    }
}

impl Micro<f64> for Portable {
    const MR: usize = 6;
    const NR: usize = 8;
    #[inline(always)]
    unsafe fn tile(panel: *const f64, t: &Tile<f64>) {
        // SAFETY: the caller's promise.
        unsafe { tile_generic::<f64, 6, 8>(panel, t) }
    }
}

/// Implements [`Kernel`] for a float type: one arm per instruction set.
macro_rules! kernel_for {
    ($f:ty, max_nr: $max_nr:literal) => {
        impl Kernel for $f {
            const MAX_NR: usize = $max_nr;
            #[inline]
            unsafe fn blocked(
                isa: Isa,
                g: Gemm<'_, Self>,
                c: *mut Self,
                ldc: usize,
                accumulate: bool,
                pack: &mut [Self],
                share: Option<Share<'_>>,
            ) {
                // SAFETY (each arm): the caller's promise, the CPU's support included.
                match isa {
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => unsafe {
                        blocked::<$f, x86::Avx512>(g, c, ldc, accumulate, pack, share)
                    },
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => unsafe {
                        blocked::<$f, x86::Avx2>(g, c, ldc, accumulate, pack, share)
                    },
                    _ => unsafe { blocked::<$f, Portable>(g, c, ldc, accumulate, pack, share) },
                }
            }
        }
    };
}

kernel_for!(f32, max_nr: 32);
kernel_for!(f64, max_nr: 16);

/// The blocked product. `C` is cut into even row blocks (at most 258 rows
/// when `A` is read in place, `MC` when it is packed) and column panels of
/// `NR`, and `k` into steps of `KC`. One step of one block packs the
/// block's part of `A` when `A` is packed (into L2), then for each
/// panel packs a `KC x NR` panel of `B` (into L1) and multiplies every
/// `MR`-row tile of the block by it. Alone (`share` is `None`), the steps of
/// `k` are outermost, so each part of `A` stays in L2 while every panel
/// passes over it. Shared, the threads claim units of one row block by a run
/// of panels (see [`Share`]) and take each through all of `k`. Either way
/// every element of `C` sees the steps of `k` in order, so the bits are the
/// same.
///
/// # Safety
/// The operands must hold every index the shape and strides imply (checked
/// by [`gemm`]), `pack` must hold `KC * M::NR` elements, the other thread
/// sharing the product (if any) must hold the other side of the same
/// `share`, and the CPU must support `M`'s instructions.
unsafe fn blocked<F: Float, M: Micro<F>>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
    share: Option<Share<'_>>,
) {
    let Gemm { m, n, k, csa, .. } = g;
    if k == 0 {
        // Only one thread clears C.
        if !accumulate && share.is_none_or(|s| s.side == 0) {
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
            blocks::<F, M>(g, c, ldc, accumulate, pack, share, Some(apack))
        });
    } else {
        // SAFETY: the caller's promise.
        unsafe { blocks::<F, M>(g, c, ldc, accumulate, pack, share, None) };
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
unsafe fn blocks<F: Float, M: Micro<F>>(
    g: Gemm<'_, F>,
    c: *mut F,
    ldc: usize,
    accumulate: bool,
    pack: &mut [F],
    share: Option<Share<'_>>,
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
    let (mr, nr) = (M::MR, M::NR);
    let panels = n.div_ceil(nr);
    // A is cut into even row blocks (whole tiles) of at most MC rows when
    // packed, and 258 when read in place, so each panel of B is packed once
    // per block and step of k (258 x KC of A still fits in L2).
    let most = if apack.is_some() { MC } else { 258 };
    let mc_max = m.div_ceil(m.div_ceil(most)).div_ceil(mr) * mr;
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
            unsafe { pack_a(a.as_ptr(), rsa, csa, i0, mc, k0, kc, mr, apack) };
        }
        // The first step of k writes C (or adds to it when accumulating); later steps add.
        let add = accumulate || k0 > 0;
        for jp in panel_run {
            let j0 = jp * nr;
            let width = nr.min(n - j0);
            // SAFETY: the panel lies within B (rows k0..k0+kc, columns j0..j0+width).
            unsafe { pack_panel::<F, M>(b, ldb, b_trans, k0, kc, j0, width, pack) };
            for (t, i) in (i0..i0 + mc).step_by(mr).enumerate() {
                // Tile t of the packed block, or row i, column k0 of A in place.
                let (ta, trsa, tcsa) = match apack {
                    Some(p) => (p.wrapping_add(t * mr * kc).cast_const(), 1, mr),
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
                    rows: mr.min(m - i),
                    width,
                    add,
                    // The last step of k finishes C.
                    scale: if k0 + kc == k { scale } else { None },
                };
                // SAFETY: the tile lies within A (or its packed copy) and C
                // (checked by `gemm`), and the panel holds kc rows of NR.
                unsafe { M::tile(pack.as_ptr(), &tile) };
            }
        }
    };
    let Some(share) = share else {
        // Alone: k outermost, so each block's part of A stays in L2 while
        // every panel of B passes over it.
        for k0 in (0..k).step_by(KC) {
            for ib in 0..row_blocks {
                step(ib, 0..panels, k0);
            }
        }
        return;
    };
    // Shared: units of one row block by a run of its panels, about eight in
    // all, each taken through all of k; this thread's half first.
    let run_len = panels.div_ceil(8usize.div_ceil(row_blocks).min(panels));
    let runs = panels.div_ceil(run_len);
    share.claim(row_blocks * runs, |unit| {
        let (ib, jr) = (unit / runs, unit % runs);
        let panel_run = jr * run_len..panels.min((jr + 1) * run_len);
        for k0 in (0..k).step_by(KC) {
            step(ib, panel_run.clone(), k0);
        }
    });
}

/// One thread's part in a product shared by two: `side` 0 is the caller,
/// 1 the worker. The units of work (blocks of `C`) are cut in two halves of
/// consecutive units; each thread claims the units of its own half in order
/// from that half's counter in `next`, then claims what is left of the
/// other half from its counter, so a thread that falls behind (its core
/// busy with the host's other work, say) is helped rather than waited for.
///
/// The halves keep each thread on the same blocks at every step: the first
/// half of a layer's neurons (columns of the forward product, rows of the
/// weight gradient) on the caller, the second on the worker, as the
/// optimiser's step and the batch gather split their work. A layer's
/// weights, gradients and activations then stay in the cache of the core
/// that uses them, instead of moving between cores at every product, as
/// they did when both threads claimed units from one counter (W3 on two
/// threads: 236k against 210k samples/s, interleaved medians of ten; see
/// benches/README).
#[derive(Clone, Copy)]
pub struct Share<'a> {
    side: usize,
    next: &'a [AtomicUsize; 2],
}

impl Share<'_> {
    /// Runs `f` on every unit in `0..units` this thread claims.
    #[inline(always)]
    fn claim(self, units: usize, mut f: impl FnMut(usize)) {
        let half = units.div_ceil(2);
        for side in [self.side, 1 - self.side] {
            let (start, end) = if side == 0 { (0, half) } else { (half, units) };
            loop {
                let unit = start + self.next[side].fetch_add(1, Ordering::Relaxed);
                if unit >= end {
                    break;
                }
                f(unit);
            }
        }
    }
}

/// Copies rows `i0..i0 + mc`, columns `k0..k0 + kc` of `A` into `out` as
/// tiles of `mr` rows, each `kc x mr` (column `p` of the tile's rows at
/// `p * mr`), the order the kernel reads them in. Rows past the last real
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
    mr: usize,
    out: *mut F,
) {
    /// Moves one column of a full tile of a transposed `A`: `MR` adjacent elements.
    ///
    /// # Safety
    /// `src` holds and `dst` has room for `MR` elements.
    #[inline(always)]
    unsafe fn column<F: Copy, const MR: usize>(src: *const F, dst: *mut F) {
        // SAFETY: the caller's promise.
        unsafe {
            dst.cast::<[F; MR]>()
                .write_unaligned(src.cast::<[F; MR]>().read_unaligned())
        }
    }
    for (t, i) in (i0..i0 + mc).step_by(mr).enumerate() {
        let rows = mr.min(i0 + mc - i);
        // SAFETY: tile t of at most MC / mr holds kc x mr.
        let dst = unsafe { out.add(t * mr * kc) };
        if rsa == 1 && rows == mr {
            // A transposed (delta^T): each column of the tile is mr adjacent elements.
            for p in 0..kc {
                // SAFETY: rows i..i + mr of column k0 + p lie within A.
                unsafe {
                    let (src, dst) = (a.add(i + (k0 + p) * csa), dst.add(p * mr));
                    match mr {
                        6 => column::<F, 6>(src, dst),
                        8 => column::<F, 8>(src, dst),
                        _ => std::ptr::copy_nonoverlapping(src, dst, mr),
                    }
                }
            }
        } else {
            for r in 0..rows {
                // SAFETY: row i + r < m, columns k0..k0 + kc <= k.
                let src = unsafe { a.add((i + r) * rsa + k0 * csa) };
                for p in 0..kc {
                    // SAFETY: as above; p < kc.
                    unsafe { *dst.add(p * mr + r) = *src.add(p * csa) };
                }
            }
        }
    }
}

/// Copies `B[k0..k0+kc, j0..j0+width]` into `pack` as `kc` rows of `M::NR`,
/// padding columns past `width` with zeros (a transposed `B` is transposed
/// here, inside the small panel).
///
/// # Safety
/// The block must lie within `b` for the given layout, and the CPU must
/// support `M`'s instructions.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_panel<F: Float, M: Micro<F>>(
    b: &[F],
    ldb: usize,
    b_trans: bool,
    k0: usize,
    kc: usize,
    j0: usize,
    width: usize,
    pack: &mut [F],
) {
    let nr = M::NR;
    let bp = b.as_ptr();
    let pack = &mut pack[..kc * nr];
    if b_trans {
        if width == nr {
            // SAFETY: the panel's nr columns of B each hold kc elements from k0.
            unsafe { M::pack_transposed(bp.add(j0 * ldb + k0), ldb, kc, pack) };
            return;
        }
        pack.fill(F::zero());
        // SAFETY: columns j0..j0 + width < n of B each hold rows k0..k0 + kc <= k.
        unsafe { transpose_into(bp.add(j0 * ldb + k0), ldb, kc, width, nr, pack) };
    } else if width == nr {
        // SAFETY: rows k0..k0 + kc of B hold columns j0..j0 + nr.
        unsafe { M::pack_rows(bp.add(k0 * ldb + j0), ldb, kc, pack) };
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

/// Copies `kc` rows of `nr` elements, `ld` apart, into `pack` back to back;
/// fixed-size copies for the kernels' widths, so no call to `memcpy` per row.
///
/// # Safety
/// As for [`Micro::pack_rows`].
#[inline(always)]
unsafe fn copy_rows<F: Copy>(b: *const F, ld: usize, kc: usize, nr: usize, pack: &mut [F]) {
    /// The rows at one fixed width.
    ///
    /// # Safety
    /// As for [`copy_rows`] with `nr = NR`.
    #[inline(always)]
    unsafe fn rows<F: Copy, const NR: usize>(b: *const F, ld: usize, kc: usize, pack: &mut [F]) {
        for (p, dst) in pack[..kc * NR].chunks_exact_mut(NR).enumerate() {
            let dst: &mut [F; NR] = dst.try_into().expect("NR wide");
            // SAFETY: row p < kc holds NR elements.
            *dst = unsafe { b.add(p * ld).cast::<[F; NR]>().read_unaligned() };
        }
    }
    // SAFETY (each arm): the caller's promise.
    match nr {
        8 => unsafe { rows::<F, 8>(b, ld, kc, pack) },
        16 => unsafe { rows::<F, 16>(b, ld, kc, pack) },
        32 => unsafe { rows::<F, 32>(b, ld, kc, pack) },
        _ => {
            for (p, dst) in pack[..kc * nr].chunks_exact_mut(nr).enumerate() {
                // SAFETY: row p < kc holds nr elements.
                dst.copy_from_slice(unsafe { std::slice::from_raw_parts(b.add(p * ld), nr) });
            }
        }
    }
}

/// Row pointers of a tile's `A`, with rows past `rows` aliased to the last
/// real row: they compute values that are never stored.
#[inline(always)]
fn a_rows<F, const MR: usize>(t: &Tile<F>) -> [*const F; MR] {
    std::array::from_fn(|r| t.a.wrapping_add(r.min(t.rows - 1) * t.rsa))
}

/// Stores (or adds) the first `rows x width` of a register tile held as rows
/// of `NR` elements.
///
/// # Safety
/// As for [`Micro::tile`].
#[inline(always)]
unsafe fn store<F: Float, const MR: usize, const NR: usize>(acc: &[[F; NR]; MR], t: &Tile<F>) {
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
/// As for [`Micro::tile`].
#[inline(always)]
unsafe fn tile_generic<F: Float, const MR: usize, const NR: usize>(panel: *const F, t: &Tile<F>) {
    let rows = a_rows::<F, MR>(t);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one product alone on the kernel for `isa` (which the CPU must
    /// run), into `c` of `m x n`.
    fn run_on<F: Float>(isa: Isa, g: Gemm<'_, F>, c: &mut [F], accumulate: bool) {
        assert!(isa <= Isa::detected() && c.len() == g.m * g.n);
        let mut pack = vec![F::zero(); KC * F::MAX_NR];
        // SAFETY: `c` is m x n with row stride n, the operands match the
        // shape, and the CPU runs `isa` (asserted).
        unsafe { F::blocked(isa, g, c.as_mut_ptr(), g.n, accumulate, &mut pack, None) };
    }

    /// Whether two results hold the same bits.
    fn same_bits<F: Float>(p: &[F], q: &[F]) -> bool {
        p.len() == q.len()
            && p.iter()
                .zip(q)
                .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
    }

    /// Every kernel this CPU runs, narrowest first.
    fn kernels() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|&isa| isa <= Isa::detected())
            .collect()
    }

    /// One float type through every kernel the CPU runs: each matches the
    /// definition (plain, accumulating, scaled; A read in place or packed
    /// from its transpose; B row-major or transposed), the fused kernels
    /// (AVX2 and AVX-512) give the same bits as each other, and `gemm`
    /// (which picks the kernel) gives the bits of the kernel it picks.
    fn kernels_agree<F: Float>(tolerance: f64) {
        let shapes = [
            // Edges: one element, k = 0 (C cleared), k = 1, short tiles for
            // both tile heights (6 and 8) and every panel width (8, 16, 32),
            // tails of k % 8.
            (1, 1, 1),
            (4, 16, 0),
            (9, 33, 1),
            (4, 16, 3),
            (5, 3, 9),
            (5, 17, 9),
            (9, 31, 5),
            (13, 16, 8),
            (3, 15, 20),
            (8, 48, 31),
            (7, 35, 37),
            // Several steps of k (600, 513, 300, 257), with a short last one.
            (6, 48, 600),
            (6, 35, 600),
            (17, 47, 513),
            (7, 33, 300),
            (13, 40, 257),
            // Two row blocks of A in place (260 rows); two or three packed
            // blocks of the transposed A, with a short last tile.
            (200, 17, 300),
            (200, 17, 30),
            (260, 20, 5),
            (101, 33, 257),
            // The products of W3: 64 x 784 -> 128 forward, 128 x 64 -> 784
            // weight gradient.
            (64, 128, 784),
            (128, 784, 64),
        ];
        for (m, n, k) in shapes {
            let a: Vec<F> = (0..m * k)
                .map(|i| F::from_f64((i as f64 * 0.37).sin()))
                .collect();
            let b: Vec<F> = (0..k * n)
                .map(|i| F::from_f64((i as f64 * 0.11).cos()))
                .collect();
            let at: Vec<F> = (0..k * m).map(|t| a[(t % m) * k + t / m]).collect();
            let bt: Vec<F> = (0..n * k).map(|t| b[(t % k) * n + t / k]).collect();
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
            let layouts = [
                plain,
                Gemm {
                    a: &at,
                    rsa: 1,
                    csa: m,
                    scale: Some(F::from_f64(0.25)),
                    ..plain
                },
                Gemm {
                    b: &bt,
                    ldb: k,
                    b_trans: true,
                    ..plain
                },
            ];
            for g in layouts {
                let want: Vec<f64> = (0..m * n)
                    .map(|ij| {
                        let (i, j) = (ij / n, ij % n);
                        let dot: f64 = (0..k)
                            .map(|p| (a[i * k + p].as_f64()) * b[p * n + j].as_f64())
                            .sum();
                        dot * g.scale.map_or(1.0, F::as_f64)
                    })
                    .collect();
                let mut fused: Option<(Isa, Vec<F>)> = None;
                for isa in kernels() {
                    let mut c = vec![F::from_f64(7.0); m * n];
                    run_on(isa, g, &mut c, false);
                    let mut twice = c.clone();
                    run_on(isa, g, &mut twice, true);
                    for (ij, &w) in want.iter().enumerate() {
                        let err = (c[ij].as_f64() - w).abs();
                        assert!(
                            err < tolerance * (1.0 + w.abs()),
                            "{isa:?} {m}x{n}x{k} at {ij}"
                        );
                        let sum = if g.scale.is_some() {
                            // Scaled: (c + ab) s, with c = ab s.
                            w * (1.0 + g.scale.map_or(1.0, F::as_f64))
                        } else {
                            2.0 * w
                        };
                        let err = (twice[ij].as_f64() - sum).abs();
                        assert!(
                            err < 2.0 * tolerance * (1.0 + sum.abs()),
                            "{isa:?} += {m}x{n}x{k}"
                        );
                    }
                    if isa == Isa::current() {
                        let mut through_gemm = vec![F::from_f64(7.0); m * n];
                        gemm(g, &mut through_gemm, n, false);
                        assert!(same_bits(&through_gemm, &c), "gemm() on {m}x{n}x{k}");
                    }
                    if isa == Isa::Portable {
                        continue;
                    }
                    match &fused {
                        None => fused = Some((isa, c)),
                        Some((first, bits)) => assert!(
                            same_bits(bits, &c),
                            "{first:?} and {isa:?} differ on {m}x{n}x{k}"
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn every_kernel_matches_the_definition_and_the_fused_ones_agree_bit_for_bit() {
        kernels_agree::<f32>(1e-4);
        kernels_agree::<f64>(1e-12);
    }
}

/// The dense layer's forward product `a = x W^T + b` through [`gemm`], reading
/// `W` transposed (each packed panel is transposed in cache).
pub(crate) fn affine<F: Float>(x: &[F], w: &[F], b: &[F], a: &mut [F], n_in: usize, n_out: usize) {
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
    gemm(g, a, n_out, true);
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
    gemm(g, gw, n_in, false);
    gb.fill(F::zero());
    for d in delta.chunks_exact(n_out) {
        gb.iter_mut().zip(d).for_each(|(g, &d)| *g += d);
    }
    gb.iter_mut().for_each(|g| *g *= scale);
}

/// `gx = delta W` through [`gemm`].
pub(crate) fn grad_input<F: Float>(delta: &[F], w: &[F], gx: &mut [F], n_in: usize, n_out: usize) {
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
    gemm(g, gx, n_in, false);
}

#[cfg(test)]
mod layer_tests {
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
        super::affine(&x, &w, &b, &mut a_fast, n_in, n_out);
        close(&a_ref, &a_fast);
        let (mut gw_ref, mut gb_ref) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        let (mut gw_fast, mut gb_fast) = (vec![0.0; n_out * n_in], vec![0.0; n_out]);
        kernels::grad_params::<_, 70, 45>(&delta, &x, &mut gw_ref, &mut gb_ref, 0.5);
        super::grad_params(&delta, &x, &mut gw_fast, &mut gb_fast, n_in, n_out, 0.5);
        close(&gw_ref, &gw_fast);
        close(&gb_ref, &gb_fast);
        let (mut gx_ref, mut gx_fast) = (vec![0.0; rows * n_in], vec![0.0; rows * n_in]);
        kernels::grad_input::<_, 70, 45>(&delta, &w, &mut gx_ref);
        super::grad_input(&delta, &w, &mut gx_fast, n_in, n_out);
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
            // SAFETY: `one` is m x n with row stride n; the operands match the
            // shape; the CPU runs the current kernel.
            with_panel(|pack| unsafe {
                f32::blocked(Isa::current(), g, one.as_mut_ptr(), n, false, pack, None)
            });
            crate::set_num_threads(2);
            gemm(g, &mut two, n, false);
            crate::set_num_threads(1);
            assert_eq!(one, two, "{m}x{n}x{k}, transposed A: {transposed}");
        }
    }
}
