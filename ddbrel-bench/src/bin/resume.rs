//! Resume benchmark (write protocol v2): the cascade of a large tree, three ways, each on a
//! fresh table of the embedded engine, with the requests counted per operation:
//!
//! 1. fresh: one uninterrupted cascade;
//! 2. killed part way (when it has sent half the requests of the fresh run), then resumed:
//!    the resume's requests against the fresh run's;
//! 3. killed every `--kill-every-ms` of wall time (default 2,000) until a run finishes.
//!
//! After 2 and 3 the table is empty and the integrity check finds nothing.
//!
//! ```text
//! cargo run --release -p ddbrel-bench --bin resume -- [--collections 100] [--jobs 200] [--kill-every-ms 2000]
//! ```

use std::time::{Duration, Instant};

use ddbrel_bench::BoxError;
use ddbrel_bench::bulk::{build_tree, count_items, tree_records};
use ddbrel_bench::fixture::Fixture;
use ddbrel_runtime::integrity;

fn arg(args: &[String], name: &str, default: u64) -> Result<u64, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let v = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} needs a value"))?;
            Ok(v.parse().map_err(|e| format!("{name} {v}: {e}"))?)
        }
    }
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let collections = arg(&args, "--collections", 100)?;
    let jobs = arg(&args, "--jobs", 200)?;
    let kill_every = Duration::from_millis(arg(&args, "--kill-every-ms", 2000)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(collections, jobs, kill_every))
}

async fn run(collections: u64, jobs: u64, kill_every: Duration) -> Result<(), BoxError> {
    let records = tree_records(collections, jobs);
    println!("tree: {collections} collections of {jobs} jobs, {records} records");
    let f = Fixture::start().await?;
    let counter = &f.store_counter;

    // 1. Fresh.
    let (store, raw) = f.other_table("fresh").await?;
    let tree = build_tree(&store, collections, jobs).await?;
    counter.reset();
    let t = Instant::now();
    let report = store.delete_urn(tree.account.urn.as_any()).await?;
    let fresh = counter.total();
    println!(
        "fresh cascade: {} records deleted, {fresh} requests {:?}, {:.1} s",
        report.record_count(),
        counter.snapshot(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(count_items(&raw).await?, 0);

    // 2. Killed at half the fresh requests, then resumed.
    let (store, raw) = f.other_table("resumed").await?;
    let tree = build_tree(&store, collections, jobs).await?;
    counter.reset();
    let root = tree.account.urn.as_any().clone();
    let task = {
        let (store, root) = (store.clone(), root.clone());
        tokio::spawn(async move { store.delete_urn(&root).await })
    };
    while counter.total() < fresh / 2 && !task.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    task.abort();
    let _ = task.await;
    let first = counter.total();
    let left = count_items(&raw).await?;
    counter.reset();
    let t = Instant::now();
    store.delete_urn(&root).await?;
    let resumed = counter.total();
    println!(
        "killed after {first} requests with {left} of {records} records left; resume: {resumed} requests {:?}, {:.1} s; resume / fresh = {:.2}",
        counter.snapshot(),
        t.elapsed().as_secs_f64(),
        resumed as f64 / fresh as f64
    );
    assert_eq!(count_items(&raw).await?, 0);
    let audit = integrity::audit(&store, 4).await?;
    assert!(audit.findings.is_empty(), "{:?}", audit.findings);

    // 3. Killed every `kill_every` until a run finishes.
    let (store, raw) = f.other_table("killed").await?;
    let tree = build_tree(&store, collections, jobs).await?;
    counter.reset();
    let root = tree.account.urn.as_any().clone();
    let t = Instant::now();
    let mut runs = 0;
    loop {
        runs += 1;
        match tokio::time::timeout(kill_every, store.delete_urn(&root)).await {
            Ok(Ok(_)) => break,
            Ok(Err(e)) => println!("run {runs}: {e}"),
            Err(_) => {
                let left = count_items(&raw).await?;
                println!("run {runs} killed after {kill_every:?}: {left} records left");
            }
        }
        if runs > 1000 {
            return Err("no progress after 1,000 runs".into());
        }
    }
    println!(
        "killed every {kill_every:?}: finished in run {runs}, {:.1} s, {} requests {:?}",
        t.elapsed().as_secs_f64(),
        counter.total(),
        counter.snapshot()
    );
    assert_eq!(count_items(&raw).await?, 0);
    let audit = integrity::audit(&store, 4).await?;
    assert!(audit.findings.is_empty(), "{:?}", audit.findings);
    Ok(())
}
