use super::Elementwise;
use crate::Float;

/// The Heaviside step of Rosenblatt's threshold logic unit.
///
/// `phi(x) = 1` if `x > 0`, else `0`. Its derivative is `0` everywhere except
/// at `0`, where it does not exist, so `Step` deliberately does not implement
/// [`Derivative`](super::Derivative): a network that contains it can be built
/// by hand and run forward (the book's XOR network) but not trained.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Step;

impl<F: Float> Elementwise<F> for Step {
    const NAME: &'static str = "step";
    #[inline(always)]
    fn phi(&self, x: F) -> F {
        if x > F::zero() { F::one() } else { F::zero() }
    }
    fn saturated(&self, _x: F, _fx: F) -> bool {
        true
    }
}
