use super::{Elementwise, ElementwiseDerivative};
use crate::Float;
use crate::float::c;

/// `lambda` of SELU (Klambauer et al. 2017, eq. 14).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// `alpha` of SELU (Klambauer et al. 2017, eq. 14).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// The scaled ELU of self-normalising networks (Klambauer et al. 2017).
///
/// `phi(x) = lambda x` if `x > 0`, else `lambda alpha (e^x - 1)`;
/// `phi'(x) = lambda` if `x > 0`, else `lambda alpha e^x`, with
/// `lambda = 1.0507...` and `alpha = 1.6733...`. Pair it with LeCun normal
/// initialisation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Selu;

impl<F: Float> Elementwise<F> for Selu {
    const NAME: &'static str = "selu";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        let lambda = c::<F>(SELU_LAMBDA);
        if x > F::zero() {
            lambda * x
        } else {
            lambda * c::<F>(SELU_ALPHA) * x.exp_m1()
        }
    }
}

impl<F: Float> ElementwiseDerivative<F> for Selu {
    #[inline(always)]
    fn dphi(&self, x: F, _fx: F) -> F {
        let lambda = c::<F>(SELU_LAMBDA);
        if x > F::zero() {
            lambda
        } else {
            lambda * c::<F>(SELU_ALPHA) * x.vexp()
        }
    }
}
