//! Contention benchmark: the real ddbrel `Store` driven by many writers through the
//! concurrency model (`ddbrel-model`) on the embedded engine, one row per scenario.
//!
//! ```text
//! cargo run -p ddbrel-bench --bin contention -- [--quick] [--json]
//! ```
//!
//! Every request executes on the engine; the model holds each TransactWriteItems' items for
//! its prepare+commit time (10 ms model time) and refuses what DynamoDB would refuse. Model
//! time runs slower than wall time (a scale per scenario, chosen so that the engine's own
//! latency is small next to the hold), and every figure is in model time. Each scenario runs
//! for a fixed window of model time; an operation counts if it finished inside the window.
//! The store's retry policy is ddbrel's default, scaled so that its backoffs are the default's
//! in model time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use ddbrel_bench::fixture::{account, collection, job};
use ddbrel_model::{Clock, Model, ModelConfig};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;
use ddbrel_runtime::{Error, RetryPolicy, Store, Stored};
use entities::{Account, JobCollection};
use serde_json::json;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

const TABLE: &str = "contention";
const HOLD: Duration = Duration::from_millis(10);

/// What the writers of one scenario did inside the window.
#[derive(Default)]
struct Tally {
    attempts: u64,
    committed: u64,
    failed: u64,
    /// Failures by kind (the error's variant and, for service errors, the code).
    failures: BTreeMap<String, u64>,
    /// Model-time latency of each committed operation.
    latencies: Vec<Duration>,
}

impl Tally {
    fn record(&mut self, started: Duration, ended: Duration, outcome: Result<(), Error>) {
        match outcome {
            Ok(()) => {
                self.committed += 1;
                self.latencies.push(ended.saturating_sub(started));
            }
            Err(e) => {
                self.failed += 1;
                *self.failures.entry(kind(&e)).or_default() += 1;
            }
        }
    }
}

/// A short name for an error: the variant, and the service's code when there is one.
fn kind(e: &Error) -> String {
    let text = e.to_string();
    let code = [
        "TransactionConflictException",
        "TransactionCanceledException",
        "TransactionInProgressException",
        "IdempotentParameterMismatchException",
    ]
    .into_iter()
    .find(|c| format!("{e:?}").contains(c));
    let variant = format!("{e:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_string();
    match code {
        Some(c) => format!("{variant}:{c}"),
        None if variant.is_empty() => text,
        None => variant,
    }
}

/// One row of the table.
struct Row {
    scenario: &'static str,
    writers: usize,
    tally: Tally,
    conflicts: u64,
    model_seconds: f64,
    scale: f64,
    hottest: Vec<(String, u64)>,
    note: String,
}

impl Row {
    fn goodput(&self) -> f64 {
        self.tally.committed as f64 / self.model_seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut l = self.tally.latencies.clone();
        if l.is_empty() {
            return 0.0;
        }
        l.sort();
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        l[i.min(l.len() - 1)].as_secs_f64() * 1000.0
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "scenario": self.scenario,
            "writers": self.writers,
            "attempts": self.tally.attempts,
            "committed": self.tally.committed,
            "conflicts": self.conflicts,
            "failed": self.tally.failed,
            "goodput_per_s": (self.goodput() * 10.0).round() / 10.0,
            "p50_ms": (self.percentile(0.5) * 10.0).round() / 10.0,
            "p99_ms": (self.percentile(0.99) * 10.0).round() / 10.0,
            "hottest_keys": self.hottest.iter().map(|(k, n)| json!({"key": k, "conflicts": n})).collect::<Vec<_>>(),
            "failures": self.tally.failures,
            "model_seconds": self.model_seconds,
            "time_scale": self.scale,
            "hold_ms": HOLD.as_secs_f64() * 1000.0,
            "note": self.note,
        })
    }

    fn text(&self) -> String {
        let hottest = self
            .hottest
            .first()
            .map(|(k, n)| format!("{} ({n})", short(k)))
            .unwrap_or_else(|| "-".into());
        let mut note = self.note.clone();
        if !self.tally.failures.is_empty() {
            let f: Vec<String> = self
                .tally
                .failures
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("failed: {}", f.join(", ")));
        }
        format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} | {} |",
            self.scenario,
            self.writers,
            self.tally.attempts,
            self.tally.committed,
            self.conflicts,
            self.tally.failed,
            self.goodput(),
            self.percentile(0.5),
            self.percentile(0.99),
            hottest,
            note,
        )
    }
}

/// A key as `Type…last 6 of the id`, readable in a table.
fn short(key: &str) -> String {
    let urn = key.split('/').nth(1).unwrap_or(key);
    let ty = urn
        .split("::")
        .next()
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("");
    let id = urn.rsplit("::").next().unwrap_or("");
    let tail = &id[id.len().saturating_sub(6)..];
    format!("{ty}…{tail}")
}

/// An engine on a runtime of its own, a plain store on it (setup and audit) and a store
/// whose client goes through a model.
struct Bench {
    plain: Store,
    store: Store,
    model: Model,
    _engine: Engine,
    engine_runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(rt) = self.engine_runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Bench {
    async fn start(scale: f64) -> Result<Bench, BoxError> {
        let engine_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("embedded-engine")
            .enable_all()
            .build()?;
        let engine = engine_runtime.spawn(Engine::memory()).await??;
        let endpoint = engine.endpoint();
        let plain = Store::local(&endpoint, TABLE);
        plain.create_table().await?;
        let model = Model::new(
            ModelConfig {
                hold: HOLD,
                ..ModelConfig::default()
            },
            Clock::scaled(scale),
        );
        let client = Client::from_conf(
            local_config_builder(&endpoint)
                .http_client(model.clone())
                .build(),
        );
        // ddbrel's default policy, in model time.
        let default = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts: default.max_attempts,
            base: default.base.div_f64(scale),
            cap: default.cap.div_f64(scale),
        };
        let store = Store::new(client, TABLE).with_retry_policy(retry);
        Ok(Bench {
            plain,
            store,
            model,
            _engine: engine,
            engine_runtime: Some(engine_runtime),
        })
    }

    fn now(&self) -> Duration {
        self.model.clock().now()
    }

    /// An account with `n` job collections, created without the model.
    async fn account_with(
        &self,
        hint: &str,
        n: usize,
    ) -> Result<(Stored<Account>, Vec<Stored<JobCollection>>), BoxError> {
        let a = self.plain.create(account(hint)).await?;
        let mut cols = Vec::with_capacity(n);
        for i in 0..n {
            cols.push(
                self.plain
                    .create_child(&a, collection(&format!("{hint}-{i}")))
                    .await?,
            );
        }
        Ok((a, cols))
    }

    /// Runs `writers` writers until `window` (model time) has passed: writer `w` runs
    /// `op(w, i)` for i = 0, 1, ...; an operation counts if it ended inside the window.
    async fn run<F, Fut>(&self, writers: usize, window: Duration, op: F) -> Tally
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
    {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let op = Arc::new(op);
        let end = self.now() + window;
        let mut tasks = Vec::new();
        for w in 0..writers {
            let tally = tally.clone();
            let op = op.clone();
            let clock = self.model.clock().clone();
            tasks.push(tokio::spawn(async move {
                let mut i = 0u64;
                while clock.now() < end {
                    let started = clock.now();
                    let outcome = op(w, i).await;
                    let ended = clock.now();
                    if ended > end {
                        break;
                    }
                    let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                    t.attempts += 1;
                    t.record(started, ended, outcome);
                    i += 1;
                }
            }));
        }
        self.model.clock().sleep_until(end).await;
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
        self.model.until_idle().await;
        let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *t)
    }

    fn row(
        &self,
        scenario: &'static str,
        writers: usize,
        tally: Tally,
        model_seconds: f64,
        note: String,
    ) -> Row {
        Row {
            scenario,
            writers,
            tally,
            conflicts: self.model.stats().conflicts(),
            model_seconds,
            scale: self.model.clock().scale(),
            hottest: self
                .model
                .hottest_keys(3)
                .into_iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            note,
        }
    }
}

/// The sizes of a run.
struct Plan {
    /// Model time each writer scenario runs.
    window: Duration,
    /// Jobs in the subtree of cascade-under-load.
    subtree_jobs: u64,
}

async fn one_parent(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25).await?;
    let (_, cols) = b.account_with("one-parent", 1).await?;
    let parent = Arc::new(cols[0].clone());
    let store = b.store.clone();
    let tally = b
        .run(64, plan.window, move |_, i| {
            let store = store.clone();
            let parent = parent.clone();
            async move { store.create_child(&*parent, job(i)).await.map(|_| ()) }
        })
        .await;
    Ok(b.row(
        "one-parent",
        64,
        tally,
        plan.window.as_secs_f64(),
        String::new(),
    ))
}

async fn one_account(plan: &Plan) -> Result<Row, BoxError> {
    // Since write protocol v2 a create holds only its parent, so 64 writers over 100 parents
    // rarely meet: at the contended scenarios' scale the engine's own latency (one request at
    // a time) would be what is measured. The scale of many-accounts keeps it small next to the
    // hold, with a window as long in wall time.
    let scale = 0.01;
    let b = Bench::start(scale).await?;
    let (_, cols) = b.account_with("one-account", 100).await?;
    let cols = Arc::new(cols);
    let store = b.store.clone();
    let window = plan.window.mul_f64(scale / 0.25);
    let tally = b
        .run(64, window, move |w, i| {
            let store = store.clone();
            let cols = cols.clone();
            async move {
                let parent = &cols[(w + 64 * i as usize) % cols.len()];
                store.create_child(parent, job(i)).await.map(|_| ())
            }
        })
        .await;
    Ok(b.row(
        "one-account",
        64,
        tally,
        window.as_secs_f64(),
        "100 collections".into(),
    ))
}

async fn many_accounts(plan: &Plan) -> Result<Row, BoxError> {
    // 64 independent writers: a smaller scale keeps the engine's own latency small next to
    // the hold, and the window is shorter in model time for the same wall time.
    let scale = 0.01;
    let b = Bench::start(scale).await?;
    let mut parents = Vec::new();
    for w in 0..64 {
        let (_, cols) = b.account_with(&format!("acct{w}"), 1).await?;
        parents.extend(cols);
    }
    let parents = Arc::new(parents);
    let store = b.store.clone();
    let window = plan.window.mul_f64(scale / 0.25);
    let tally = b
        .run(64, window, move |w, i| {
            let store = store.clone();
            let parents = parents.clone();
            async move { store.create_child(&parents[w], job(i)).await.map(|_| ()) }
        })
        .await;
    Ok(b.row(
        "many-accounts",
        64,
        tally,
        window.as_secs_f64(),
        "one account per writer".into(),
    ))
}

async fn update_churn(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25).await?;
    let (acct, cols) = b.account_with("churn", 100).await?;
    let cols = Arc::new(cols);
    // 4 updaters rename the account (read it, then a single UpdateItem on the Account item)
    // while 60 writers create jobs across its 100 collections.
    let updaters = 4usize;
    let updates = Arc::new(Mutex::new(Tally::default()));
    let end = b.now() + plan.window;
    let mut tasks = Vec::new();
    for w in 0..updaters {
        let (store, urn, up) = (b.store.clone(), acct.urn.clone(), updates.clone());
        let clock = b.model.clock().clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while clock.now() < end {
                let started = clock.now();
                let outcome = async {
                    let mut a = store.get(&urn).await?;
                    a.data.name = format!("Account renamed {w}-{i}");
                    store.update(&a).await.map(|_| ())
                }
                .await;
                let ended = clock.now();
                if ended > end {
                    break;
                }
                let mut t = up.lock().unwrap_or_else(|p| p.into_inner());
                t.attempts += 1;
                t.record(started, ended, outcome);
                i += 1;
            }
        }));
    }
    let store = b.store.clone();
    let creates = b
        .run(64 - updaters, plan.window, move |w, i| {
            let store = store.clone();
            let cols = cols.clone();
            async move {
                let parent = &cols[(w + 64 * i as usize) % cols.len()];
                store.create_child(parent, job(i)).await.map(|_| ())
            }
        })
        .await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
    b.model.until_idle().await;
    let u = updates.lock().unwrap_or_else(|p| p.into_inner());
    let failures: Vec<String> = u.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let note = format!(
        "creates by 60 writers; account updates by 4: {} of {} committed ({})",
        u.committed,
        u.attempts,
        if failures.is_empty() {
            "no failures".into()
        } else {
            failures.join(", ")
        }
    );
    Ok(b.row("update-churn", 64, creates, plan.window.as_secs_f64(), note))
}

async fn cascade_under_load(plan: &Plan) -> Result<Row, BoxError> {
    let b = Bench::start(0.25).await?;
    let (_, cols) = b.account_with("cascade", 101).await?;
    let subtree = cols[100].clone();
    // The subtree, built without the model.
    {
        let plain = b.plain.clone();
        let parent = subtree.clone();
        futures::future::try_join_all((0..8).map(|k| {
            let plain = plain.clone();
            let parent = parent.clone();
            async move {
                let mut i = k;
                while i < plan.subtree_jobs {
                    plain.create_child(&parent, job(i)).await?;
                    i += 8;
                }
                Ok::<(), Error>(())
            }
        }))
        .await?;
    }
    let subtree = b.plain.get(&subtree.urn).await?;
    let records = b
        .plain
        .plan_delete(subtree.urn.as_any())
        .await?
        .record_count();
    let beside = Arc::new(cols[..100].to_vec());
    let under = Arc::new(subtree.clone());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let under_tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    // The writers stop when the cascade ends, or after the window if it has not by then (the
    // cascade then finishes without them, and the note says so).
    let load_start = b.now();
    let load_end = load_start + plan.window + Duration::from_millis(50);
    let writers = 32usize;
    let under_writers = 4usize;
    for w in 0..writers {
        let store = b.store.clone();
        let clock = b.model.clock().clone();
        let (beside, under, stop) = (beside.clone(), under.clone(), stop.clone());
        let t = if w < under_writers {
            under_tally.clone()
        } else {
            tally.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && clock.now() < load_end {
                let started = clock.now();
                let outcome = if w < under_writers {
                    store.create_child(&*under, job(i)).await.map(|_| ())
                } else {
                    let parent = &beside[(w + 32 * i as usize) % beside.len()];
                    store.create_child(parent, job(i)).await.map(|_| ())
                };
                let ended = clock.now();
                if ended > load_end {
                    break;
                }
                let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
                t.attempts += 1;
                t.record(started, ended, outcome);
                i += 1;
            }
        }));
    }
    // Let the writers get going, then delete the subtree through the model. A cascade left
    // part way (its fence or a step refused) is resumed, as a caller would.
    b.model
        .clock()
        .sleep_until(b.now() + Duration::from_millis(50))
        .await;
    let started = b.now();
    let mut delete_attempts = 0;
    let mut delete_errors = Vec::new();
    let deleted = loop {
        delete_attempts += 1;
        match b.store.delete_urn(subtree.urn.as_any()).await {
            Ok(report) => break Some(report),
            Err(e) => {
                delete_errors.push(kind(&e));
                if delete_attempts >= 20 {
                    break None;
                }
            }
        }
    };
    let duration = b.now().saturating_sub(started);
    let under_load = b.now() < load_end;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let load_seconds = (b.now().min(load_end) - load_start).as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    b.model.until_idle().await;
    let audit = ddbrel_runtime::integrity::audit(&b.plain, 4).await?;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &audit.findings {
        *kinds.entry(f.kind.as_str()).or_default() += 1;
    }
    let u = under_tally.lock().unwrap_or_else(|p| p.into_inner());
    let under_failures: Vec<String> = u.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let beside_tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    let note = format!(
        "subtree {} records; delete {} in {:.0} ms model time ({}), {} attempt(s){}; 4 writers under it: {} committed, {} refused ({}); audit: {}",
        records,
        if deleted.is_some() {
            "done"
        } else {
            "NOT done"
        },
        duration.as_secs_f64() * 1000.0,
        if under_load {
            "all of it under load"
        } else {
            "the writers stopped before it ended"
        },
        delete_attempts,
        if delete_errors.is_empty() {
            String::new()
        } else {
            format!(" (errors: {})", delete_errors.join(", "))
        },
        u.committed,
        u.failed,
        under_failures.join(", "),
        if audit.is_clean() {
            format!("clean, {} records", audit.records)
        } else {
            format!("{kinds:?}")
        },
    );
    // Goodput of the writers beside the subtree over the time they ran.
    Ok(b.row(
        "cascade-under-load",
        writers - under_writers,
        beside_tally,
        load_seconds,
        note,
    ))
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let as_json = args.iter().any(|a| a == "--json");
    let plan = if quick {
        Plan {
            window: Duration::from_millis(2500),
            subtree_jobs: 300,
        }
    } else {
        Plan {
            window: Duration::from_secs(6),
            subtree_jobs: 5000,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if !as_json {
        println!(
            "| scenario | writers | attempts | committed | conflicts | failed | goodput/s | p50 ms | p99 ms | hottest key (conflicts) | note |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
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
