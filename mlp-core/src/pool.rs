//! A minimal persistent thread pool for splitting large matrix products.
//!
//! Opt-in: by default every product runs on the calling thread. With
//! [`set_num_threads`]`(2)`, products of at least 2^20 multiply-adds are
//! shared between the caller and one persistent worker: each takes its own
//! half of the blocks of the result, then helps with what is left of the
//! other's. Each element of the result is still computed by one thread in
//! the same order, so results are bit-identical whatever the thread count.
//! Handing a job to the worker allocates nothing, and wakes it through the
//! kernel only when it has gone to sleep.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets how many threads large matrix products may use: 1 (the default) or 2.
/// Larger values are treated as 2 (the engine splits work in two).
pub fn set_num_threads(n: usize) {
    THREADS.store(n.clamp(1, 2), Ordering::Relaxed);
}

/// The number of threads large products use.
#[inline]
pub fn num_threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// A job for the worker: a borrowed closure with its lifetime erased. The
/// caller of [`join`] waits until the worker has finished with it.
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn() + Sync));

// SAFETY: the pointee is `Sync`, and `join` keeps it alive until the worker is done.
unsafe impl Send for Job {}

const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;

/// How long an idle worker (and a waiting caller) spin before sleeping: long
/// enough to cover the gap between the products of one training step.
const SPINS: u32 = 1 << 16;

/// What the caller hands the worker under the lock, and what a job that
/// panicked left behind for the caller to re-raise.
struct Slot {
    job: Option<Job>,
    sleeping: bool,
    panic: Option<Box<dyn Any + Send>>,
}

struct Worker {
    /// `IDLE` -> `POSTED` (by `join`) -> `DONE` (by the worker) -> `IDLE` (by `join`).
    state: AtomicU8,
    /// The posted job, and whether the worker sleeps on `wake` (so only
    /// then does posting pay for a wake-up call into the kernel).
    slot: Mutex<Slot>,
    wake: Condvar,
}

/// The worker, started on first use; `None` if the system refused to start
/// a thread (then every product runs on the calling thread, as with one thread).
fn worker() -> Option<&'static Worker> {
    static WORKER: OnceLock<Option<&'static Worker>> = OnceLock::new();
    *WORKER.get_or_init(|| {
        let w: &'static Worker = Box::leak(Box::new(Worker {
            state: AtomicU8::new(IDLE),
            slot: Mutex::new(Slot {
                job: None,
                sleeping: false,
                panic: None,
            }),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("mlp-worker".into())
            .spawn(move || run_worker(w))
            .ok()
            .map(|_| w)
    })
}

fn run_worker(w: &'static Worker) -> ! {
    loop {
        // Spin for a while, then sleep until a job is posted.
        let mut spins = 0;
        while w.state.load(Ordering::Acquire) != POSTED {
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                let mut slot = w.slot.lock().unwrap_or_else(|e| e.into_inner());
                if w.state.load(Ordering::Acquire) != POSTED {
                    slot.sleeping = true;
                    slot = w.wake.wait(slot).unwrap_or_else(|e| e.into_inner());
                    slot.sleeping = false;
                }
            }
        }
        let job = w.slot.lock().unwrap_or_else(|e| e.into_inner()).job.take();
        if let Some(job) = job {
            // SAFETY: `join` keeps the closure alive until the state is `DONE`.
            // A panic is caught and handed to the caller, which re-raises it:
            // the worker lives on and the caller never waits for a dead thread.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)() })) {
                w.slot.lock().unwrap_or_else(|e| e.into_inner()).panic = Some(payload);
            }
        }
        w.state.store(DONE, Ordering::Release);
    }
}

/// Runs `a` on the calling thread and `b` on the worker, and returns when both
/// are done. Runs both here when the pool is off, already in use by another
/// thread, or could not start its worker. A panic in either is re-raised
/// here, after both have finished.
pub(crate) fn join(a: impl FnOnce(), b: &(dyn Fn() + Sync)) {
    static BUSY: Mutex<()> = Mutex::new(());
    let guard = if num_threads() < 2 {
        None
    } else {
        BUSY.try_lock().ok()
    };
    let (Some(_busy), Some(w)) = (guard, worker()) else {
        a();
        b();
        return;
    };
    // SAFETY (lifetime erasure): `Wait` below blocks, even while unwinding,
    // until the worker has finished running `b`.
    let job = Job(unsafe {
        std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(b)
    });
    {
        let mut slot = w.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.job = Some(job);
        // A payload left by a job whose caller itself panicked is stale.
        slot.panic = None;
        w.state.store(POSTED, Ordering::Release);
        // A spinning worker sees the state change; only a sleeping one
        // needs the (system-call) wake-up.
        if slot.sleeping {
            w.wake.notify_one();
        }
    }
    let wait = Wait(w);
    a();
    drop(wait);
    let panic = w
        .slot
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .panic
        .take();
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// Element-wise work (the optimiser's check and step, gathering a batch,
/// checking data for NaN) over at least this many values is split in halves,
/// one per thread, when two threads are on.
const HALVES_MIN: usize = 1 << 15;

/// Whether element-wise work over `len` values is worth splitting in halves
/// with [`both`].
#[inline]
pub(crate) fn halves_pay(len: usize) -> bool {
    len >= HALVES_MIN && num_threads() > 1
}

/// `(f(a), f(b))`, with `f(b)` on the worker when two threads are on (see
/// [`join`]): for work already cut in two independent halves.
pub(crate) fn both<T: Send, R: Send>(a: T, b: T, f: impl Fn(T) -> R + Sync) -> (R, R) {
    let b = Mutex::new((Some(b), None));
    let mut ra = None;
    join(|| ra = Some(f(a)), &|| {
        let mut slot = b.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = slot.0.take() {
            slot.1 = Some(f(t));
        }
    });
    let rb = b.into_inner().unwrap_or_else(|e| e.into_inner()).1;
    (
        ra.expect("join ran the first half"),
        rb.expect("join ran the second half"),
    )
}

/// Waits for the worker to report `DONE`, then resets the state to `IDLE`.
struct Wait(&'static Worker);

impl Drop for Wait {
    fn drop(&mut self) {
        let mut spins = 0u32;
        while self.0.state.load(Ordering::Acquire) != DONE {
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        self.0.state.store(IDLE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic in the half that runs on the worker reaches the caller (it
    /// used to leave the caller spinning forever), and the pool still works
    /// afterwards.
    #[test]
    fn a_panic_on_the_worker_reaches_the_caller() {
        set_num_threads(2);
        let caught = catch_unwind(|| {
            both(1, 2, |v: i32| {
                if v == 2 {
                    panic!("job {v} failed");
                }
                v
            })
        });
        let payload = caught.expect_err("the worker's panic is re-raised");
        let message = payload.downcast_ref::<String>().map(String::as_str);
        // Another test may hold the pool, and then both halves ran here:
        // the panic is the same either way.
        assert_eq!(message, Some("job 2 failed"));
        assert_eq!(both(3, 4, |v: i32| v * 10), (30, 40));
    }
}
