//! The x86-64 kernels, written with intrinsics so the accumulators stay in
//! registers: AVX2 + FMA (twelve 8-lane accumulators, the shape of BLIS's
//! Haswell kernels) and AVX-512F (sixteen 16-lane accumulators).
//!
//! Both fuse each multiply-add and take `k` in the same order, so they give
//! the same bits; the AVX-512 tile does twice the work per instruction.

use super::{Micro, Tile, a_rows, store};
use std::arch::x86_64::*;

/// The AVX2 + FMA kernels: 6 x 16 in `f32`, 6 x 8 in `f64`.
pub struct Avx2;

/// The AVX-512F kernels: 8 x 32 in `f32`, 8 x 16 in `f64`.
pub struct Avx512;

impl Micro<f32> for Avx2 {
    const MR: usize = 6;
    const NR: usize = 16;
    #[inline(always)]
    unsafe fn tile(panel: *const f32, t: &Tile<f32>) {
        // SAFETY: the caller's promise, including the CPU features.
        unsafe { tile_f32_avx2(panel, t) }
    }
    #[inline(always)]
    unsafe fn pack_transposed(b: *const f32, ld: usize, kc: usize, pack: &mut [f32]) {
        // SAFETY: the caller's promise, including the CPU features.
        unsafe { pack_transposed_f32::<16>(b, ld, kc, pack) }
    }
}

impl Micro<f64> for Avx2 {
    const MR: usize = 6;
    const NR: usize = 8;
    #[inline(always)]
    unsafe fn tile(panel: *const f64, t: &Tile<f64>) {
        // SAFETY: the caller's promise, including the CPU features.
        unsafe { tile_f64_avx2(panel, t) }
    }
}

impl Micro<f32> for Avx512 {
    const MR: usize = 8;
    const NR: usize = 32;
    #[inline(always)]
    unsafe fn tile(panel: *const f32, t: &Tile<f32>) {
        // SAFETY: the caller's promise, including the CPU features.
        unsafe { tile_f32_avx512(panel, t) }
    }
    #[inline(always)]
    unsafe fn pack_transposed(b: *const f32, ld: usize, kc: usize, pack: &mut [f32]) {
        // SAFETY: the caller's promise; a CPU with AVX-512F that the engine
        // runs this kernel on also has AVX2 and FMA (`Isa::detected`).
        unsafe { pack_transposed_f32::<32>(b, ld, kc, pack) }
    }
}

impl Micro<f64> for Avx512 {
    const MR: usize = 8;
    const NR: usize = 16;
    #[inline(always)]
    unsafe fn tile(panel: *const f64, t: &Tile<f64>) {
        // SAFETY: the caller's promise, including the CPU features.
        unsafe { tile_f64_avx512(panel, t) }
    }
}

/// Asks for the tile's rows of `C` (every cache line of each) to be brought
/// into L1 while the products run, so adding to them at the end does not
/// wait on L2 or L3.
#[inline(always)]
fn prefetch_c<F>(t: &Tile<F>) {
    let per_line = 64 / size_of::<F>();
    for r in 0..t.rows {
        let row = t.c.wrapping_add(r * t.ldc);
        for j in (0..t.width).step_by(per_line) {
            crate::simd::prefetch(row.wrapping_add(j));
        }
        crate::simd::prefetch(row.wrapping_add(t.width - 1));
    }
}

/// The 6 x 16 `f32` tile with AVX2 + FMA.
///
/// # Safety
/// As for [`Micro::tile`]; the CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_f32_avx2(panel: *const f32, t: &Tile<f32>) {
    let rows = a_rows::<f32, 6>(t);
    prefetch_c(t);
    let mut acc = [[_mm256_setzero_ps(); 2]; 6];
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
    if t.rows == 6 && t.width == 16 {
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
        let mut out = [[0.0f32; 16]; 6];
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

/// The 6 x 8 `f64` tile with AVX2 + FMA.
///
/// # Safety
/// As for [`Micro::tile`]; the CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_f64_avx2(panel: *const f64, t: &Tile<f64>) {
    let rows = a_rows::<f64, 6>(t);
    prefetch_c(t);
    let mut acc = [[_mm256_setzero_pd(); 2]; 6];
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
    let mut out = [[0.0f64; 8]; 6];
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

/// The lanes of a 16-lane register that hold the first `width` columns.
#[inline(always)]
fn mask16(width: usize) -> __mmask16 {
    if width >= 16 {
        0xffff
    } else {
        ((1u32 << width) - 1) as __mmask16
    }
}

/// The 8 x 32 `f32` tile with AVX-512F. A short tile's columns are masked:
/// the masked-out lanes are neither loaded nor stored.
///
/// # Safety
/// As for [`Micro::tile`]; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn tile_f32_avx512(panel: *const f32, t: &Tile<f32>) {
    let rows = a_rows::<f32, 8>(t);
    prefetch_c(t);
    let mut acc = [[_mm512_setzero_ps(); 2]; 8];
    let mut b = panel;
    let mut off = 0;
    for _ in 0..t.kc {
        // SAFETY: the panel holds kc rows of 32; `off` is column p of A.
        unsafe {
            let b0 = _mm512_loadu_ps(b);
            let b1 = _mm512_loadu_ps(b.add(16));
            for (acc, row) in acc.iter_mut().zip(rows) {
                let av = _mm512_set1_ps(*row.add(off));
                acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
            }
            b = b.add(32);
        }
        off += t.csa;
    }
    let (m0, m1) = (mask16(t.width), mask16(t.width.saturating_sub(16)));
    for (r, acc) in acc.iter().enumerate().take(t.rows) {
        let c = t.c.wrapping_add(r * t.ldc);
        let (mut c0, mut c1) = (acc[0], acc[1]);
        // SAFETY: row r < rows of the tile; the masks cover its `width`
        // columns, and masked-out lanes are not accessed.
        unsafe {
            if t.add {
                c0 = _mm512_add_ps(c0, _mm512_maskz_loadu_ps(m0, c));
                c1 = _mm512_add_ps(c1, _mm512_maskz_loadu_ps(m1, c.wrapping_add(16)));
            }
            if let Some(s) = t.scale {
                c0 = _mm512_mul_ps(c0, _mm512_set1_ps(s));
                c1 = _mm512_mul_ps(c1, _mm512_set1_ps(s));
            }
            _mm512_mask_storeu_ps(c, m0, c0);
            _mm512_mask_storeu_ps(c.wrapping_add(16), m1, c1);
        }
    }
}

/// The lanes of an 8-lane register that hold the first `width` columns.
#[inline(always)]
fn mask8(width: usize) -> __mmask8 {
    if width >= 8 {
        0xff
    } else {
        ((1u32 << width) - 1) as __mmask8
    }
}

/// The 8 x 16 `f64` tile with AVX-512F (see [`tile_f32_avx512`]).
///
/// # Safety
/// As for [`Micro::tile`]; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn tile_f64_avx512(panel: *const f64, t: &Tile<f64>) {
    let rows = a_rows::<f64, 8>(t);
    prefetch_c(t);
    let mut acc = [[_mm512_setzero_pd(); 2]; 8];
    let mut b = panel;
    let mut off = 0;
    for _ in 0..t.kc {
        // SAFETY: the panel holds kc rows of 16; `off` is column p of A.
        unsafe {
            let b0 = _mm512_loadu_pd(b);
            let b1 = _mm512_loadu_pd(b.add(8));
            for (acc, row) in acc.iter_mut().zip(rows) {
                let av = _mm512_set1_pd(*row.add(off));
                acc[0] = _mm512_fmadd_pd(av, b0, acc[0]);
                acc[1] = _mm512_fmadd_pd(av, b1, acc[1]);
            }
            b = b.add(16);
        }
        off += t.csa;
    }
    let (m0, m1) = (mask8(t.width), mask8(t.width.saturating_sub(8)));
    for (r, acc) in acc.iter().enumerate().take(t.rows) {
        let c = t.c.wrapping_add(r * t.ldc);
        let (mut c0, mut c1) = (acc[0], acc[1]);
        // SAFETY: as in `tile_f32_avx512`.
        unsafe {
            if t.add {
                c0 = _mm512_add_pd(c0, _mm512_maskz_loadu_pd(m0, c));
                c1 = _mm512_add_pd(c1, _mm512_maskz_loadu_pd(m1, c.wrapping_add(8)));
            }
            if let Some(s) = t.scale {
                c0 = _mm512_mul_pd(c0, _mm512_set1_pd(s));
                c1 = _mm512_mul_pd(c1, _mm512_set1_pd(s));
            }
            _mm512_mask_storeu_pd(c, m0, c0);
            _mm512_mask_storeu_pd(c.wrapping_add(8), m1, c1);
        }
    }
}

/// Packs `NR` rows of `kc` floats (`ld` apart) as `kc` rows of `NR`, by
/// 8 x 8 register transposes; a tail of `kc % 8` is copied element by element.
///
/// # Safety
/// As for [`Micro::pack_transposed`]; the CPU has AVX2.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_transposed_f32<const NR: usize>(
    b: *const f32,
    ld: usize,
    kc: usize,
    pack: &mut [f32],
) {
    assert!(pack.len() >= kc * NR);
    let out = pack.as_mut_ptr();
    let body = kc / 8 * 8;
    for group in 0..NR / 8 {
        for p in (0..body).step_by(8) {
            // SAFETY: rows 8 * group .. 8 * group + 8 < NR hold kc > p + 7
            // elements; the stores land in rows p..p + 8 of the pack.
            unsafe {
                let row = |r: usize| _mm256_loadu_ps(b.add((8 * group + r) * ld + p));
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
                let dst = |q: usize| out.add((p + q) * NR + 8 * group);
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
    for jj in 0..NR {
        for p in body..kc {
            // SAFETY: row jj < NR holds kc elements; the pack holds kc x NR.
            unsafe { *out.add(p * NR + jj) = *b.add(jj * ld + p) };
        }
    }
}
