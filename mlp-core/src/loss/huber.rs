use super::{ElementLoss, Loss};
use crate::Float;
use crate::float::c;

/// The Huber loss (Huber 1964): quadratic near the target, linear far away.
///
/// With `r = h - y`: `L = 1/2 r^2` if `|r| <= d`, else `d (|r| - d/2)`;
/// `dL/dh = clamp(r, -d, d)`. Matches PyTorch's `HuberLoss(delta=d)` per
/// element (PyTorch then averages where this sums over outputs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Huber {
    /// The threshold `d` between the quadratic and the linear part.
    pub d: f64,
}

impl Huber {
    /// A Huber loss with threshold `d > 0`.
    pub const fn new(d: f64) -> Self {
        Self { d }
    }
}

impl Default for Huber {
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl<F: Float> Loss<F> for Huber {
    const NAME: &'static str = "huber";
    fn describe(&self) -> String {
        format!("huber({})", self.d)
    }
    fn validate(&self) -> Result<(), String> {
        if self.d > 0.0 && self.d.is_finite() {
            Ok(())
        } else {
            Err(format!(
                "the huber threshold d must be positive and finite, got {} \
                 (at d <= 0 the loss is no longer a loss: it goes negative or is flat)",
                self.d
            ))
        }
    }
}

impl<F: Float> ElementLoss<F> for Huber {
    #[inline(always)]
    fn value(&self, h: F, y: F) -> F {
        let (r, d) = ((h - y).abs(), c::<F>(self.d));
        if r <= d {
            c::<F>(0.5) * r * r
        } else {
            d * (r - c::<F>(0.5) * d)
        }
    }
    #[inline(always)]
    fn grad(&self, h: F, y: F) -> F {
        let d = c::<F>(self.d);
        (h - y).max(-d).min(d)
    }
}
