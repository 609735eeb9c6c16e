//! The engine's matrix product, for users and for the benchmarks' roofline.

use crate::gemm::{Gemm, Isa, gemm};
use crate::{Error, Float, Result};
use ndarray::{ArrayView2, ArrayViewMut2};

/// `c = a . b` with the same register-blocked kernel the large layers use
/// (AVX-512 or AVX2 + FMA on x86-64 CPUs that have them; see [`kernel`]).
/// Panels of `b` are packed into a 32 KiB scratch buffer that each thread
/// allocates at its first product and keeps, so later calls allocate
/// nothing.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the shapes do not chain or `c` has the wrong
/// shape, and [`Error::InvalidConfig`] if an array is not in standard
/// (row-major, contiguous) layout.
pub fn matmul<F: Float>(
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    mut c: ArrayViewMut2<'_, F>,
) -> Result<()> {
    crate::dense::check_shape("inner dimension of b", a.ncols(), b.nrows())?;
    crate::dense::check_shape("rows of c", a.nrows(), c.nrows())?;
    crate::dense::check_shape("columns of c", b.ncols(), c.ncols())?;
    let layout =
        || Error::InvalidConfig("matmul needs arrays in standard (row-major) layout".into());
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let g = Gemm {
        m,
        n,
        k,
        a: a.as_slice().ok_or_else(layout)?,
        rsa: k,
        csa: 1,
        b: b.as_slice().ok_or_else(layout)?,
        ldb: n,
        b_trans: false,
        scale: None,
    };
    gemm(g, c.as_slice_mut().ok_or_else(layout)?, n, false);
    Ok(())
}

/// The matrix kernel the large products run on: `"avx512"` (an 8 x 32 `f32`
/// register tile, on x86-64 CPUs with AVX-512F), `"avx2"` (6 x 16, AVX2 and
/// FMA) or `"portable"` (plain Rust). The widest the CPU supports is chosen
/// at the first product; the environment variable `MLP_MAX_ISA` (`avx2` or
/// `portable`), read then, caps it, as `OPENBLAS_CORETYPE` does for
/// OpenBLAS, to compare kernels on one machine. The AVX-512 and AVX2
/// kernels give the same bits; the portable one rounds each multiply and
/// add separately.
pub fn kernel() -> &'static str {
    Isa::current().name()
}
