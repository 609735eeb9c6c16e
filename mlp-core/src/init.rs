//! Weight initialisers: how the first weights are drawn.
//!
//! `fan_in` is the number of inputs of a layer, `fan_out` its number of
//! outputs. Biases start at zero, except in ReLU layers, where they start at
//! `0.1` (see [`Relu`](crate::Relu)). All draws come from the seeded RNG
//! passed in, so a seed fixes the network.

use crate::Float;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use std::fmt;

/// How to draw a layer's initial weights.
///
/// | variant | distribution | source |
/// |---|---|---|
/// | `XavierNormal` | `N(0, 2 / (fan_in + fan_out))` | Glorot & Bengio 2010 |
/// | `XavierUniform` | `U(-r, r)`, `r = sqrt(6 / (fan_in + fan_out))` | Glorot & Bengio 2010, eq. 16 |
/// | `HeNormal` | `N(0, 2 / fan_in)` | He et al. 2015 |
/// | `HeUniform` | `U(-r, r)`, `r = sqrt(6 / fan_in)` | He et al. 2015 |
/// | `LecunNormal` | `N(0, 1 / fan_in)` | LeCun et al. 1998 |
/// | `Normal(s)` | `N(0, s^2)` | |
/// | `Uniform(r)` | `U(-r, r)` | |
/// | `Zeros` | `0` (every unit identical: symmetry is never broken) | |
///
/// (The second argument of `N` is the variance.) Xavier suits sigmoid and
/// tanh layers, He suits ReLU-like layers, LeCun suits SELU. The default is
/// `XavierUniform`, as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Init {
    /// Glorot normal, standard deviation `sqrt(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// Glorot uniform on `[-r, r]`, `r = sqrt(6 / (fan_in + fan_out))`.
    #[default]
    XavierUniform,
    /// He (Kaiming) normal, standard deviation `sqrt(2 / fan_in)`.
    HeNormal,
    /// He uniform on `[-r, r]`, `r = sqrt(6 / fan_in)`.
    HeUniform,
    /// LeCun normal, standard deviation `sqrt(1 / fan_in)`.
    LecunNormal,
    /// Normal with mean 0 and the given standard deviation.
    Normal(f64),
    /// Uniform on `[-r, r]` for the given `r`.
    Uniform(f64),
    /// All zeros.
    Zeros,
}

impl Init {
    /// Draws one weight for a layer with the given fan-in and fan-out.
    ///
    /// Draws are made in `f64` and rounded, so an `f32` and an `f64` network
    /// built from the same seed start from the same weights.
    pub fn sample<F: Float, R: Rng + ?Sized>(
        self,
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) -> F {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let normal = |rng: &mut R, std: f64| -> f64 {
            let z: f64 = StandardNormal.sample(rng);
            std * z
        };
        let uniform = |rng: &mut R, r: f64| -> f64 { r * (2.0 * rng.random::<f64>() - 1.0) };
        F::from_f64(match self {
            Init::XavierNormal => normal(rng, (2.0 / (fi + fo)).sqrt()),
            Init::XavierUniform => uniform(rng, (6.0 / (fi + fo)).sqrt()),
            Init::HeNormal => normal(rng, (2.0 / fi).sqrt()),
            Init::HeUniform => uniform(rng, (6.0 / fi).sqrt()),
            Init::LecunNormal => normal(rng, (1.0 / fi).sqrt()),
            Init::Normal(s) => normal(rng, s),
            Init::Uniform(r) => uniform(rng, r),
            Init::Zeros => 0.0,
        })
    }

    /// The standard deviation of the weights this initialiser draws.
    pub fn std(self, fan_in: usize, fan_out: usize) -> f64 {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        match self {
            Init::XavierNormal | Init::XavierUniform => (2.0 / (fi + fo)).sqrt(),
            Init::HeNormal | Init::HeUniform => (2.0 / fi).sqrt(),
            Init::LecunNormal => (1.0 / fi).sqrt(),
            Init::Normal(s) => s,
            Init::Uniform(r) => r / 3f64.sqrt(),
            Init::Zeros => 0.0,
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Init::XavierNormal => f.write_str("xavier"),
            Init::XavierUniform => f.write_str("xavier_uniform"),
            Init::HeNormal => f.write_str("he"),
            Init::HeUniform => f.write_str("he_uniform"),
            Init::LecunNormal => f.write_str("lecun"),
            Init::Normal(s) => write!(f, "normal({s})"),
            Init::Uniform(r) => write!(f, "uniform({r})"),
            Init::Zeros => f.write_str("zeros"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    /// The empirical standard deviation of 20 000 draws is within 3% of the formula.
    #[test]
    fn sample_std_matches_formula() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for init in [
            Init::XavierNormal,
            Init::XavierUniform,
            Init::HeNormal,
            Init::HeUniform,
            Init::LecunNormal,
            Init::Normal(0.3),
            Init::Uniform(0.5),
        ] {
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| init.sample(50, 30, &mut rng)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let want = init.std(50, 30);
            assert!((std / want - 1.0).abs() < 0.03, "{init}: {std} vs {want}");
            assert!(mean.abs() < 0.05 * want, "{init}: mean {mean}");
        }
        assert_eq!(Init::Zeros.sample::<f32, _>(3, 3, &mut rng), 0.0);
    }
}
