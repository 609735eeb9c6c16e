use super::{ElementLoss, Loss, first_bad_row};
use crate::{Error, Float, Result};

/// The perceptron criterion (Rosenblatt's hinge at zero), for targets in `{-1, +1}`.
///
/// `L = max(0, -y h)`, `dL/dh = -y` if `y h <= 0`, else `0`. Gradient descent
/// on it with an identity output is exactly Rosenblatt's rule: a misclassified
/// (or boundary) sample moves the weights by `eta y x`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hinge;

impl<F: Float> Loss<F> for Hinge {
    const NAME: &'static str = "hinge";
    fn check_targets(&self, y: &[F], width: usize) -> Result<()> {
        match first_bad_row(y, width, |v| v != F::one() && v != -F::one()) {
            Some(row) => Err(Error::InvalidTarget {
                row,
                reason: "hinge targets must be -1 or +1".into(),
            }),
            None => Ok(()),
        }
    }
}

impl<F: Float> ElementLoss<F> for Hinge {
    #[inline(always)]
    fn value(&self, h: F, y: F) -> F {
        (-y * h).max(F::zero())
    }
    #[inline(always)]
    fn grad(&self, h: F, y: F) -> F {
        if y * h <= F::zero() { -y } else { F::zero() }
    }
}
