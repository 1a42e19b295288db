//! Bulk create and cascading delete of large trees, timed by hand: each measurement gets a
//! fresh in-memory engine and its own data, and runs once per round (criterion's minimum of
//! 10 samples would take far too long at this size).
//!
//! - bulk create: 10,000 jobs over 10 collections with `create_child`, 32 at once
//!   (`buffer_unordered(32)`), against the same calls one after the other;
//! - cascade delete: an account with 10 collections of 500 jobs (10,032 records), deleted by
//!   `Store::delete_urn`, against a naive sequential delete (a Query per resource and one
//!   DeleteItem per record).
//!
//! `DDBREL_BENCH_ROUNDS` (default 1) repeats the measurements; the best round is reported.
//! `DDBREL_BENCH_CONCURRENCY` (default 32) sets the bulk create's concurrency.
//! `DDBREL_BENCH_JOBS` (default 10,000) and `DDBREL_BENCH_TREE_JOBS` (default 500 per
//! collection) change the sizes. A filter argument (`cargo bench -p ddbrel-bench -- cascade`)
//! runs only the matching part.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ddbrel_bench::fixture::Fixture;
use ddbrel_bench::{bulk, runtime};

const COLLECTIONS: u64 = 10;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One measured run: how long, how much, and the requests it sent.
struct Run {
    elapsed: Duration,
    units: u64,
    requests: BTreeMap<String, u64>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.units as f64 / self.elapsed.as_secs_f64()
    }
}

fn requests(m: &BTreeMap<String, u64>) -> String {
    let total: u64 = m.values().sum();
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!("{total} ({})", parts.join(", "))
}

fn best(runs: Vec<Run>) -> Run {
    runs.into_iter()
        .min_by_key(|r| r.elapsed)
        .expect("at least one round")
}

fn report(name: &str, unit: &str, ddbrel: &Run, naive: &Run) {
    println!("{name}");
    println!(
        "  ddbrel: {:>9.3} s  {:>9.0} {unit}/s  requests {}",
        ddbrel.elapsed.as_secs_f64(),
        ddbrel.per_second(),
        requests(&ddbrel.requests)
    );
    println!(
        "  naive:  {:>9.3} s  {:>9.0} {unit}/s  requests {}",
        naive.elapsed.as_secs_f64(),
        naive.per_second(),
        requests(&naive.requests)
    );
    println!(
        "  ddbrel is {:.2}x the naive throughput (time ratio ddbrel/naive {:.3})",
        ddbrel.per_second() / naive.per_second(),
        ddbrel.elapsed.as_secs_f64() / naive.elapsed.as_secs_f64()
    );
}

fn bulk_create(rt: &tokio::runtime::Runtime, jobs: u64, concurrency: Option<usize>) -> Run {
    rt.block_on(async {
        let fx = Fixture::start().await.expect("start the engine");
        let tree = bulk::skeleton(&fx.store, COLLECTIONS)
            .await
            .expect("skeleton");
        fx.store_counter.reset();
        let start = Instant::now();
        let created = match concurrency {
            Some(n) => bulk::create_jobs_concurrent(&fx.store, &tree, jobs, n).await,
            None => bulk::create_jobs_sequential(&fx.store, &tree, jobs).await,
        }
        .expect("create jobs");
        let elapsed = start.elapsed();
        assert_eq!(created.len() as u64, jobs);
        Run {
            elapsed,
            units: jobs,
            requests: fx.store_counter.snapshot(),
        }
    })
}

fn cascade(rt: &tokio::runtime::Runtime, jobs_per: u64, naive: bool) -> Run {
    rt.block_on(async {
        let fx = Fixture::start().await.expect("start the engine");
        let tree = bulk::build_tree(&fx.store, COLLECTIONS, jobs_per)
            .await
            .expect("build the tree");
        let records = bulk::tree_records(COLLECTIONS, jobs_per);
        assert_eq!(bulk::count_items(&fx.raw).await.unwrap(), records);
        fx.store_counter.reset();
        fx.raw_counter.reset();
        let start = Instant::now();
        let deleted = if naive {
            bulk::naive_delete(&fx.raw, tree.account.urn.as_str())
                .await
                .expect("naive delete")
        } else {
            fx.store
                .delete_urn(tree.account.urn.as_any())
                .await
                .expect("delete")
                .record_count() as u64
        };
        let elapsed = start.elapsed();
        let requests = if naive {
            fx.raw_counter.snapshot()
        } else {
            fx.store_counter.snapshot()
        };
        assert_eq!(deleted, records);
        assert_eq!(bulk::count_items(&fx.raw).await.unwrap(), 0);
        Run {
            elapsed,
            units: records,
            requests,
        }
    })
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    let rounds = env_u64("DDBREL_BENCH_ROUNDS", 1).max(1);
    let jobs = env_u64("DDBREL_BENCH_JOBS", 10_000);
    let tree_jobs = env_u64("DDBREL_BENCH_TREE_JOBS", 500);
    let concurrency = env_u64("DDBREL_BENCH_CONCURRENCY", 32).max(1) as usize;
    let rt = runtime();

    if wanted("bulk create") {
        let (mut ours, mut naive) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(bulk_create(&rt, jobs, Some(concurrency)));
            naive.push(bulk_create(&rt, jobs, None));
        }
        report(
            &format!(
                "bulk create of {jobs} jobs in {COLLECTIONS} collections \
                 (buffer_unordered({concurrency}) vs a sequential loop of create_child), \
                 best of {rounds}"
            ),
            "jobs",
            &best(ours),
            &best(naive),
        );
    }
    if wanted("cascade delete") {
        let (mut ours, mut naive) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(cascade(&rt, tree_jobs, false));
            naive.push(cascade(&rt, tree_jobs, true));
        }
        report(
            &format!(
                "cascade delete of a tree of {} records (1 account, {COLLECTIONS} collections, \
                 {} jobs): Store::delete_urn vs a naive sequential delete, best of {rounds}",
                bulk::tree_records(COLLECTIONS, tree_jobs),
                COLLECTIONS * tree_jobs
            ),
            "records",
            &best(ours),
            &best(naive),
        );
    }
}
