//! # ddbrel-bench
//!
//! Benchmarks of ddbrel, each paired with a hand-written aws-sdk-dynamodb baseline that sends
//! the same requests (same items, same conditions, same number of requests) and builds or
//! decodes the same items. `docs/BENCHMARKS.md` describes the method and the results.
//!
//! - [`fixture`]: an embedded engine, a ddbrel store and a raw client on the same table, each
//!   client with its own [`ddbrel_runtime::RequestCounter`], and sample data.
//! - [`ddbrel_side`]: ddbrel's encoding of a Resource item as the store performs it on create.
//! - [`raw`]: the baselines, written against the SDK and `serde_dynamo` alone.
//! - [`bulk`]: bulk creation and the naive sequential cascade.
//!
//! The benchmarks are in `benches/` (`cargo bench -p ddbrel-bench`); `tests/equivalence.rs`
//! checks that each baseline sends the same requests and produces the same result as ddbrel.

#![warn(missing_docs)]

pub mod bulk;
pub mod contention;
pub mod ddbrel_side;
pub mod fixture;
pub mod raw;

/// The error type of the baselines and helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A tokio runtime for benchmarks: multi-threaded (one worker per core), so the embedded
/// engine serves on worker threads while the benchmark drives requests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// Whether the benchmarks measure the baseline before ddbrel in each pair
/// (`DDBREL_BENCH_BASELINE_FIRST=1`), to check that the order of the two measurements does
/// not bias the comparison.
pub fn baseline_first() -> bool {
    std::env::var("DDBREL_BENCH_BASELINE_FIRST").is_ok_and(|v| v == "1")
}

/// Prints the requests one operation sent through ddbrel and through the baseline, and
/// panics if they differ: a pair is only meaningful when both sides send the same requests.
pub fn report_requests(
    operation: &str,
    ddbrel: &std::collections::BTreeMap<String, u64>,
    baseline: &std::collections::BTreeMap<String, u64>,
) {
    let show = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    println!(
        "requests per operation, {operation}: ddbrel {} | baseline {}",
        show(ddbrel),
        show(baseline)
    );
    assert_eq!(
        ddbrel, baseline,
        "{operation}: ddbrel and the baseline must send the same requests"
    );
}

/// The result of [`paired`]: the median time of one operation on each side, and the median
/// over rounds of the ratio ddbrel / baseline with its quartiles.
#[derive(Debug, Clone, Copy)]
pub struct Paired {
    /// Median time of one ddbrel operation.
    pub ddbrel: std::time::Duration,
    /// Median time of one baseline operation.
    pub baseline: std::time::Duration,
    /// Median over rounds of (ddbrel time / baseline time).
    pub ratio: f64,
    /// First quartile of the per-round ratios.
    pub ratio_q1: f64,
    /// Third quartile of the per-round ratios.
    pub ratio_q3: f64,
    /// Rounds measured.
    pub rounds: usize,
}

fn median_of<T: Copy + PartialOrd>(v: &mut [T], q: f64) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Measures a pair by alternation: each round times `batch` ddbrel operations and `batch`
/// baseline operations back to back, the order swapped every round (ABBA), for at least
/// `budget` and 20 rounds; outputs are dropped after the timed loop. Both sides thus run
/// under the same machine load, which a one-after-the-other measurement cannot promise on a
/// shared machine. Prints and returns the result.
pub fn paired<O, P>(
    name: &str,
    budget: std::time::Duration,
    batch: u32,
    mut ddbrel: impl FnMut() -> O,
    mut baseline: impl FnMut() -> P,
) -> Paired {
    paired_with_input(name, budget, batch, || (), |()| ddbrel(), |()| baseline())
}

/// [`paired`] for operations that consume an input: `setup` makes each operation's input
/// before the batch is timed (for instance a clone of the item to decode).
pub fn paired_with_input<I, O, P>(
    name: &str,
    budget: std::time::Duration,
    batch: u32,
    mut setup: impl FnMut() -> I,
    mut ddbrel: impl FnMut(I) -> O,
    mut baseline: impl FnMut(I) -> P,
) -> Paired {
    use std::time::{Duration, Instant};
    // Times one batch. Inputs are made before and outputs dropped after the timed loop, as
    // criterion's `iter_batched` does.
    fn time<I, T>(
        batch: u32,
        setup: &mut impl FnMut() -> I,
        f: &mut impl FnMut(I) -> T,
    ) -> Duration {
        let inputs: Vec<I> = (0..batch).map(|_| setup()).collect();
        let mut outputs: Vec<T> = Vec::with_capacity(batch as usize);
        let start = Instant::now();
        for input in inputs {
            outputs.push(std::hint::black_box(f(input)));
        }
        let elapsed = start.elapsed();
        drop(outputs);
        elapsed / batch
    }
    // Warm up both sides.
    time(batch, &mut setup, &mut ddbrel);
    time(batch, &mut setup, &mut baseline);
    let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget || a.len() < 20 {
        let (x, y) = if a.len() % 2 == 0 {
            let x = time(batch, &mut setup, &mut ddbrel);
            (x, time(batch, &mut setup, &mut baseline))
        } else {
            let y = time(batch, &mut setup, &mut baseline);
            (time(batch, &mut setup, &mut ddbrel), y)
        };
        a.push(x);
        b.push(y);
        r.push(x.as_secs_f64() / y.as_secs_f64().max(1e-12));
    }
    let result = Paired {
        ddbrel: median_of(&mut a, 0.5),
        baseline: median_of(&mut b, 0.5),
        ratio: median_of(&mut r, 0.5),
        ratio_q1: median_of(&mut r, 0.25),
        ratio_q3: median_of(&mut r, 0.75),
        rounds: a.len(),
    };
    println!(
        "paired {name}: ddbrel {:?} | baseline {:?} | ratio {:.3} (quartiles {:.3}..{:.3}, {} rounds of {batch})",
        result.ddbrel,
        result.baseline,
        result.ratio,
        result.ratio_q1,
        result.ratio_q3,
        result.rounds
    );
    result
}
