use super::{Activation, Derivative};
use crate::Float;
use crate::float::c;

/// Softmax over each row, for mutually exclusive classes.
///
/// `phi_i(a) = e^{a_i} / sum_j e^{a_j}`, computed as `e^{a_i - max(a)} / ...`
/// so it never overflows. Its Jacobian is `d phi_i / d a_j = phi_i (1[i=j] - phi_j)`,
/// so backprop computes `delta_i = phi_i (g_i - sum_j phi_j g_j)`. Paired with
/// [`CrossEntropy`](crate::loss::CrossEntropy) the output delta is the fused
/// `y_hat - y`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Softmax;

impl<F: Float> Activation<F> for Softmax {
    const NAME: &'static str = "softmax";

    fn forward(&self, a: &[F], h: &mut [F], width: usize) {
        for (a, h) in a.chunks_exact(width).zip(h.chunks_exact_mut(width)) {
            let max = a.iter().copied().fold(F::neg_infinity(), F::max);
            let mut sum = F::zero();
            for (h, &a) in h.iter_mut().zip(a) {
                *h = (a - max).vexp();
                sum += *h;
            }
            let inv = F::one() / sum;
            for h in h.iter_mut() {
                *h *= inv;
            }
        }
    }

    fn saturated(&self, _a: F, h: F) -> bool {
        h > c(0.99)
    }
}

impl<F: Float> Derivative<F> for Softmax {
    fn backward_in_place(&self, _a: &[F], h: &[F], delta: &mut [F], width: usize) {
        // Row by row: the dot product reads the whole row of g before any
        // of it is overwritten.
        for (h, d) in h.chunks_exact(width).zip(delta.chunks_exact_mut(width)) {
            let dot: F = h.iter().zip(&*d).map(|(&h, &g)| h * g).sum();
            for (d, &h) in d.iter_mut().zip(h) {
                *d = h * (*d - dot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobian_vector_product_matches_central_differences() {
        let a = [0.3f64, -1.2, 2.0, 0.5];
        let g = [0.7f64, -0.4, 0.1, 1.3];
        let mut h = [0.0; 4];
        Softmax.forward(&a, &mut h, 4);
        let mut delta = [0.0; 4];
        Softmax.backward(&a, &h, &g, &mut delta, 4);
        let eps = 1e-6;
        for j in 0..4 {
            let (mut ap, mut am) = (a, a);
            ap[j] += eps;
            am[j] -= eps;
            let (mut hp, mut hm) = ([0.0; 4], [0.0; 4]);
            Softmax.forward(&ap, &mut hp, 4);
            Softmax.forward(&am, &mut hm, 4);
            let numeric: f64 = (0..4).map(|i| g[i] * (hp[i] - hm[i]) / (2.0 * eps)).sum();
            assert!(
                (numeric - delta[j]).abs() < 1e-9,
                "{j}: {numeric} vs {}",
                delta[j]
            );
        }
    }
}
