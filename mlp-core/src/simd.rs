//! Running a loop with the CPU's wider vectors when it has them.
//!
//! The crate is compiled for the baseline of its target (SSE2 on x86-64), so
//! a loop the compiler vectorises works on four `f32` at a time. On a CPU
//! with AVX2, the same loop runs compiled for eight: through [`wide`] for
//! the optimiser step and the finiteness checks, and through functions of
//! their own for the element-wise activations and the products of small
//! layers (see [`wide`] for why). The matrix kernels of `gemm` choose
//! their own instructions. [`has_avx2`] tells whether the CPU has it, and
//! [`prefetch`] is the one other CPU-specific hint the engine uses.

/// Runs `f` compiled with AVX2 when the CPU has it (x86-64), else as is.
///
/// The bits are the same either way: Rust never fuses a multiply and an add
/// unless asked (`mul_add`), and never reorders floating-point operations,
/// so the wider loop performs the same IEEE operations on the same values in
/// the same order. Only what `f`'s body inlines is widened: calls it makes to
/// functions that are not inlined run their baseline code.
///
/// A loop inside `f` may still come out scalar: the closure is optimised
/// for the baseline before it is inlined here, and a long loop body (an
/// `exp` per element) then stays one element at a time. The element-wise
/// maps and the batch kernels therefore have their own functions compiled
/// with AVX2, whose bodies hold the loops themselves (see
/// `activation::map_avx2` and `kernels::affine_avx2`); this wrapper serves
/// the short loops of the optimiser and of the data checks.
#[inline(always)]
pub(crate) fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2() {
            // SAFETY: the CPU has AVX2.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Whether the CPU has AVX2 (x86-64; `false` elsewhere). The detection is
/// cached by the standard library, so this is a load and a test.
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`wide`] when `worth` (a loop long enough to gain from the wider
/// vectors), else `f` as is: for a handful of elements the wider code runs
/// no faster and is larger.
#[inline(always)]
pub(crate) fn wide_if<R>(worth: bool, f: impl FnOnce() -> R) -> R {
    if worth { wide(f) } else { f() }
}

/// `f`, inlined into a function compiled with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Asks the CPU to bring the cache line holding `p` into L1 (`prefetcht0`
/// on x86-64; nothing elsewhere). A hint: it reads nothing and never
/// faults, so `p` may point anywhere.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints; it reads nothing and cannot fault.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
