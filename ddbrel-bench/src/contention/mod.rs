//! The contention benchmark's machinery: an engine with the concurrency model in front, the
//! writers' loop, what they did, and the scenarios (`report`, `scenarios`). The binary
//! `contention` runs them.

pub mod report;
pub mod scenarios;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use ddbrel_model::{Clock, Model, ModelConfig, Throughput};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;
use ddbrel_runtime::{Error, RetryPolicy, Store, Stored};
use entities::{Account, JobCollection};

use crate::fixture::{account, collection};
use report::{Row, Tally};

/// Any error of a run.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

const TABLE: &str = "contention";
/// The hold of every TransactWriteItems (model time).
pub const HOLD: Duration = Duration::from_millis(10);

/// An engine on a runtime of its own, a plain store on it (audit) and a store whose client
/// goes through a model. A scenario is set up through the model in pass-through mode (at
/// once, with the model learning every item's index entries), then measured.
pub(crate) struct Bench {
    pub(crate) plain: Store,
    pub(crate) store: Store,
    pub(crate) model: Model,
    pub(crate) _engine: Engine,
    pub(crate) engine_runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(rt) = self.engine_runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Bench {
    pub(crate) async fn start(scale: f64, plan: &Plan) -> Result<Bench, BoxError> {
        let engine_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("embedded-engine")
            .enable_all()
            .build()?;
        let engine = engine_runtime.spawn(Engine::memory()).await??;
        let endpoint = engine.endpoint();
        let plain = Store::local(&endpoint, TABLE);
        let model = Model::new(
            ModelConfig {
                hold: HOLD,
                // A partition's limit is a rate: it keeps 10 ms of unused capacity, not the
                // table-wide burst pool (which no partition can spend faster than its rate).
                throughput: plan.throughput.then(|| Throughput {
                    burst: Duration::from_millis(10),
                    ..Throughput::default()
                }),
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
        // Through the model, which learns the table's indexes from its CreateTable.
        model.set_pass_through(true);
        store.create_table().await?;
        Ok(Bench {
            plain,
            store,
            model,
            _engine: engine,
            engine_runtime: Some(engine_runtime),
        })
    }

    pub(crate) fn now(&self) -> Duration {
        self.model.clock().now()
    }

    /// Ends the set-up: the model out of pass-through mode, its buckets full again and its
    /// statistics cleared, so that only the measured load counts.
    pub(crate) fn measure_from_here(&self) {
        self.model.set_pass_through(false);
        self.model.refill();
        self.model.reset_stats();
    }

    /// An account with `n` job collections (set-up: call before [`Bench::measure_from_here`]).
    pub(crate) async fn account_with(
        &self,
        hint: &str,
        n: usize,
    ) -> Result<(Stored<Account>, Vec<Stored<JobCollection>>), BoxError> {
        let a = self.store.create(account(hint)).await?;
        let mut cols = Vec::with_capacity(n);
        for i in 0..n {
            cols.push(
                self.store
                    .create_child(&a, collection(&format!("{hint}-{i}")))
                    .await?,
            );
        }
        Ok((a, cols))
    }

    /// Runs `writers` writers until `window` (model time) has passed: writer `w` runs
    /// `op(w, i)` for i = 0, 1, ...; an operation counts if it ended inside the window.
    pub(crate) async fn run<F, Fut>(&self, writers: usize, window: Duration, op: F) -> Tally
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

    pub(crate) fn row(
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
            throttled: {
                let s = self.model.stats();
                s.throttled + s.transaction_throttles
            },
            hottest_meters: self.model.hottest_meters(3),
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
pub struct Plan {
    /// Model time each writer scenario runs.
    pub window: Duration,
    /// Jobs in the subtree of cascade-under-load.
    pub subtree_jobs: u64,
    /// Whether the model limits throughput as DynamoDB does (per partition, item and index
    /// partition: [`Throughput::default`]).
    pub throughput: bool,
}
