//! # ddbrel-model
//!
//! A model of what DynamoDB does under concurrency and the embedded engine does not, placed in
//! the SDK client's HTTP connector in front of the engine. Every request still executes on the
//! engine: the model only delays, orders or refuses requests the way DynamoDB would, judging
//! from the requests' shapes ([`shape`]).
//!
//! - **Item-level transaction conflicts.** A TransactWriteItems holds every item it touches
//!   (Put, Update, Delete and ConditionCheck alike) from its arrival until its prepare+commit
//!   time ([`ModelConfig::hold`], model time) has passed and the engine has answered; only then
//!   does its response go back to the client. Another transaction touching a held item is
//!   refused before reaching the engine with `TransactionCanceledException`, reason
//!   `TransactionConflict` at the conflicting actions and `None` elsewhere; a PutItem,
//!   UpdateItem or DeleteItem on a held item gets `TransactionConflictException`. A
//!   TransactGetItems is cancelled the same way at an item a transaction holds or a single
//!   write in flight is writing ("a conflicting operation is in the process of updating an
//!   item to be read"), and no write conflicts with it. Other reads are never held up. The
//!   error responses are DynamoDB's ([`reply`]).
//! - **Idempotency tokens.** A TransactWriteItems repeating a ClientRequestToken whose first
//!   request succeeded less than [`ModelConfig::idempotency_window`] ago gets the first
//!   response again without reaching the engine if the request is the same, and
//!   `IdempotentParameterMismatchException` if it is not; while the first is still running,
//!   `TransactionInProgressException`.
//! - **Commit windows** (off by default; [`ModelConfig::commit_window`]). After the hold, a
//!   committed TransactWriteItems' distinct items become visible one at a time, in action
//!   order, spread over the window; its response returns when the last is visible. An item
//!   not yet visible stays held: a write to it conflicts as during the hold. A GetItem,
//!   BatchGetItem, or Query of the table whose key condition names the partition key's value,
//!   that touches an item (a Query: any item of its partition) held by a transaction waits in
//!   the connector until that item is visible, then executes on the engine: the engine
//!   applies the whole transaction at once, so this reproduces the latency a reader sees but
//!   not the anomaly. With [`ModelConfig::read_committed`] the anomaly itself is modelled
//!   instead ([`staged`]): the conditions are evaluated at arrival as one transaction of
//!   ConditionChecks, and the writes are applied one item at a time over the window, so a
//!   read sees the old values during the hold and DynamoDB's read-committed partial state
//!   (some items new, others old) in the window, without waiting. Scans, index Queries,
//!   TransactGetItems and Queries whose key condition the model cannot read are never
//!   delayed (a TransactGetItems is refused instead, as above); a transaction the engine
//!   refuses has no commit phase.
//! - **Model time** ([`Clock`]): wall time × a scale, so that hold times of DynamoDB's order
//!   (10 ms) can be modelled while the single-threaded engine's own latency shrinks to almost
//!   nothing in model time; or a manual clock a test freezes and steps, for deterministic tests.
//!
//! ```no_run
//! # async fn f(endpoint: &str) {
//! use ddbrel_model::{Clock, Model, ModelConfig};
//! let model = Model::new(ModelConfig::default(), Clock::scaled(0.1));
//! let config = aws_sdk_dynamodb::config::Builder::new()
//!     // ... region, credentials, endpoint ...
//!     .http_client(model.clone())
//!     .build();
//! # }
//! ```
//! (With ddbrel: `ddbrel_runtime::store::local_config_builder(endpoint).http_client(model.clone())`.)
//!
//! - **Throughput** (off by default; [`ModelConfig::throughput`], [`Throughput`]): token
//!   buckets refilled in model time, for writes (DynamoDB: 1,000 WCU/s) and reads (3,000
//!   RCU/s), per partition key value of the table, per item, and per partition key value of
//!   each global secondary index ([`index`]: learned from the table's CreateTable; a write's
//!   index writes follow from what it writes and the entries the model saw the item given). A
//!   request a bucket cannot afford is refused as DynamoDB refuses it, and a write whose index
//!   writes an index partition cannot afford is refused as DynamoDB throttles the writes that
//!   feed an index that cannot keep up. Item sizes are estimated from the requests.
//!   [`Model::hottest_meters`] names the buckets that refused most.
//!
//! Not modelled (yet): local secondary indexes, indexes added by UpdateTable, the sizes of the
//! items a read returns, BatchWriteItem (passed through, not charged, its items never
//! conflict, though a TransactGetItems would conflict with one in flight), and BatchGetItem's
//! UnprocessedKeys (a batch over a bucket is refused whole).

#![warn(missing_docs)]

pub mod clock;
mod config;
mod connector;
mod hold;
pub mod index;
pub mod reply;
mod requests;
pub mod shape;
mod size;
pub mod staged;
mod throughput;
mod transaction;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use serde_json::Value;
use tokio::sync::watch;

use hold::WaitingRead;
use throughput::{Bucket, Kind};

pub use clock::Clock;
pub use config::{ModelConfig, Stats, Throughput};
pub use connector::operation_of;
pub use index::{IndexDef, IndexPartition, Projection};
pub use shape::{ItemKey, Partition, Shape};
pub use throughput::Meter;

/// The concurrency model: an [`HttpClient`] for the SDK config (`.http_client(model.clone())`)
/// that wraps the SDK's default HTTP client. Clones share the same state.
#[derive(Clone, Debug)]
pub struct Model {
    inner: SharedHttpClient,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: ModelConfig,
    clock: Clock,
    state: Mutex<State>,
    /// (transactions holding items, of which the engine has answered).
    activity: watch::Sender<(usize, usize)>,
    /// Bumped whenever held items are released (become visible).
    released: watch::Sender<u64>,
    /// Reads waiting for an item to become visible, right now.
    reads_waiting: watch::Sender<usize>,
    /// [`Model::set_pass_through`].
    pass_through: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    held: HashMap<ItemKey, u64>,
    /// Held items per partition (kept with a commit window only, for Queries).
    held_partitions: HashMap<Partition, usize>,
    /// Items single writes in flight write (admitted, not yet answered), and how many each.
    writing: HashMap<ItemKey, usize>,
    /// Token buckets per meter (with [`ModelConfig::throughput`]).
    buckets: HashMap<(Meter, Kind), Bucket>,
    /// Refusals for want of throughput, per meter short.
    throttles_by_meter: HashMap<Meter, u64>,
    /// Each table's global secondary indexes, learned from its CreateTable.
    indexes: HashMap<String, Vec<IndexDef>>,
    /// Each item's index entries, as the writes passed on left them (with throughput only).
    entries: HashMap<ItemKey, Vec<index::Entry>>,
    tokens: HashMap<String, Token>,
    next_tx: u64,
    stats: Stats,
    conflicts_by_key: HashMap<ItemKey, u64>,
}

#[derive(Debug)]
struct Token {
    body: Value,
    /// When the first request completed (model time); its arrival while it runs.
    at: Duration,
    /// `None` while the first request runs.
    outcome: Option<Recorded>,
}

#[derive(Clone, Debug)]
struct Recorded {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn response(&self) -> HttpResponse {
        let content_type = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        reply::response(self.status, self.body.clone(), content_type)
    }
}

impl Model {
    /// A model with `config` on `clock`, in front of the SDK's default HTTP client.
    pub fn new(config: ModelConfig, clock: Clock) -> Model {
        #[allow(deprecated)] // the same (hyper 0.14) client the SDK builds by default here
        let inner = aws_smithy_http_client::hyper_014::default_client()
            .expect("the SDK's default HTTP client is compiled in (rustls)");
        Model::with_inner(inner, config, clock)
    }

    /// A model with `config` on `clock`, in front of `inner`.
    pub fn with_inner(inner: SharedHttpClient, config: ModelConfig, clock: Clock) -> Model {
        let (activity, _) = watch::channel((0, 0));
        let (released, _) = watch::channel(0);
        let (reads_waiting, _) = watch::channel(0);
        Model {
            inner,
            shared: Arc::new(Shared {
                config,
                clock,
                state: Mutex::new(State::default()),
                activity,
                released,
                reads_waiting,
                pass_through: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The model's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The model's parameters.
    pub fn config(&self) -> &ModelConfig {
        &self.shared.config
    }

    /// What the model has seen and done so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Clears the statistics and the per-item conflict counts.
    pub fn reset_stats(&self) {
        let mut state = self.shared.lock();
        state.stats = Stats::default();
        state.conflicts_by_key.clear();
        state.throttles_by_meter.clear();
    }

    /// The `n` items with the most conflict refusals (transaction actions and single writes
    /// refused because of them), most first, as `table/key` and count.
    pub fn hottest_keys(&self, n: usize) -> Vec<(String, u64)> {
        let state = self.shared.lock();
        let mut all: Vec<(&ItemKey, u64)> = state
            .conflicts_by_key
            .iter()
            .map(|(k, v)| (k, *v))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        all.into_iter()
            .take(n)
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// The `n` meters (table partitions, items, index partitions) with the most refusals for
    /// want of throughput, most first, as text (`partition t/v`, `item t/k`, `index t/i/v`)
    /// and count.
    pub fn hottest_meters(&self, n: usize) -> Vec<(String, u64)> {
        let state = self.shared.lock();
        let mut all: Vec<(&Meter, u64)> = state
            .throttles_by_meter
            .iter()
            .map(|(k, v)| (k, *v))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        all.into_iter()
            .take(n)
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// While `on`, every request goes straight to the engine: no hold, no conflict, no
    /// bucket, no wait; the model only learns, as always, the tables' indexes and the index
    /// entries of the items written. For setting a run up quickly, with the model knowing
    /// what the set-up wrote.
    pub fn set_pass_through(&self, on: bool) {
        self.shared
            .pass_through
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Fills every throughput bucket again (each starts full at its next use): a run's
    /// set-up need not spend the capacity its measurement will use.
    pub fn refill(&self) {
        self.shared.lock().buckets.clear();
    }

    /// Declares a global secondary index of `table` (for a table whose CreateTable did not
    /// pass through the model; the model learns the others by itself).
    pub fn add_index(&self, table: &str, index: IndexDef) {
        let mut state = self.shared.lock();
        let indexes = state.indexes.entry(table.to_string()).or_default();
        indexes.retain(|i| i.name != index.name);
        indexes.push(index);
    }

    /// Items held by transactions right now.
    pub fn held_items(&self) -> usize {
        self.shared.lock().held.len()
    }

    /// Transactions holding items right now.
    pub fn holding(&self) -> usize {
        self.shared.activity.borrow().0
    }

    /// Waits until at least `n` transactions hold their items and have been answered by the
    /// engine (they are applied, and wait out their hold). With a manual clock they stay so
    /// until the clock passes their hold: the deterministic way to have a transaction in
    /// flight.
    pub async fn until_applied_and_holding(&self, n: usize) {
        let mut rx = self.shared.activity.subscribe();
        // The sender lives in `self.shared`, which `self` keeps alive during the wait.
        let _ = rx.wait_for(|(_, applied)| *applied >= n).await;
    }

    /// Waits until at most `n` items are held by transactions: with a commit window and a
    /// manual clock, the deterministic way to know a committing transaction has released (and,
    /// with [`ModelConfig::read_committed`], written) the items due by the clock's time.
    pub async fn until_held_at_most(&self, n: usize) {
        let mut rx = self.shared.released.subscribe();
        loop {
            if self.shared.lock().held.len() <= n {
                return;
            }
            // The sender lives in `self.shared`, which `self` keeps alive during the wait.
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Reads waiting right now for a committing transaction's item to become visible.
    pub fn reads_waiting(&self) -> usize {
        *self.shared.reads_waiting.borrow()
    }

    /// Waits until at least `n` reads wait for a committing transaction's item (with
    /// [`ModelConfig::commit_window`]): the deterministic way to know a read has reached
    /// the model and is held back.
    pub async fn until_reads_waiting(&self, n: usize) {
        let mut rx = self.shared.reads_waiting.subscribe();
        // The sender lives in `self.shared`, which `self` keeps alive during the wait.
        let _ = rx.wait_for(|w| *w >= n).await;
    }

    /// Waits until no transaction holds items.
    pub async fn until_idle(&self) {
        let mut rx = self.shared.activity.subscribe();
        // As above: the sender outlives the wait.
        let _ = rx.wait_for(|(holding, _)| *holding == 0).await;
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the tables consistent (every update is a
        // single insert or remove), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn handle(
        self: Arc<Self>,
        request: HttpRequest,
        inner: SharedHttpConnector,
    ) -> Result<HttpResponse, ConnectorError> {
        let operation = operation_of(&request);
        let shape = match request.body().bytes() {
            Some(b) => shape::shape(&operation, b, &self.config.key_attributes),
            None => Shape::Other,
        };
        self.lock().stats.requests += 1;
        if self.pass_through.load(std::sync::atomic::Ordering::SeqCst) {
            return self.pass(request, &inner, shape).await;
        }
        match shape {
            Shape::Other => self.forward(request, &inner).await,
            Shape::SingleWrite {
                item,
                write,
                operation,
                request: body,
            } => {
                self.single_write(request, &inner, item, write, &operation, &body)
                    .await
            }
            Shape::Read { reads, .. } => self.read(request, &inner, reads).await,
            Shape::TransactGet { items, reads } => {
                self.transact_get(request, &inner, items, reads).await
            }
            Shape::IndexQuery {
                table,
                index,
                request: body,
            } => {
                self.index_query(request, &inner, &table, &index, &body)
                    .await
            }
            Shape::CreateTable { table, indexes } => {
                let response = self.forward(request, &inner).await?;
                if response.status().is_success() {
                    self.lock().indexes.insert(table, indexes);
                }
                Ok(response)
            }
            Shape::Transaction {
                items,
                token,
                body,
                writes,
            } => {
                self.transaction(request, &inner, items, token, body, writes)
                    .await
            }
        }
    }

    async fn forward(
        &self,
        request: HttpRequest,
        inner: &SharedHttpConnector,
    ) -> Result<HttpResponse, ConnectorError> {
        self.lock().stats.forwarded += 1;
        inner.call(request).await
    }

    /// Waits until no item (or, for a Query, no item of the partition) that `reads` touch
    /// is held.
    async fn until_visible(&self, reads: &[shape::Read]) {
        let mut rx = self.released.subscribe();
        let mut waiting: Option<WaitingRead<'_>> = None;
        loop {
            {
                let mut state = self.lock();
                let blocked = reads.iter().any(|r| match &r.item {
                    Some(k) => state.held.contains_key(k),
                    None => state
                        .held_partitions
                        .get(&r.partition)
                        .is_some_and(|n| *n > 0),
                });
                if !blocked {
                    return;
                }
                if waiting.is_none() {
                    state.stats.delayed_reads += 1;
                }
            }
            if waiting.is_none() {
                self.reads_waiting.send_modify(|w| *w += 1);
                waiting = Some(WaitingRead(self));
            }
            // The sender lives in `self`, which outlives this wait; were it closed, the read
            // would only go on early.
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// The partition key attribute (the first key attribute).
    fn partition_key(&self) -> Option<&str> {
        self.config.key_attributes.first().map(String::as_str)
    }
}
