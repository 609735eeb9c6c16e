//! A training step allocates nothing once its buffers exist.
//!
//! A counting global allocator wraps the system allocator; after two warm-up
//! steps (the first sizes the layer buffers and the optimiser state), a
//! hundred more steps must not allocate at all.
//!
//! The counter sees every thread, so this file has its own `main` (`harness =
//! false` in Cargo.toml): under libtest the harness's main thread allocates
//! its bookkeeping for the running test while the test thread counts, and a
//! loaded machine lets those allocations land inside a counted window.

use mlp::prelude::*;
use mlp::rng;
use ndarray::Array2;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

/// Allocations made by `steps` more calls of `step`, after two warm-up calls
/// (the first sizes the layer buffers and the optimiser state).
fn steady_allocations(steps: usize, mut step: impl FnMut()) -> usize {
    step();
    step();
    allocations(|| (0..steps).for_each(|_| step()))
}

fn data<F: Float>(rows: usize, cols: usize, outs: usize) -> (Array2<F>, Array2<F>) {
    let x = Array2::from_shape_fn((rows, cols), |(i, j)| {
        F::from_f64(((i * 7 + j * 3) as f64 * 0.1).sin())
    });
    let y = Array2::from_shape_fn((rows, outs), |(i, j)| {
        F::from_f64((i % outs == j) as u8 as f64)
    });
    (x, y)
}

/// All checks run on the main thread of a process with no other threads
/// (besides the engine's own worker in the two-thread check).
fn main() {
    // The counter sees allocations at all.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))) > 0);
    let configs = [
        TrainConfig::new().optimizer(Sgd::new(0.1)),
        TrainConfig::new().optimizer(Sgd::new(0.1).momentum(0.9).nesterov()),
        TrainConfig::new()
            .optimizer(Adam::default())
            .clip(Clip::Norm(1.0))
            .l2(1e-4)
            .l1(1e-5),
        TrainConfig::new()
            .optimizer(Adam::default())
            .clip(Clip::Value(0.5)),
    ];
    for cfg in &configs {
        // f32, relu + dropout + softmax/cross-entropy, batch 32.
        let (x, y) = data::<f32>(32, 20, 5);
        let mut r = rng(1);
        let l1 = Dense::<20, 16, _>::new(Relu, Init::HeNormal, &mut r);
        let l2 = Dense::<16, 8, _>::new(Tanh, Init::XavierNormal, &mut r);
        let out = Dense::<8, 5, _>::new(Softmax, Init::XavierNormal, &mut r);
        let mut net = Network::new(
            l1.then(Dropout::new(0.2).unwrap()).then(l2),
            out,
            CrossEntropy,
            r,
        );
        let n = steady_allocations(100, || {
            net.train_on_batch(x.view(), y.view(), cfg).unwrap();
        });
        assert_eq!(n, 0, "f32 softmax network, {cfg:?}");

        // f64, sigmoid + bce, batch 4 (XOR size), and a smaller batch after a larger one.
        let (x, y) = data::<f64>(4, 2, 1);
        let mut r = rng(2);
        let l1 = Dense::<2, 4, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
        let out = Dense::<4, 1, _, f64>::new(Sigmoid, Init::XavierNormal, &mut r);
        let mut net = Network::new(l1, out, Bce, r);
        net.train_on_batch(x.view(), y.view(), cfg).unwrap();
        net.train_on_batch(x.view(), y.view(), cfg).unwrap();
        let one = x.slice(ndarray::s![..1, ..]);
        let one_y = y.slice(ndarray::s![..1, ..]);
        let n = allocations(|| {
            for _ in 0..100 {
                net.train_on_batch(x.view(), y.view(), cfg).unwrap();
                net.train_on_batch(one, one_y, cfg).unwrap();
            }
        });
        assert_eq!(n, 0, "f64 XOR network, {cfg:?}");
    }

    // Layers large enough for the fast products (IN * OUT >= 4096), f32 and f64.
    let cfg = TrainConfig::new()
        .optimizer(Adam::default())
        .clip(Clip::Norm(1.0));
    let (x, y) = data::<f32>(48, 128, 10);
    let mut r = rng(4);
    let l1 = Dense::<128, 64, _>::new(Relu, Init::HeNormal, &mut r);
    let out = Dense::<64, 10, _>::new(Softmax, Init::XavierNormal, &mut r);
    let mut net = Network::new(l1, out, CrossEntropy, r);
    let n = steady_allocations(50, || {
        net.train_on_batch(x.view(), y.view(), &cfg).unwrap();
    });
    assert_eq!(n, 0, "f32 128-64-10 network (fast products)");
    let (x, y) = data::<f64>(48, 128, 10);
    let mut r = rng(5);
    let l1 = Dense::<128, 64, _, f64>::new(Tanh, Init::XavierNormal, &mut r);
    let out = Dense::<64, 10, _, f64>::new(Softmax, Init::XavierNormal, &mut r);
    let mut net = Network::new(l1, out, CrossEntropy, r);
    let n = steady_allocations(50, || {
        net.train_on_batch(x.view(), y.view(), &cfg).unwrap();
    });
    assert_eq!(n, 0, "f64 128-64-10 network (fast products)");

    // The same with two threads: handing work to the pool allocates nothing
    // (a batch of 128 x 256 values and a first layer of 33k parameters, large
    // enough to be gathered and updated in halves).
    mlp::set_num_threads(2);
    let (x, y) = data::<f32>(128, 256, 10);
    let mut r = rng(6);
    let l1 = Dense::<256, 128, _>::new(Relu, Init::HeNormal, &mut r);
    let out = Dense::<128, 10, _>::new(Softmax, Init::XavierNormal, &mut r);
    let mut net = Network::new(l1, out, CrossEntropy, r);
    let n = steady_allocations(50, || {
        net.train_on_batch(x.view(), y.view(), &cfg).unwrap();
    });
    mlp::set_num_threads(1);
    assert_eq!(n, 0, "f32 256-128-10 network on two threads");

    // Single-sample prediction runs on the stack.
    let mut r = rng(3);
    let l1 = Dense::<2, 4, _>::new(Relu, Init::HeNormal, &mut r);
    let out = Dense::<4, 1, _>::new(Sigmoid, Init::XavierNormal, &mut r);
    let net = Network::new(l1, out, Bce, r);
    let n = allocations(|| {
        for i in 0..100 {
            std::hint::black_box(net.predict(&[i as f32, 1.0]));
        }
    });
    assert_eq!(n, 0, "predict");
    println!("training steps and predict allocate nothing: ok");
}
