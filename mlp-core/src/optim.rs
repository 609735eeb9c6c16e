//! Optimisers: how a gradient becomes a step.
//!
//! The update rules follow PyTorch's `torch.optim` so results can be compared
//! number for number.

use crate::Float;
use crate::layer::Moments;

/// Stochastic gradient descent, optionally with (Nesterov) momentum.
///
/// Plain: `w <- w - eta g`. With momentum `mu`:
/// `v <- mu v + g`, then `w <- w - eta v`, or with Nesterov
/// `w <- w - eta (g + mu v)` (Sutskever et al. 2013, as in `torch.optim.SGD`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate `eta`.
    pub lr: f64,
    /// Momentum `mu` (0 for plain SGD).
    pub momentum: f64,
    /// Use Nesterov's look-ahead form.
    pub nesterov: bool,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub const fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            nesterov: false,
        }
    }

    /// Adds heavy-ball momentum `mu`.
    pub const fn momentum(mut self, mu: f64) -> Self {
        self.momentum = mu;
        self
    }

    /// Switches the momentum to Nesterov's form.
    pub const fn nesterov(mut self) -> Self {
        self.nesterov = true;
        self
    }
}

impl Default for Sgd {
    /// `lr = 0.01`, no momentum (Keras' defaults).
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1).
///
/// `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`,
/// `w <- w - eta m_hat / (sqrt(v_hat) + eps)` with the bias corrections
/// `m_hat = m / (1 - b1^t)`, `v_hat = v / (1 - b2^t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Learning rate `eta`.
    pub lr: f64,
    /// Decay of the first moment, `b1`.
    pub beta1: f64,
    /// Decay of the second moment, `b2`.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
}

impl Adam {
    /// Adam with learning rate `lr` and the paper's other defaults.
    pub const fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl Default for Adam {
    /// `lr = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-8` (the paper's defaults).
    fn default() -> Self {
        Adam::new(0.001)
    }
}

/// The optimiser a training run uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// Stochastic gradient descent.
    Sgd(Sgd),
    /// Adam.
    Adam(Adam),
}

impl Default for Optimizer {
    fn default() -> Self {
        Optimizer::Sgd(Sgd::default())
    }
}

impl From<Sgd> for Optimizer {
    fn from(o: Sgd) -> Self {
        Optimizer::Sgd(o)
    }
}

impl From<Adam> for Optimizer {
    fn from(o: Adam) -> Self {
        Optimizer::Adam(o)
    }
}

impl Optimizer {
    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            Optimizer::Sgd(o) => o.lr,
            Optimizer::Adam(o) => o.lr,
        }
    }

    /// Whether `other` is the same rule with the same hyper-parameters,
    /// learning rate aside: then its state (velocity, moments, step count)
    /// carries over from one `fit` to the next.
    pub fn same_rule(&self, other: &Optimizer) -> bool {
        match (self, other) {
            (Optimizer::Sgd(a), Optimizer::Sgd(b)) => {
                a.momentum == b.momentum && a.nesterov == b.nesterov
            }
            (Optimizer::Adam(a), Optimizer::Adam(b)) => {
                a.beta1 == b.beta1 && a.beta2 == b.beta2 && a.eps == b.eps
            }
            _ => false,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite();
        match *self {
            Optimizer::Sgd(o) if !(ok(o.lr) && o.lr > 0.0) => {
                Err(format!("learning rate must be positive, got {}", o.lr))
            }
            Optimizer::Sgd(o) if !(0.0..1.0).contains(&o.momentum) => {
                Err(format!("momentum must be in [0, 1), got {}", o.momentum))
            }
            Optimizer::Sgd(o) if o.nesterov && o.momentum == 0.0 => {
                Err("Nesterov's form needs a momentum above 0 (as in torch.optim.SGD)".into())
            }
            Optimizer::Adam(o) if !(ok(o.lr) && o.lr > 0.0) => {
                Err(format!("learning rate must be positive, got {}", o.lr))
            }
            Optimizer::Adam(o) if !(0.0..1.0).contains(&o.beta1) => {
                Err(format!("Adam's beta1 must be in [0, 1), got {}", o.beta1))
            }
            Optimizer::Adam(o) if !(0.0..1.0).contains(&o.beta2) => {
                Err(format!("Adam's beta2 must be in [0, 1), got {}", o.beta2))
            }
            Optimizer::Adam(o) if !(ok(o.eps) && o.eps > 0.0) => Err(format!(
                "Adam's eps must be positive and finite, got {}",
                o.eps
            )),
            _ => Ok(()),
        }
    }

    /// Sizes the state for a parameter tensor of `len` values (first step only).
    pub(crate) fn prepare<F: Float>(&self, state: &mut Moments<F>, len: usize) {
        let (needs_m, needs_v) = match self {
            Optimizer::Sgd(o) => (o.momentum > 0.0, false),
            Optimizer::Adam(_) => (true, true),
        };
        if needs_m && state.m.len() != len {
            state.m = vec![F::zero(); len];
        }
        if needs_v && state.v.len() != len {
            state.v = vec![F::zero(); len];
        }
    }

    /// The update rule with its constants for the step at time `t` (from 1)
    /// with learning rate `lr`; computed once per step, then applied to every
    /// parameter tensor.
    pub(crate) fn rule<F: Float>(&self, lr: f64, t: u64) -> Rule<F> {
        let eta = F::from_f64(lr);
        match *self {
            Optimizer::Sgd(o) if o.momentum == 0.0 => Rule::Sgd(SgdRule { eta }),
            Optimizer::Sgd(o) => Rule::Momentum(MomentumRule {
                eta,
                mu: F::from_f64(o.momentum),
                nesterov: o.nesterov,
            }),
            Optimizer::Adam(o) => {
                let t = t.min(i32::MAX as u64) as i32;
                Rule::Adam(AdamRule {
                    eta,
                    b1: F::from_f64(o.beta1),
                    b2: F::from_f64(o.beta2),
                    c1: F::from_f64(1.0 / (1.0 - o.beta1.powi(t))),
                    c2: F::from_f64(1.0 / (1.0 - o.beta2.powi(t))),
                    eps: F::from_f64(o.eps),
                })
            }
        }
    }
}

/// One update rule: `(w', m', v')` from `(w, g, m, v)`, element by element.
/// This single definition serves both the finiteness check and the step;
/// each rule is its own type, so the loops below are compiled per rule and
/// carry no dispatch (they vectorise).
trait Update<F: Float>: Copy {
    /// The new weight and moments.
    fn apply(self, w: F, g: F, m: F, v: F) -> (F, F, F);

    /// Whether every updated weight would be finite. No early exit.
    #[inline(always)]
    fn all_finite(self, t: Tensors<'_, F>) -> bool {
        let z = F::zero();
        let mut ok = true;
        let Tensors { w, g, m, v } = t;
        // The closures here and below are forced inline: a loop is compiled
        // for AVX2 by `simd::wide` only if it is inlined into it.
        match (m.is_empty(), v.is_empty()) {
            (true, _) => in_groups(
                w.len(),
                #[inline(always)]
                |r| {
                    for (&w, &g) in w[r.clone()].iter().zip(&g[r]) {
                        ok &= self.apply(w, g, z, z).0.is_finite();
                    }
                },
            ),
            (false, true) => {
                for ((&w, &g), &m) in w.iter().zip(g).zip(&*m) {
                    ok &= self.apply(w, g, m, z).0.is_finite();
                }
            }
            (false, false) => {
                let mv = m.iter().zip(&*v);
                for ((&w, &g), (&m, &v)) in w.iter().zip(g).zip(mv) {
                    ok &= self.apply(w, g, m, v).0.is_finite();
                }
            }
        }
        ok
    }

    /// Applies the update in place.
    #[inline(always)]
    fn apply_all(self, t: Tensors<'_, F>) {
        let z = F::zero();
        let Tensors { w, g, m, v } = t;
        match (m.is_empty(), v.is_empty()) {
            (true, _) => in_groups(
                w.len(),
                #[inline(always)]
                |r| {
                    for (w, &g) in w[r.clone()].iter_mut().zip(&g[r]) {
                        *w = self.apply(*w, g, z, z).0;
                    }
                },
            ),
            (false, true) => {
                for ((w, &g), m) in w.iter_mut().zip(g).zip(m) {
                    (*w, *m, _) = self.apply(*w, g, *m, z);
                }
            }
            (false, false) => {
                let mv = m.iter_mut().zip(v);
                for ((w, &g), (m, v)) in w.iter_mut().zip(g).zip(mv) {
                    (*w, *m, *v) = self.apply(*w, g, *m, *v);
                }
            }
        }
    }
}

/// Calls `f` on consecutive ranges covering `0..n`. A long block is one
/// range, a loop the compiler vectorises and unrolls itself. A short block
/// goes in groups of eight, then at most one group of four, then single
/// indices: inlined, every call site sees a range of constant length, so a
/// layer of five parameters, say, still runs its first four values as one
/// vector operation where a plain loop would run all five one by one.
#[inline(always)]
fn in_groups(n: usize, mut f: impl FnMut(std::ops::Range<usize>)) {
    if n >= 64 {
        f(0..n);
        return;
    }
    let mut at = 0;
    while n - at >= 8 {
        f(at..at + 8);
        at += 8;
    }
    if n - at >= 4 {
        f(at..at + 4);
        at += 4;
    }
    while at < n {
        f(at..at + 1);
        at += 1;
    }
}

/// One parameter block as the update rules see it: values, gradients and
/// the moments (empty when the rule keeps none).
struct Tensors<'a, F> {
    w: &'a mut [F],
    g: &'a [F],
    m: &'a mut [F],
    v: &'a mut [F],
}

impl<'a, F> Tensors<'a, F> {
    fn new(w: &'a mut [F], g: &'a [F], state: &'a mut Moments<F>) -> Self {
        Tensors {
            w,
            g,
            m: &mut state.m,
            v: &mut state.v,
        }
    }

    /// The first `mid` elements and the rest.
    fn split(self, mid: usize) -> (Self, Self) {
        let cut = |x: &'a mut [F]| {
            if x.is_empty() {
                (&mut [][..], &mut [][..])
            } else {
                x.split_at_mut(mid)
            }
        };
        let (w0, w1) = self.w.split_at_mut(mid);
        let (g0, g1) = self.g.split_at(mid);
        let ((m0, m1), (v0, v1)) = (cut(self.m), cut(self.v));
        (
            Tensors {
                w: w0,
                g: g0,
                m: m0,
                v: v0,
            },
            Tensors {
                w: w1,
                g: g1,
                m: m1,
                v: v1,
            },
        )
    }
}

/// Runs `f` on `t`, or, for a large block with two threads on, on its two
/// halves at once (the second on the pool's worker); `true` if both calls
/// return `true`.
#[inline(always)]
fn halves<F: Float>(t: Tensors<'_, F>, f: impl Fn(Tensors<'_, F>) -> bool + Sync) -> bool {
    let n = t.w.len();
    if !crate::pool::halves_pay(n) {
        return f(t);
    }
    let (first, second) = t.split(n / 2);
    let (a, b) = crate::pool::both(first, second, f);
    a & b
}

/// `f(t)`, with the wider vectors for a block of at least 64 values
/// (see [`wide_if`](crate::simd::wide_if)).
#[inline(always)]
fn wide_if_long<F: Float>(t: Tensors<'_, F>, f: impl FnOnce(Tensors<'_, F>) -> bool) -> bool {
    crate::simd::wide_if(
        t.w.len() >= 64,
        #[inline(always)]
        || f(t),
    )
}

/// The rule of the step at hand.
#[derive(Clone, Copy)]
pub(crate) enum Rule<F> {
    Sgd(SgdRule<F>),
    Momentum(MomentumRule<F>),
    Adam(AdamRule<F>),
}

impl<F: Float> Rule<F> {
    /// Whether the step keeps every value of this tensor finite. Reads only,
    /// so a failed check leaves no trace (the block is borrowed mutably only
    /// to share the two-thread split with [`step`](Self::step)).
    #[inline]
    pub(crate) fn step_is_finite(self, w: &mut [F], g: &[F], state: &mut Moments<F>) -> bool {
        halves(Tensors::new(w, g, state), |t| {
            wide_if_long(
                t,
                #[inline(always)]
                |t| match self {
                    Rule::Sgd(r) => r.all_finite(t),
                    Rule::Momentum(r) => r.all_finite(t),
                    Rule::Adam(r) => r.all_finite(t),
                },
            )
        })
    }

    /// Applies the step to this tensor.
    #[inline]
    pub(crate) fn step(self, w: &mut [F], g: &[F], state: &mut Moments<F>) {
        halves(Tensors::new(w, g, state), |t| {
            wide_if_long(
                t,
                #[inline(always)]
                |t| {
                    match self {
                        Rule::Sgd(r) => r.apply_all(t),
                        Rule::Momentum(r) => r.apply_all(t),
                        Rule::Adam(r) => r.apply_all(t),
                    }
                    true
                },
            )
        });
    }
}

/// `w' = w - eta g`.
#[derive(Clone, Copy)]
pub(crate) struct SgdRule<F> {
    eta: F,
}

impl<F: Float> Update<F> for SgdRule<F> {
    #[inline(always)]
    fn apply(self, w: F, g: F, m: F, v: F) -> (F, F, F) {
        (w - self.eta * g, m, v)
    }
}

/// `m' = mu m + g`, `w' = w - eta m'` (Nesterov: `w' = w - eta (g + mu m')`).
#[derive(Clone, Copy)]
pub(crate) struct MomentumRule<F> {
    eta: F,
    mu: F,
    nesterov: bool,
}

impl<F: Float> Update<F> for MomentumRule<F> {
    #[inline(always)]
    fn apply(self, w: F, g: F, m: F, v: F) -> (F, F, F) {
        let m = self.mu * m + g;
        let step = if self.nesterov { g + self.mu * m } else { m };
        (w - self.eta * step, m, v)
    }
}

/// Adam with bias corrections `c1 = 1 / (1 - b1^t)`, `c2 = 1 / (1 - b2^t)`.
#[derive(Clone, Copy)]
pub(crate) struct AdamRule<F> {
    eta: F,
    b1: F,
    b2: F,
    c1: F,
    c2: F,
    eps: F,
}

impl<F: Float> Update<F> for AdamRule<F> {
    #[inline(always)]
    fn apply(self, w: F, g: F, m: F, v: F) -> (F, F, F) {
        let m = self.b1 * m + (F::one() - self.b1) * g;
        let v = self.b2 * v + (F::one() - self.b2) * g * g;
        (
            w - self.eta * (m * self.c1) / ((v * self.c2).sqrt() + self.eps),
            m,
            v,
        )
    }
}

/// How the learning rate changes from epoch to epoch (`epoch` counts from 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Schedule {
    /// `eta_e = eta_0`.
    #[default]
    Constant,
    /// Step decay: `eta_e = eta_0 gamma^floor(e / every)`.
    Step {
        /// Epochs between decays.
        every: usize,
        /// Factor per decay.
        gamma: f64,
    },
    /// Exponential decay: `eta_e = eta_0 gamma^e`.
    Exponential {
        /// Factor per epoch.
        gamma: f64,
    },
    /// 1/t decay: `eta_e = eta_0 / (1 + k e)`.
    InverseTime {
        /// Decay rate `k`.
        k: f64,
    },
}

impl Schedule {
    /// Checks the parameters: a decay factor in `(0, 1]`, a step of at least
    /// one epoch, a finite non-negative `k`.
    ///
    /// # Errors
    /// What is wrong, in words (a negative `gamma` would flip the sign of
    /// every other epoch's rate and climb the loss).
    pub fn validate(&self) -> Result<(), String> {
        let decay = |gamma: f64| {
            if gamma > 0.0 && gamma <= 1.0 {
                Ok(())
            } else {
                Err(format!(
                    "a schedule's decay factor gamma must be in (0, 1], got {gamma}"
                ))
            }
        };
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every: 0, .. } => {
                Err("a step schedule must decay every 1 or more epochs, got 0".into())
            }
            Schedule::Step { gamma, .. } | Schedule::Exponential { gamma } => decay(gamma),
            Schedule::InverseTime { k } if !(k >= 0.0 && k.is_finite()) => Err(format!(
                "an inverse-time schedule's k must be finite and non-negative, got {k}"
            )),
            Schedule::InverseTime { .. } => Ok(()),
        }
    }

    /// The learning rate in epoch `epoch` (from 0) for base rate `lr0`.
    pub fn lr(&self, lr0: f64, epoch: usize) -> f64 {
        let e = epoch as f64;
        match *self {
            Schedule::Constant => lr0,
            Schedule::Step { every, gamma } => lr0 * gamma.powf((epoch / every.max(1)) as f64),
            Schedule::Exponential { gamma } => lr0 * gamma.powf(e),
            Schedule::InverseTime { k } => lr0 / (1.0 + k * e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two steps on `w = [1, -2]` with constant gradient `[0.5, -1]`,
    /// reference values from torch.optim (PyTorch 2.x):
    ///
    /// ```python
    /// import torch
    /// for opt in [lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ///             lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    ///             lambda p: torch.optim.Adam(p, lr=0.1)]:
    ///     w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    ///     o = opt([w])
    ///     for _ in range(2):
    ///         w.grad = torch.tensor([0.5, -1.0], dtype=torch.float64); o.step()
    ///     print(w.tolist())
    /// ```
    /// Momentum: `v1 = g, v2 = 1.9 g`, so `w2 = w - 0.1 * 2.9 g`.
    /// Nesterov: steps `1.9 g` then `g + 0.9 * 1.9 g = 2.71 g`, so `w2 = w - 0.1 * 4.61 g`.
    /// Adam with a constant gradient: `m_hat = g`, `v_hat = g^2`, each step is
    /// `0.1 g / (|g| + 1e-8)`, so `w2 = w - 0.2 sign(g)` (to 1e-8).
    #[test]
    fn matches_torch_optim_rules() {
        let g = [0.5f64, -1.0];
        let run = |opt: Optimizer| {
            let mut w = [1.0f64, -2.0];
            let mut s = Moments::default();
            opt.prepare(&mut s, 2);
            for t in 1..=2 {
                opt.rule::<f64>(opt.lr(), t).step(&mut w, &g, &mut s);
            }
            w
        };
        let w = run(Sgd::new(0.1).momentum(0.9).into());
        assert!(
            (w[0] - (1.0 - 0.1 * 2.9 * 0.5)).abs() < 1e-12 && (w[1] - (-2.0 + 0.29)).abs() < 1e-12
        );
        let w = run(Sgd::new(0.1).momentum(0.9).nesterov().into());
        assert!(
            (w[0] - (1.0 - 0.1 * 4.61 * 0.5)).abs() < 1e-12
                && (w[1] - (-2.0 + 0.461)).abs() < 1e-12
        );
        let w = run(Adam::new(0.1).into());
        assert!(
            (w[0] - 0.8).abs() < 1e-7 && (w[1] - (-1.8)).abs() < 1e-7,
            "{w:?}"
        );
    }

    /// A long block takes the wider-vector path (`simd::wide`); it must
    /// give the bits of the rule applied one element at a time, for every
    /// rule, in both precisions, and its check must see an overflow.
    #[test]
    fn wide_steps_match_the_elementwise_rule() {
        fn check<F: Float>() {
            let n = 1003; // long enough for the wide path, not a multiple of 8
            let val = |i: usize, s: f64| F::from_f64(((i as f64) * 0.731 + s).sin() * 3.0);
            let opts: [Optimizer; 4] = [
                Sgd::new(0.1).into(),
                Sgd::new(0.1).momentum(0.9).into(),
                Sgd::new(0.1).momentum(0.9).nesterov().into(),
                Adam::new(0.01).into(),
            ];
            for opt in opts {
                let g: Vec<F> = (0..n).map(|i| val(i, 0.3)).collect();
                let mut w: Vec<F> = (0..n).map(|i| val(i, 0.1)).collect();
                let mut state = Moments::default();
                opt.prepare(&mut state, n);
                let (mut w1, mut m1, mut v1) = (w.clone(), state.m.clone(), state.v.clone());
                for t in 1..=3 {
                    let rule = opt.rule::<F>(opt.lr(), t);
                    assert!(rule.step_is_finite(&mut w, &g, &mut state));
                    rule.step(&mut w, &g, &mut state);
                    for i in 0..n {
                        let z = F::zero();
                        let (m, v) = (m1.get(i).copied(), v1.get(i).copied());
                        let (wi, mi, vi) = match rule {
                            Rule::Sgd(r) => r.apply(w1[i], g[i], z, z),
                            Rule::Momentum(r) => r.apply(w1[i], g[i], m.unwrap(), z),
                            Rule::Adam(r) => r.apply(w1[i], g[i], m.unwrap(), v.unwrap()),
                        };
                        w1[i] = wi;
                        if let Some(m) = m1.get_mut(i) {
                            *m = mi;
                        }
                        if let Some(v) = v1.get_mut(i) {
                            *v = vi;
                        }
                    }
                }
                let bits = |v: &[F]| v.iter().map(|x| x.as_f64().to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&w), bits(&w1), "{opt:?} in {}", F::NAME);
                assert_eq!(bits(&state.m), bits(&m1), "{opt:?} in {}", F::NAME);
                assert_eq!(bits(&state.v), bits(&v1), "{opt:?} in {}", F::NAME);
                // One weight at the edge of the range: the step overflows it.
                w[n - 2] = F::max_value();
                let mut g = g;
                g[n - 2] = -F::max_value();
                let rule = opt.rule::<F>(1e3, 4);
                assert!(!rule.step_is_finite(&mut w, &g, &mut state), "{opt:?}");
            }
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn schedules() {
        assert_eq!(
            Schedule::Step {
                every: 10,
                gamma: 0.5
            }
            .lr(1.0, 25),
            0.25
        );
        assert!((Schedule::Exponential { gamma: 0.9 }.lr(1.0, 2) - 0.81).abs() < 1e-15);
        assert_eq!(Schedule::InverseTime { k: 0.5 }.lr(1.0, 2), 0.5);
    }
}
