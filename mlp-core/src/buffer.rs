//! Cache-line-aligned float buffers: the layers' working memory.

use crate::Float;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// Bytes in a cache line on the CPUs the engine targets.
const LINE: usize = 64;

/// One cache line of storage.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; LINE]);

/// A growable buffer of `F` whose first element starts a 64-byte cache line,
/// used for parameters, gradients, activations and packed panels.
///
/// A `Vec<F>` is only aligned to `F`, and the system allocator commonly
/// returns blocks 16 bytes past a line. Aligned to the line:
/// - a 64-byte AVX-512 load of a packed panel reads one cache line, not two;
/// - when two threads write adjacent blocks of a product (columns 0-63 and
///   64-127 of a 128-wide row, say), the boundary falls between lines, so no
///   line is written by both cores, and none moves between them at every
///   block (false sharing). Measured on W3 and W4 on two threads: 8-11%
///   faster (interleaved medians; see benches/README).
///
/// Derefs to `[F]`. Grows with [`ensure_len`](Self::ensure_len), which never
/// shrinks it, so a steady state allocates nothing.
#[derive(Clone)]
pub(crate) struct Buffer<F> {
    lines: Vec<Line>,
    len: usize,
    _f: PhantomData<F>,
}

impl<F: Float> Buffer<F> {
    /// Elements per cache line.
    const PER_LINE: usize = LINE / size_of::<F>();

    /// An empty buffer (allocates nothing).
    pub(crate) const fn new() -> Self {
        Buffer {
            lines: Vec::new(),
            len: 0,
            _f: PhantomData,
        }
    }

    /// `len` zeros.
    pub(crate) fn zeros(len: usize) -> Self {
        let mut buf = Self::new();
        buf.ensure_len(len);
        buf
    }

    /// A copy of `values`.
    #[cfg(test)]
    pub(crate) fn from_slice(values: &[F]) -> Self {
        let mut buf = Self::zeros(values.len());
        buf.copy_from_slice(values);
        buf
    }

    /// Grows to at least `len` elements, the new ones zero; never shrinks, so
    /// steady-state training reuses the memory.
    #[inline]
    pub(crate) fn ensure_len(&mut self, len: usize) {
        if self.len < len {
            // All-zero bits are 0.0 in both float types.
            self.lines
                .resize(len.div_ceil(Self::PER_LINE), Line([0; LINE]));
            self.len = len;
        }
    }
}

impl<F: Float> Default for Buffer<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Deref for Buffer<F> {
    type Target = [F];
    #[inline(always)]
    fn deref(&self) -> &[F] {
        // SAFETY: the lines hold at least `len` initialised `F` (every bit
        // pattern of the lines was written as zeros or as an `F`), and a
        // line's alignment (64) is a multiple of `F`'s.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<F>(), self.len) }
    }
}

impl<F: Float> DerefMut for Buffer<F> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [F] {
        // SAFETY: as for `deref`, and `&mut self` is unique.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<F>(), self.len) }
    }
}

impl<F: Float> fmt::Debug for Buffer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_a_cache_line_grows_with_zeros_and_never_shrinks() {
        let mut b = Buffer::<f32>::from_slice(&[1.0, 2.0, 3.0]);
        assert_eq!(&b[..], &[1.0, 2.0, 3.0]);
        b.ensure_len(40);
        assert_eq!(b.len(), 40);
        assert_eq!(b.as_ptr() as usize % LINE, 0);
        assert_eq!(&b[..3], &[1.0, 2.0, 3.0]);
        assert!(b[3..].iter().all(|&v| v == 0.0));
        b.ensure_len(5);
        assert_eq!(b.len(), 40);
        let d = Buffer::<f64>::zeros(9);
        assert_eq!(d.as_ptr() as usize % LINE, 0);
        assert_eq!(&d[..], &[0.0; 9]);
        assert!(Buffer::<f64>::new().is_empty());
    }
}
