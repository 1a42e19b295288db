//! Contention benchmark: the real ddbrel `Store` driven by many writers through the
//! concurrency model (`ddbrel-model`) on the embedded engine, one row per scenario.
//!
//! ```text
//! cargo run -p ddbrel-bench --bin contention -- [--quick] [--json] [--throughput]
//! ```
//!
//! `--throughput` adds DynamoDB's throughput limits to the model (1,000 WCU/s and 3,000
//! RCU/s per partition key value, per item and per index partition key value; a write whose
//! index partition is short is throttled), with every scenario set up through the model so
//! that it knows each item's index entries.
//!
//! Every request executes on the engine; the model holds each TransactWriteItems' items for
//! its prepare+commit time (10 ms model time) and refuses what DynamoDB would refuse. Model
//! time runs slower than wall time (a scale per scenario, chosen so that the engine's own
//! latency is small next to the hold), and every figure is in model time. Each scenario runs
//! for a fixed window of model time; an operation counts if it finished inside the window.
//! The store's retry policy is ddbrel's default, scaled so that its backoffs are the default's
//! in model time.

use std::time::Duration;

use ddbrel_bench::contention::report::Row;
use ddbrel_bench::contention::scenarios::{
    cascade_under_load, many_accounts, one_account, one_parent, update_churn,
};
use ddbrel_bench::contention::{BoxError, Plan};

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let as_json = args.iter().any(|a| a == "--json");
    let throughput = args.iter().any(|a| a == "--throughput");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--quick" | "--json" | "--throughput"))
    {
        return Err(format!(
            "unknown argument {unknown:?}; usage: contention [--quick] [--json] [--throughput]"
        )
        .into());
    }
    let plan = if quick {
        Plan {
            window: Duration::from_millis(2500),
            subtree_jobs: 300,
            throughput,
        }
    } else {
        Plan {
            window: Duration::from_secs(6),
            subtree_jobs: 5000,
            throughput,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if !as_json {
        println!(
            "| scenario | writers | attempts | committed | conflicts | throttled | failed | goodput/s | p50 ms | p99 ms | hottest key (conflicts) | note |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    type Scenario = for<'a> fn(
        &'a Plan,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Row, BoxError>> + 'a>,
    >;
    let scenarios: [(&str, Scenario); 5] = [
        ("one-parent", |p| Box::pin(one_parent(p))),
        ("one-account", |p| Box::pin(one_account(p))),
        ("many-accounts", |p| Box::pin(many_accounts(p))),
        ("update-churn", |p| Box::pin(update_churn(p))),
        ("cascade-under-load", |p| Box::pin(cascade_under_load(p))),
    ];
    for (name, scenario) in scenarios {
        let wall = std::time::Instant::now();
        let row = rt.block_on(scenario(&plan))?;
        eprintln!("{name}: {:.1} s wall", wall.elapsed().as_secs_f64());
        if as_json {
            println!("{}", row.json());
        } else {
            println!("{}", row.text());
        }
    }
    Ok(())
}
