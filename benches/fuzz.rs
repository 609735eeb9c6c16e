//! An in-process mutation fuzzer for the loaders: IDX (MNIST) images and
//! labels, CSV data sets (plain and gzipped), saved networks and saved
//! standardizers (safetensors). Not a test: it runs for as long as asked,
//! outside CI's time.
//!
//! ```sh
//! cargo bench --bench fuzz -- --seconds 60      # or --iterations N, --seed S
//! ```
//!
//! Every input is a valid file from a small seed corpus, mutated one to
//! four times: bit flips, random bytes, truncation, extension, a chunk
//! duplicated or removed, a big integer written over a header field (a
//! file claiming 10^9 images), a splice of two files. Each result must be
//! an `Ok` or an `Err`: a panic is a finding and its input is written to
//! `target/fuzz-findings/`. A load that fails must leave the network it
//! was given bit for bit as it was. Memory is watched by a counting
//! allocator: the peak of each call must stay within 16 times what the
//! input really holds (its length, or its decompressed length for gzip)
//! plus 4 MiB, whatever its header claims.

use flate2::Compression;
use flate2::write::GzEncoder;
use mlp::data::{Dataset, Standardizer, mnist};
use mlp::rand::{Rng, RngExt};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts the bytes live on the heap, and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new) };
        if !q.is_null() {
            if new >= layout.size() {
                let live =
                    LIVE.fetch_add(new - layout.size(), Ordering::Relaxed) + new - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

mlp::network! {
    Small: input 4 => dense 5 relu => dropout 0.1 => noise gaussian(0.1) => dense 3 softmax;
        loss cross_entropy
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Images,
    Labels,
    Csv,
    CsvGz,
    Network,
    Standardizer,
}

const TARGETS: [Target; 6] = [
    Target::Images,
    Target::Labels,
    Target::Csv,
    Target::CsvGz,
    Target::Network,
    Target::Standardizer,
];

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Valid files of each kind, plain and gzipped.
fn corpus(target: Target) -> Vec<Vec<u8>> {
    match target {
        Target::Images => {
            let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28];
            idx.extend((0..3 * 784).map(|i| (i * 7 % 256) as u8));
            let two = [gz(&idx[..900]), gz(&idx[900..])].concat();
            vec![gz(&idx), two, idx]
        }
        Target::Labels => {
            let idx = vec![0, 0, 8, 1, 0, 0, 0, 5, 3, 1, 4, 1, 5];
            vec![gz(&idx), idx]
        }
        Target::Csv | Target::CsvGz => {
            let text: String = std::fs::read_to_string("data/iris.csv")
                .expect("run from the repository's root")
                .lines()
                .take(20)
                .map(|l| format!("{l}\n"))
                .collect();
            if target == Target::Csv {
                vec![text.into_bytes()]
            } else {
                vec![gz(text.as_bytes())]
            }
        }
        Target::Network => vec![Small::new(1).to_safetensors()],
        Target::Standardizer => {
            let x = ndarray::Array2::from_shape_fn((5, 3), |(i, j)| (i * 3 + j) as f64);
            vec![Standardizer::fit(x.view()).unwrap().to_safetensors()]
        }
    }
}

/// One to four random mutations of `bytes`.
fn mutate(bytes: &mut Vec<u8>, other: &[u8], rng: &mut impl Rng) {
    for _ in 0..rng.random_range(1..=4) {
        let n = bytes.len().max(1);
        match rng.random_range(0..8) {
            0 => {
                let i = rng.random_range(0..n);
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.random_range(0..8);
                }
            }
            1 => {
                let i = rng.random_range(0..n);
                if let Some(b) = bytes.get_mut(i) {
                    *b = rng.random();
                }
            }
            2 => bytes.truncate(rng.random_range(0..n)),
            3 => bytes.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
            4 => {
                // A chunk duplicated.
                let a = rng.random_range(0..n);
                let b = (a + rng.random_range(1..256)).min(bytes.len());
                let chunk: Vec<u8> = bytes.get(a..b).unwrap_or(&[]).to_vec();
                let at = rng.random_range(0..n).min(bytes.len());
                bytes.splice(at..at, chunk);
            }
            5 => {
                // A chunk removed.
                let a = rng.random_range(0..n).min(bytes.len());
                let b = (a + rng.random_range(1..256)).min(bytes.len());
                bytes.drain(a..b);
            }
            6 => {
                // A lying header: a big integer over a field near the start.
                let big: u64 =
                    [1_000_000_000, u32::MAX as u64, u64::MAX, 1 << 40, 0][rng.random_range(0..5)];
                let at = rng.random_range(0..24.min(n));
                let be = rng.random::<bool>();
                let raw = if be {
                    big.to_be_bytes()
                } else {
                    big.to_le_bytes()
                };
                let len = [4, 8][rng.random_range(0..2)];
                let src = if be { &raw[8 - len..] } else { &raw[..len] };
                for (k, &b) in src.iter().enumerate() {
                    if let Some(d) = bytes.get_mut(at + k) {
                        *d = b;
                    }
                }
            }
            _ => {
                // A splice: the start of this file, the end of another.
                let a = rng.random_range(0..n).min(bytes.len());
                let b = rng.random_range(0..other.len().max(1)).min(other.len());
                bytes.truncate(a);
                bytes.extend_from_slice(&other[b..]);
            }
        }
    }
}

/// What the input really holds: its length, or more if it is gzip data.
fn real_size(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut d = flate2::read::MultiGzDecoder::new(bytes);
        let mut buf = [0u8; 8192];
        let mut total = 0usize;
        while let Ok(k) = d.read(&mut buf) {
            if k == 0 {
                break;
            }
            total += k;
        }
        total.max(bytes.len())
    } else {
        bytes.len()
    }
}

/// Runs one input; `Ok(true)` if the loader accepted it.
fn run(target: Target, bytes: &[u8], scratch: &std::path::Path) -> Result<bool, String> {
    Ok(match target {
        Target::Images => mnist::images_from_reader::<f32>(bytes).is_ok(),
        Target::Labels => mnist::labels_from_reader(bytes).is_ok(),
        Target::Csv => Dataset::<f64>::from_reader(bytes).is_ok(),
        Target::CsvGz => {
            std::fs::write(scratch, bytes).map_err(|e| e.to_string())?;
            Dataset::<f64>::read_csv(scratch).is_ok()
        }
        Target::Network => {
            let mut net = Small::new(2);
            let before = net.get_weights();
            let ok = net.load_safetensors(bytes, "<fuzz>").is_ok();
            if !ok && net.get_weights() != before {
                return Err("a failed load changed the network".into());
            }
            ok
        }
        Target::Standardizer => Standardizer::<f64>::from_safetensors(bytes).is_ok(),
    })
}

#[derive(Default)]
struct Tally {
    runs: u64,
    accepted: u64,
    panics: u64,
    wrong: u64,
    worst_ratio: f64,
    worst_peak: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let seconds = value("--seconds").unwrap_or(20);
    let iterations = value("--iterations").unwrap_or(u64::MAX);
    let seed = value("--seed").unwrap_or(0);
    // Quiet the default hook: panics are counted and reported below.
    std::panic::set_hook(Box::new(|_| {}));
    let findings = std::path::Path::new("target/fuzz-findings");
    std::fs::create_dir_all(findings).unwrap();
    let scratch = std::env::temp_dir().join(format!("mlp-fuzz-{}.csv", std::process::id()));
    let corpora: Vec<Vec<Vec<u8>>> = TARGETS.iter().map(|&t| corpus(t)).collect();
    // Every seed file is accepted unmutated.
    for (t, files) in TARGETS.iter().zip(&corpora) {
        for f in files {
            assert_eq!(
                run(*t, f, &scratch),
                Ok(true),
                "{t:?}: a seed file is refused"
            );
        }
    }
    let mut rng = mlp::rng(seed);
    let mut tally: Vec<Tally> = TARGETS.iter().map(|_| Tally::default()).collect();
    let start = Instant::now();
    let mut done = 0u64;
    while done < iterations && start.elapsed() < Duration::from_secs(seconds) {
        let k = rng.random_range(0..TARGETS.len());
        let files = &corpora[k];
        let mut input = files[rng.random_range(0..files.len())].clone();
        let other = &files[rng.random_range(0..files.len())];
        mutate(&mut input, other, &mut rng);
        let real = real_size(&input);
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let result = catch_unwind(AssertUnwindSafe(|| run(TARGETS[k], &input, &scratch)));
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        let t = &mut tally[k];
        t.runs += 1;
        let ratio = peak as f64 / real.max(1) as f64;
        if peak > t.worst_peak {
            t.worst_peak = peak;
        }
        if peak > 4 << 20 {
            t.worst_ratio = t.worst_ratio.max(ratio);
        }
        let save = |what: &str, n: u64| {
            let path = findings.join(format!("{:?}-{what}-{n}.bin", TARGETS[k]));
            std::fs::write(&path, &input).unwrap();
            path
        };
        match result {
            Ok(Ok(true)) => t.accepted += 1,
            Ok(Ok(false)) => {}
            Ok(Err(why)) => {
                t.wrong += 1;
                eprintln!(
                    "{:?}: {why}: {}",
                    TARGETS[k],
                    save("wrong", t.wrong).display()
                );
            }
            Err(_) => {
                t.panics += 1;
                eprintln!(
                    "{:?}: panic: {}",
                    TARGETS[k],
                    save("panic", t.panics).display()
                );
            }
        }
        if peak > 16 * real + (4 << 20) {
            t.wrong += 1;
            eprintln!(
                "{:?}: {peak} bytes for an input holding {real}: {}",
                TARGETS[k],
                save("memory", t.wrong).display()
            );
        }
        done += 1;
    }
    std::fs::remove_file(&scratch).ok();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{done} inputs in {secs:.1} s ({:.0}/s), seed {seed}",
        done as f64 / secs
    );
    println!(
        "{:<14}{:>10}{:>10}{:>8}{:>8}{:>14}",
        "target", "inputs", "accepted", "panics", "wrong", "peak memory"
    );
    for (t, n) in TARGETS.iter().zip(&tally) {
        println!(
            "{:<14}{:>10}{:>10}{:>8}{:>8}{:>11} KiB",
            format!("{t:?}"),
            n.runs,
            n.accepted,
            n.panics,
            n.wrong,
            n.worst_peak / 1024
        );
    }
    let bad: u64 = tally.iter().map(|t| t.panics + t.wrong).sum();
    if bad > 0 {
        println!("{bad} findings, inputs in {}", findings.display());
        std::process::exit(1);
    }
}
