//! Training-speed benchmarks for the workloads of the performance issue.
//!
//! A plain bench binary (no criterion): each figure is the median of several
//! timed samples taken after a warm-up. Run with `cargo bench --bench train`
//! (add `-- W1` to run only the workloads whose name contains `W1`).

use mlp::prelude::*;
use ndarray::Array2;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Tracks live and peak heap bytes, for the memory report.
struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Median seconds per call of `f`, over `samples` samples of `iters` calls
/// each, after one warm-up sample.
fn median_secs(samples: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut times = Vec::with_capacity(samples);
    for s in 0..=samples {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        if s > 0 {
            times.push(start.elapsed().as_secs_f64() / iters as f64);
        }
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Chooses an iteration count so one sample takes about `target`.
fn calibrate(target: Duration, mut f: impl FnMut()) -> usize {
    let mut iters = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        if start.elapsed() >= target / 4 || iters >= 1 << 24 {
            return (iters * 4).max(1);
        }
        iters *= 2;
    }
}

fn report(name: &str, secs_per_step: f64, samples_per_step: usize) {
    println!(
        "{name:<52} {:>12.3} us/step {:>14.0} samples/s",
        secs_per_step * 1e6,
        samples_per_step as f64 / secs_per_step
    );
}

fn xor<F: Float>() -> (Array2<F>, Array2<F>) {
    let x = Array2::from_shape_vec(
        (4, 2),
        [0., 0., 0., 1., 1., 0., 1., 1.].map(F::from_f64).to_vec(),
    )
    .unwrap();
    let y = Array2::from_shape_vec((4, 1), [0., 1., 1., 0.].map(F::from_f64).to_vec()).unwrap();
    (x, y)
}

macro_rules! xor_benches {
    ($f:tt, $hidden:ident, $label:literal) => {{
        let (x, y) = xor::<$f>();
        let cfg = TrainConfig::new()
            .optimizer(Sgd::new(0.5))
            .batch(Batch::Full)
            .epochs(1);
        let mut net =
            network! { input 2 => dense 4 $hidden => dense 1 sigmoid; loss bce; dtype $f };
        // W1: one full-batch step via train_on_batch (validates the batch each call).
        let mut f = || {
            black_box(net.train_on_batch(x.view(), y.view(), &cfg).unwrap());
        };
        let iters = calibrate(Duration::from_millis(200), &mut f);
        report(
            concat!("W1 XOR 2-4-1 ", $label, " full batch (train_on_batch)"),
            median_secs(7, iters, &mut f),
            4,
        );
        // W1 through fit: 1000 epochs of one full-batch step each.
        let cfg_fit = cfg.clone().epochs(1000);
        let mut f = || {
            black_box(net.fit(x.view(), y.view(), &cfg_fit).unwrap());
        };
        let iters = calibrate(Duration::from_millis(200), &mut f);
        report(
            concat!("W1 XOR 2-4-1 ", $label, " full batch (fit, 1000 epochs)"),
            median_secs(7, iters, &mut f) / 1000.0,
            4,
        );
        // W2: stochastic mode through fit: 1000 epochs x 4 one-sample updates.
        let cfg_sgd = cfg.clone().batch(Batch::Stochastic).epochs(1000);
        let mut f = || {
            black_box(net.fit(x.view(), y.view(), &cfg_sgd).unwrap());
        };
        let iters = calibrate(Duration::from_millis(200), &mut f);
        report(
            concat!("W2 XOR 2-4-1 ", $label, " stochastic (fit, 4000 updates)"),
            median_secs(7, iters, &mut f) / 4000.0,
            1,
        );
    }};
}

fn synthetic<F: Float>(rows: usize, cols: usize, classes: usize) -> (Array2<F>, Array2<F>) {
    let x = Array2::from_shape_fn((rows, cols), |(i, j)| {
        F::from_f64(((i * 31 + j * 17) % 256) as f64) / F::from_f64(255.0)
    });
    let labels: Vec<usize> = (0..rows).map(|i| (i * 7) % classes).collect();
    (x, mlp::data::one_hot(&labels, classes).unwrap())
}

/// GFLOP/s of `mlp::linalg::matmul` on 1024 x 1024 matrices of `F`, on
/// one thread and on two: the roofline the training figures are read against.
fn gemm_rate<F: Float>(name: &str) {
    let n = 1024;
    let a = Array2::from_shape_fn((n, n), |(i, j)| F::from_f64(((i + j) % 7) as f64 * 0.1));
    let b = Array2::from_shape_fn((n, n), |(i, j)| F::from_f64(((i * j) % 5) as f64 * 0.1));
    let mut c = Array2::<F>::zeros((n, n));
    for threads in [1, 2] {
        mlp::set_num_threads(threads);
        let secs = median_secs(5, 1, || {
            mlp::linalg::matmul(a.view(), b.view(), c.view_mut()).unwrap();
            black_box(&c);
        });
        let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
        let name = format!("{name} 1024^3 (mlp::linalg::matmul), {threads} thread(s)");
        println!("{name:<52} {gflops:>12.2} GFLOP/s ({:.1} ms)", secs * 1e3);
    }
    mlp::set_num_threads(1);
}

/// Seconds per step of one epoch of `rows` samples in mini-batches of
/// `batch`, plain SGD with eta 0.01, timed through `fit` (median of three).
/// `epochs` > 1 spreads what `fit` does once per call (the check of the
/// data, above all) over the epochs, as a multi-epoch training run does.
fn epoch_step_secs(
    rows: usize,
    batch: usize,
    epochs: usize,
    mut fit: impl FnMut(&TrainConfig),
) -> f64 {
    let cfg = TrainConfig::new()
        .optimizer(Sgd::new(0.01))
        .batch(Batch::Mini(batch))
        .epochs(epochs);
    median_secs(3, 1, || fit(&cfg)) / (epochs as f64 * rows as f64 / batch as f64)
}

/// How many epochs the multi-epoch rows of W3 and W4 fit per call.
const FIT_EPOCHS: usize = 5;

/// W3 and W4 in one float type (`$f`): `$tag` is empty for `f32`, the
/// issue's type, so those lines keep their names.
macro_rules! w3_w4 {
    ($wants:expr, $threads:expr, $f:tt, $tag:literal) => {{
        let (wants, threads) = ($wants, $threads);
        // One epoch per `fit`, and (f32 only) an epoch of a longer fit.
        let w3 = [
            (1, format!(concat!("W3 784-128-10", $tag, ", batch 64, 60k epoch, {} thread(s)"), threads)),
            (
                FIT_EPOCHS,
                format!(
                    concat!("W3 784-128-10", $tag, ", batch 64, {}-epoch fit, {} thread(s)"),
                    FIT_EPOCHS, threads
                ),
            ),
        ];
        let w3: Vec<_> = w3
            .into_iter()
            .filter(|(epochs, name)| (*epochs == 1 || $tag.is_empty()) && wants(name))
            .collect();
        if !w3.is_empty() {
            let (x, y) = synthetic::<$f>(60_000, 784, 10);
            for (epochs, name) in &w3 {
                let mut net = network! {
                    input 784 => dense 128 relu => dense 10 softmax; loss cross_entropy; init he; dtype $f
                };
                let step = epoch_step_secs(60_000, 64, *epochs, |cfg| {
                    black_box(net.fit(x.view(), y.view(), cfg).unwrap());
                });
                report(name, step, 64);
            }
        }
        let name = format!(concat!("W4 784-512-512-10", $tag, ", batch 256, {} thread(s)"), threads);
        if wants(&name) {
            let (x, y) = synthetic::<$f>(8_192, 784, 10);
            let mut net = network! {
                input 784 => dense 512 relu => dense 512 relu => dense 10 softmax;
                loss cross_entropy; init he; dtype $f
            };
            let step = epoch_step_secs(8_192, 256, 1, |cfg| {
                black_box(net.fit(x.view(), y.view(), cfg).unwrap());
            });
            report(&name, step, 256);
            let params = (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10) as f64;
            let gflops = 6.0 * params * 256.0 / step / 1e9;
            let name = format!(concat!("W4", $tag, " achieved, {} thread(s)"), threads);
            println!("{name:<52} {gflops:>12.2} GFLOP/s (6 x params x samples)");
        }
    }};
}

/// Makes glibc's `malloc` keep freed memory instead of returning it to the
/// system. By default a freed block above its thresholds (128 KiB at first,
/// raised as large blocks come and go) is unmapped or trimmed off the heap,
/// and the next allocation of that size faults its pages back in, zeroed.
/// The plain loop allocates its temporaries and matrixmultiply its packing
/// buffers every step, so whether they hit that path depends on the heap's
/// history: the same W3 loop ran 54k samples/s after the W1 and W2 loops
/// and 118k alone (891k page faults against 47k). With the thresholds up it
/// runs at its best either way, which is the fair baseline. The engine
/// allocates nothing per step, so this leaves its figures as they are;
/// `benches/peers/run.sh` gives the Python peers the same settings.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: mallopt only changes glibc's allocation thresholds; 32 MiB is
    // the largest mmap threshold it accepts on 64-bit targets.
    let ok = unsafe {
        mallopt(M_TRIM_THRESHOLD, i32::MAX) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
    };
    if !ok {
        eprintln!("note: mallopt refused the thresholds; the plain loop may page-fault");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() {
    keep_freed_memory();
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    // The matrix kernel the large products (W3, W4, sgemm) run on.
    println!("matrix kernel: {}", mlp::linalg::kernel());

    baselines(&wants);
    if wants("W1") || wants("W2") {
        xor_benches!(f32, sigmoid, "f32 sigmoid");
        xor_benches!(f32, relu, "f32 relu");
        xor_benches!(f64, sigmoid, "f64 sigmoid");
    }
    // The roofline: the engine's own matrix product, same kernel, same run.
    if wants("sgemm") {
        gemm_rate::<f32>("sgemm");
    }
    if wants("dgemm") {
        gemm_rate::<f64>("dgemm");
    }
    for threads in [1, 2] {
        mlp::set_num_threads(threads);
        w3_w4!(&wants, threads, f32, "");
    }
    for threads in [1, 2] {
        mlp::set_num_threads(threads);
        w3_w4!(&wants, threads, f64, " f64");
    }
    mlp::set_num_threads(1);
    if wants("mnist") {
        mnist();
    }
    if wants("memory") {
        memory();
    }
    if wants("activations") {
        activations();
    }
}

/// Nanoseconds per value of one activation's forward pass over 4,032
/// values, cut into rows of 64 (which take the AVX2 path when the CPU has
/// it) and rows of 63 (which stay on the baseline SSE2 path): the wider
/// path should be the faster one. Best of 200 samples of 20 passes.
fn activations() {
    use mlp::Activation;
    use mlp::activation::{Mish, Softplus, Softsign, Swish, Tanh};
    #[inline(never)]
    fn call<A: Activation<f32>>(act: &A, a: &[f32], h: &mut [f32], w: usize) {
        act.forward(a, h, w)
    }
    fn row<A: Activation<f32>>(act: A) {
        let n = 4032;
        let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let mut h = vec![0f32; n];
        let mut best = [f64::INFINITY; 2];
        for _ in 0..200 {
            for (k, width) in [64usize, 63].into_iter().enumerate() {
                let start = Instant::now();
                for _ in 0..20 {
                    for (a, h) in a.chunks(width).zip(h.chunks_mut(width)) {
                        call(&act, a, h, width);
                    }
                    black_box(&mut h);
                }
                best[k] = best[k].min(start.elapsed().as_secs_f64() / (20 * n) as f64 * 1e9);
            }
        }
        println!(
            "activation {:<10} rows of 64 {:>7.3} ns/value, rows of 63 {:>7.3} ns/value ({:.2}x)",
            A::NAME,
            best[0],
            best[1],
            best[1] / best[0]
        );
    }
    row(Sigmoid);
    row(Relu);
    row(Tanh);
    row(Softplus);
    row(Softsign);
    row(Swish);
    row(Mish);
}

/// Peak heap bytes of training (network, buffers, optimiser state), against
/// the model `parameters + gradients + optimiser state + one batch of
/// activations`, where a batch of activations is `a`, `h` and `delta` of every
/// layer plus the gathered inputs and targets, in the network's float type.
fn memory() {
    fn measure<const I: usize, const H: usize, const O: usize>(batch: usize, adam: bool) {
        let (x, y) = synthetic(batch, I, O);
        let cfg = if adam {
            TrainConfig::new().optimizer(Adam::default())
        } else {
            TrainConfig::new().optimizer(Sgd::new(0.01))
        };
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let mut r = mlp::rng(0);
        let l1 = Dense::<I, H, _>::new(Relu, Init::HeNormal, &mut r);
        let out = Dense::<H, O, _>::new(Softmax, Init::XavierNormal, &mut r);
        let mut net = Network::new(l1, out, CrossEntropy, r);
        for _ in 0..3 {
            net.train_on_batch(x.view(), y.view(), &cfg).unwrap();
        }
        let peak = PEAK.load(Ordering::Relaxed) - base;
        let params = I * H + H + H * O + O;
        let state = if adam { 2 * params } else { 0 };
        let activations = batch * (3 * (H + O) + I + O);
        let model = 4 * (2 * params + state + activations);
        let name = format!(
            "memory {I}-{H}-{O}, batch {batch}, {}",
            if adam { "Adam" } else { "SGD" }
        );
        println!(
            "{name:<52} {:>9.2} MB peak, model {:.2} MB ({:+.1}%)",
            peak as f64 / 1e6,
            model as f64 / 1e6,
            100.0 * (peak as f64 / model as f64 - 1.0)
        );
        drop(net);
    }
    // Each thread packs panels of B into a 32 KiB buffer of its own, made at
    // its first product and kept for the thread's life (as BLAS libraries
    // keep theirs): made here first, so every row counts what grows with
    // the model, and reported on its own line.
    let first_product = || {
        let one = Array2::<f32>::ones((1, 1));
        let mut c = Array2::<f32>::zeros((1, 1));
        let before = LIVE.load(Ordering::Relaxed);
        mlp::linalg::matmul(one.view(), one.view(), c.view_mut()).unwrap();
        LIVE.load(Ordering::Relaxed) - before
    };
    first_product();
    // Measured on a fresh thread, whose panel does not exist yet.
    let scratch = std::thread::spawn(first_product).join().unwrap();
    println!(
        "{:<52} {:>9.3} MB per thread, once (heap); 96 KiB on the stack during a weight gradient",
        "memory: panel scratch",
        scratch as f64 / 1e6
    );
    measure::<784, 128, 10>(64, false);
    measure::<784, 128, 10>(64, true);
    measure::<784, 512, 10>(256, false);
}

/// Nielsen's configuration on real MNIST, when `../shared/data/mnist` exists:
/// 784-30-10 sigmoid, quadratic cost, SGD eta 3.0, mini-batches of 10.
fn mnist() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist");
    let Ok(data) = mlp::data::mnist::load::<f32>(dir) else {
        println!("mnist: skipped, no MNIST at {dir}");
        return;
    };
    let y = mlp::data::one_hot::<f32>(&data.train_labels, 10).unwrap();
    let mut net = network! {
        input 784 => dense 30 sigmoid => dense 10 sigmoid; loss mse; init normal(1.0); seed 1
    };
    let cfg = TrainConfig::new()
        .epochs(1)
        .batch(Batch::Mini(10))
        .optimizer(Sgd::new(3.0));
    let secs = median_secs(3, 1, || {
        black_box(net.fit(data.train_x.view(), y.view(), &cfg).unwrap());
    });
    let name = "MNIST 784-30-10 (Nielsen), batch 10, one epoch";
    println!(
        "{name:<52} {secs:>12.3} s/epoch {:>14.0} samples/s",
        60_000.0 / secs
    );
}

/// The textbook loop in plain ndarray (`dot` is matrixmultiply's sgemm), the
/// baseline the performance issue compares against, measured in this run.
/// It allocates its temporaries every step, as such loops do.
mod plain {
    use ndarray::{Array1, Array2, ArrayView2, Axis};

    /// A stack of dense layers, `(W, b)` with `W` of shape out x in.
    pub struct Net {
        pub layers: Vec<(Array2<f32>, Array1<f32>)>,
    }

    impl Net {
        /// Layers of the given widths, e.g. `[2, 4, 1]`.
        pub fn new(widths: &[usize]) -> Self {
            let w = |r: usize, c: usize, s: f32| {
                Array2::from_shape_fn((r, c), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * s - 5.0 * s)
            };
            let scale = |l: usize| if l + 2 == widths.len() { 0.05 } else { 0.02 };
            let layers = widths
                .windows(2)
                .enumerate()
                .map(|(l, io)| (w(io[1], io[0], scale(l)), Array1::zeros(io[1])))
                .collect();
            Net { layers }
        }

        /// One SGD step: `sigmoid` hidden (or `relu`), `sigmoid` + bce or
        /// `softmax` + cross-entropy output (both with delta `h - y`).
        pub fn step(
            &mut self,
            x: ArrayView2<'_, f32>,
            y: ArrayView2<'_, f32>,
            lr: f32,
            relu_softmax: bool,
        ) {
            let n = x.nrows() as f32;
            let last = self.layers.len() - 1;
            // Forward, keeping every layer's output `h`.
            let mut hs: Vec<Array2<f32>> = Vec::with_capacity(last + 1);
            for (l, (w, b)) in self.layers.iter().enumerate() {
                let input = if l == 0 { x } else { hs[l - 1].view() };
                let a = input.dot(&w.t()) + b;
                let h = if l < last {
                    if relu_softmax {
                        a.mapv(|v| v.max(0.0))
                    } else {
                        a.mapv(|v| 1.0 / (1.0 + (-v).exp()))
                    }
                } else if relu_softmax {
                    let mut e = a;
                    for mut row in e.rows_mut() {
                        let m = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                        row.mapv_inplace(|v| (v - m).exp());
                        let s = row.sum();
                        row /= s;
                    }
                    e
                } else {
                    a.mapv(|v| 1.0 / (1.0 + (-v).exp()))
                };
                hs.push(h);
            }
            // Backward: the output delta, then each layer's gradients and
            // the delta below it (with the weights before the update).
            let mut delta = (&hs[last] - &y) / n;
            for l in (0..=last).rev() {
                let input = if l == 0 { x } else { hs[l - 1].view() };
                let grad_w = delta.t().dot(&input);
                let grad_b = delta.sum_axis(Axis(0));
                let below = (l > 0).then(|| {
                    let (h, grad_h) = (&hs[l - 1], delta.dot(&self.layers[l].0));
                    if relu_softmax {
                        grad_h * h.mapv(|h| if h > 0.0 { 1.0 } else { 0.0 })
                    } else {
                        grad_h * h.mapv(|h| h * (1.0 - h))
                    }
                });
                let (w, b) = &mut self.layers[l];
                w.scaled_add(-lr, &grad_w);
                b.scaled_add(-lr, &grad_b);
                if let Some(d) = below {
                    delta = d;
                }
            }
        }
    }
}

/// The machine's single-thread FMA peaks, measured now: twelve independent
/// chains of fused multiply-adds (two FMA units, four-cycle latency), 8
/// lanes wide with AVX2 and, where the CPU has it, 16 lanes with AVX-512F
/// (the width of the engine's matrix kernel there).
#[cfg(target_arch = "x86_64")]
fn fma_peaks_gflops() -> Vec<(&'static str, f64)> {
    use std::arch::is_x86_feature_detected as has;
    use std::arch::x86_64::*;
    #[target_feature(enable = "avx2,fma")]
    fn chains256(iters: usize) -> f32 {
        let mut acc = [_mm256_set1_ps(0.0); 12];
        let (x, y) = (_mm256_set1_ps(0.999), _mm256_set1_ps(0.001));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        let mut out = [0f32; 8];
        // SAFETY: `out` holds eight floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum()
    }
    #[target_feature(enable = "avx512f")]
    fn chains512(iters: usize) -> f32 {
        let mut acc = [_mm512_set1_ps(0.0); 12];
        let (x, y) = (_mm512_set1_ps(0.999), _mm512_set1_ps(0.001));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        let mut s = _mm512_setzero_ps();
        for a in acc {
            s = _mm512_add_ps(s, a);
        }
        _mm512_reduce_add_ps(s)
    }
    let iters = 10_000_000;
    // GFLOP/s of twelve chains of `lanes`-wide FMAs run `iters` times by `run`.
    let rate = |lanes: f64, run: &dyn Fn(usize) -> f32| {
        let secs = median_secs(5, 1, || {
            black_box(run(black_box(iters)));
        });
        12.0 * 2.0 * lanes * iters as f64 / secs / 1e9
    };
    let mut peaks = Vec::new();
    if has!("avx2") && has!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        peaks.push(("AVX2", rate(8.0, &|n| unsafe { chains256(n) })));
    }
    if has!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked above).
        peaks.push(("AVX-512", rate(16.0, &|n| unsafe { chains512(n) })));
    }
    peaks
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peaks_gflops() -> Vec<(&'static str, f64)> {
    Vec::new()
}

/// Seconds per step of one shuffled epoch of the plain loop (relu, softmax,
/// eta 0.01), in mini-batches of `batch` gathered with `select` (median of three).
fn plain_epoch_secs(
    net: &mut plain::Net,
    x: ndarray::ArrayView2<'_, f32>,
    y: ndarray::ArrayView2<'_, f32>,
    batch: usize,
) -> f64 {
    let rows = x.nrows();
    let mut rng = mlp::rng(0);
    let mut order: Vec<usize> = (0..rows).collect();
    let secs = median_secs(3, 1, || {
        use rand::seq::SliceRandom;
        order.shuffle(&mut rng);
        for idx in order.chunks(batch) {
            let xb = x.select(ndarray::Axis(0), idx);
            let yb = y.select(ndarray::Axis(0), idx);
            net.step(xb.view(), yb.view(), 0.01, true);
        }
    });
    secs / (rows as f64 / batch as f64)
}

/// The plain ndarray loop on W1, W2, W3 and W4, and matrixmultiply's sgemm.
fn baselines(wants: &dyn Fn(&str) -> bool) {
    let (x, y) = xor::<f32>();
    if wants("plain W1") {
        let mut net = plain::Net::new(&[2, 4, 1]);
        let mut f = || net.step(x.view(), y.view(), 0.5, false);
        let iters = calibrate(Duration::from_millis(200), &mut f);
        report(
            "plain ndarray W1 XOR 2-4-1 f32 sigmoid full batch",
            median_secs(7, iters, &mut f),
            4,
        );
    }
    if wants("plain W2") {
        let mut net = plain::Net::new(&[2, 4, 1]);
        let mut f = || {
            for r in 0..4 {
                net.step(
                    x.slice(ndarray::s![r..r + 1, ..]),
                    y.slice(ndarray::s![r..r + 1, ..]),
                    0.5,
                    false,
                );
            }
        };
        let iters = calibrate(Duration::from_millis(200), &mut f);
        report(
            "plain ndarray W2 XOR 2-4-1 f32 sigmoid stochastic",
            median_secs(7, iters, &mut f) / 4.0,
            1,
        );
    }
    if wants("plain W3") {
        let (x, y) = synthetic(60_000, 784, 10);
        let mut net = plain::Net::new(&[784, 128, 10]);
        let step = plain_epoch_secs(&mut net, x.view(), y.view(), 64);
        report("plain ndarray W3 784-128-10, batch 64, 1 thread", step, 64);
    }
    if wants("plain W4") {
        let (x, y) = synthetic(8_192, 784, 10);
        let mut net = plain::Net::new(&[784, 512, 512, 10]);
        let step = plain_epoch_secs(&mut net, x.view(), y.view(), 256);
        report(
            "plain ndarray W4 784-512-512-10, batch 256, 1 thread",
            step,
            256,
        );
        let params = (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10) as f64;
        let gflops = 6.0 * params * 256.0 / step / 1e9;
        let name = "plain ndarray W4 achieved, 1 thread";
        println!("{name:<52} {gflops:>12.2} GFLOP/s (6 x params x samples)");
    }
    if wants("plain sgemm") {
        let n = 1024;
        let a = Array2::from_shape_fn((n, n), |(i, j)| ((i + j) % 7) as f32 * 0.1);
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * j) % 5) as f32 * 0.1);
        let mut c = Array2::<f32>::zeros((n, n));
        let secs = median_secs(5, 1, || {
            ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
            black_box(&c);
        });
        let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
        let name = "plain ndarray sgemm 1024^3 (matrixmultiply), 1 thread";
        println!("{name:<52} {gflops:>12.2} GFLOP/s ({:.1} ms)", secs * 1e3);
    }
    if wants("peak") {
        for (isa, g) in fma_peaks_gflops() {
            let name = format!("machine FMA peak ({isa}, 1 thread)");
            println!("{name:<52} {g:>12.2} GFLOP/s");
        }
    }
}
