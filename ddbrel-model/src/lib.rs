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
//!   UpdateItem or DeleteItem on a held item gets `TransactionConflictException`. Reads are
//!   never held up. The error responses are DynamoDB's ([`reply`]).
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
//!   delayed; a transaction the engine refuses has no commit phase.
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
//!   buckets per partition key value for writes (DynamoDB: 1,000 WCU/s) and reads (3,000
//!   RCU/s), refilled in model time; a request its partition cannot afford is refused as
//!   DynamoDB refuses it. Item sizes are estimated from the requests.
//!
//! Not modelled (yet): GSI partitions (their throughput, and the base-table writes a GSI that
//! cannot keep up throttles), per-item limits, TransactGetItems (its conflicts, and its reads'
//! throughput), the sizes of the items a read returns, BatchWriteItem (passed through, not
//! charged, its items never conflict), and BatchGetItem's UnprocessedKeys (a batch over a
//! partition's throughput is refused whole).

#![warn(missing_docs)]

pub mod clock;
pub mod reply;
pub mod shape;
pub mod staged;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde_json::Value;
use tokio::sync::watch;

pub use clock::Clock;
pub use shape::{ItemKey, Partition, Shape};

/// The model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// How long (model time) a TransactWriteItems holds its items: its prepare and commit
    /// phases. Default 10 ms.
    pub hold: Duration,
    /// How long (model time) after a successful TransactWriteItems its ClientRequestToken
    /// stays recorded. DynamoDB: 10 minutes.
    pub idempotency_window: Duration,
    /// The table's key attributes, taken from a Put's item to name the item it writes.
    /// Default `PK`, `SK` (ddbrel's table).
    pub key_attributes: Vec<String>,
    /// The commit phase that follows a TransactWriteItems' hold (model time), or `None` (the
    /// default) for none. With a window `w`, the transaction's distinct items become
    /// visible one at a time, in action order: the `k`-th of `n` at arrival + `hold` +
    /// `w`·k/`n`; its response returns when the last is visible. Until an item is visible it
    /// stays held (a write to it conflicts as during the hold), and a GetItem, BatchGetItem or
    /// table Query touching it waits in the connector until it is visible; see the crate
    /// documentation for what this does not model.
    pub commit_window: Option<Duration>,
    /// With a commit window: apply a transaction's writes one at a time over the window, so a
    /// read in the window sees DynamoDB's read-committed partial state (some of the
    /// transaction's items new, the others old) instead of waiting. The conditions are
    /// evaluated at once, at arrival, as a transaction of ConditionChecks on the engine
    /// ([`staged`]). Default `false`.
    pub read_committed: bool,
    /// With a commit window: make a transaction's items visible in the reverse of their action
    /// order (DynamoDB promises no order; ddbrel writes a parent's count last, so this is the
    /// order in which a reader can see a count before the record it counts). Default `false`.
    pub reverse_visibility: bool,
    /// Per-partition throughput limits, or `None` (the default) for none. See [`Throughput`].
    pub throughput: Option<Throughput>,
}

/// Per-partition throughput, as token buckets refilled in model time: one for writes and one
/// for reads per partition key value (table and `PK` value). A request whose partition's
/// bucket holds fewer units than it costs is refused before reaching the engine
/// (`ProvisionedThroughputExceededException`; in a transaction, `TransactionCanceledException`
/// with `ThrottlingError` at the actions whose partition is short). Costs: a write 1 WCU per
/// KB (1,024 bytes) written, rounded up (estimated from the request:
/// [`shape::write_size`]), twice that in a TransactWriteItems (a ConditionCheck counts as a
/// write of its key); a read 1 RCU per item read strongly consistently and 0.5 eventually
/// consistently, as though every item were at most 4 KB (the request does not carry the size
/// of what it reads), a Query 1 (or 0.5) RCU.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    /// Write capacity units per second per partition. DynamoDB: 1,000.
    pub write_units_per_s: f64,
    /// Read capacity units per second per partition. DynamoDB: 3,000.
    pub read_units_per_s: f64,
    /// How much unused capacity a bucket keeps: a bucket holds at most this long's worth of
    /// units, and starts full. Default 1 s.
    pub burst: Duration,
}

impl Default for Throughput {
    fn default() -> Self {
        Throughput {
            write_units_per_s: 1000.0,
            read_units_per_s: 3000.0,
            burst: Duration::from_secs(1),
        }
    }
}

/// A token bucket, refilled in model time.
#[derive(Debug)]
struct Bucket {
    units: f64,
    at: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Read,
    Write,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            hold: Duration::from_millis(10),
            idempotency_window: Duration::from_secs(600),
            key_attributes: vec!["PK".to_string(), "SK".to_string()],
            commit_window: None,
            read_committed: false,
            reverse_visibility: false,
            throughput: None,
        }
    }
}

/// What the model has seen and done since it was made (or since [`Model::reset_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests that reached the model.
    pub requests: u64,
    /// Requests the model passed on to the engine.
    pub forwarded: u64,
    /// TransactWriteItems passed on to the engine.
    pub transactions: u64,
    /// TransactWriteItems refused with a `TransactionConflict` cancellation.
    pub transaction_conflicts: u64,
    /// PutItem, UpdateItem and DeleteItem refused with `TransactionConflictException`.
    pub single_write_conflicts: u64,
    /// TransactWriteItems answered from the idempotency record, not applied again.
    pub replays: u64,
    /// TransactWriteItems refused with `IdempotentParameterMismatchException`.
    pub mismatches: u64,
    /// TransactWriteItems refused with `TransactionInProgressException`.
    pub in_progress: u64,
    /// Reads that waited for a committing transaction's item to become visible (with
    /// [`ModelConfig::commit_window`]).
    pub delayed_reads: u64,
    /// Single requests refused with `ProvisionedThroughputExceededException`.
    pub throttled: u64,
    /// TransactWriteItems refused with a `ThrottlingError` cancellation.
    pub transaction_throttles: u64,
    /// Single writes of a read-committed commit ([`ModelConfig::read_committed`]) the engine
    /// refused (a model defect if ever not 0: their conditions were checked already).
    pub staged_write_failures: u64,
}

impl Stats {
    /// Every conflict refusal: transactions and single writes.
    pub fn conflicts(&self) -> u64 {
        self.transaction_conflicts + self.single_write_conflicts
    }
}

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
}

#[derive(Debug, Default)]
struct State {
    held: HashMap<ItemKey, u64>,
    /// Held items per partition (kept with a commit window only, for Queries).
    held_partitions: HashMap<Partition, usize>,
    /// Token buckets per partition (with [`ModelConfig::throughput`]).
    buckets: HashMap<(Partition, Kind), Bucket>,
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
        match shape {
            Shape::Other => self.forward(request, &inner).await,
            Shape::SingleWrite { item, write, .. } => {
                {
                    let mut state = self.lock();
                    if state.held.contains_key(&item) {
                        state.stats.single_write_conflicts += 1;
                        *state.conflicts_by_key.entry(item).or_default() += 1;
                        return Ok(reply::single_write_conflict());
                    }
                    let costs: Vec<(Partition, f64)> = write
                        .into_iter()
                        .map(|(p, size)| (p, write_units(size)))
                        .collect();
                    if !self.take(&mut state, Kind::Write, &costs).is_empty() {
                        state.stats.throttled += 1;
                        return Ok(reply::throughput_exceeded());
                    }
                }
                self.forward(request, &inner).await
            }
            Shape::Read { reads, .. } => {
                if self.config.commit_window.is_some() && !self.config.read_committed {
                    self.until_visible(&reads).await;
                }
                {
                    let mut state = self.lock();
                    let costs: Vec<(Partition, f64)> = reads
                        .into_iter()
                        .map(|r| (r.partition, if r.consistent { 1.0 } else { 0.5 }))
                        .collect();
                    if !self.take(&mut state, Kind::Read, &costs).is_empty() {
                        state.stats.throttled += 1;
                        return Ok(reply::throughput_exceeded());
                    }
                }
                self.forward(request, &inner).await
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

    async fn transaction(
        self: &Arc<Self>,
        request: HttpRequest,
        inner: &SharedHttpConnector,
        items: Vec<Option<ItemKey>>,
        token: Option<String>,
        body: Value,
        writes: Vec<Option<(Partition, usize)>>,
    ) -> Result<HttpResponse, ConnectorError> {
        let now = self.clock.now();
        // A read-committed commit: the checks now, the writes over the window.
        let staged = match (self.config.commit_window, self.config.read_committed) {
            (Some(_), true) => staged::checks(&body, &self.config.key_attributes)
                .zip(staged::writes(&body))
                .and_then(|(checks, writes)| {
                    let template = request.try_clone()?;
                    let checks = serde_json::to_vec(&checks).ok()?;
                    Some((checks, writes, template))
                }),
            _ => None,
        };
        let tx = {
            let mut state = self.lock();
            if let Some(t) = &token {
                let window = self.config.idempotency_window;
                let live = state
                    .tokens
                    .get(t)
                    .is_some_and(|e| e.outcome.is_none() || now < e.at + window);
                if !live {
                    state.tokens.remove(t);
                } else if let Some(entry) = state.tokens.get(t) {
                    let answer = if entry.body != body {
                        state.stats.mismatches += 1;
                        reply::idempotent_mismatch()
                    } else if let Some(recorded) = &entry.outcome {
                        let r = recorded.response();
                        state.stats.replays += 1;
                        r
                    } else {
                        state.stats.in_progress += 1;
                        reply::in_progress()
                    };
                    return Ok(answer);
                }
            }
            let conflicting: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, k)| k.as_ref().is_some_and(|k| state.held.contains_key(k)))
                .map(|(i, _)| i)
                .collect();
            if !conflicting.is_empty() {
                state.stats.transaction_conflicts += 1;
                for &i in &conflicting {
                    if let Some(k) = &items[i] {
                        *state.conflicts_by_key.entry(k.clone()).or_default() += 1;
                    }
                }
                return Ok(reply::transaction_conflict(items.len(), &conflicting));
            }
            if self.config.throughput.is_some() {
                let costs: Vec<(Partition, f64)> = writes
                    .iter()
                    .flatten()
                    .map(|(p, size)| (p.clone(), 2.0 * write_units(*size)))
                    .collect();
                let short = self.take(&mut state, Kind::Write, &costs);
                if !short.is_empty() {
                    let throttled: Vec<usize> = writes
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| w.as_ref().is_some_and(|(p, _)| short.contains(p)))
                        .map(|(i, _)| i)
                        .collect();
                    state.stats.transaction_throttles += 1;
                    return Ok(reply::transaction_throttled(items.len(), &throttled));
                }
            }
            state.next_tx += 1;
            let tx = state.next_tx;
            let mut holding: Vec<(ItemKey, Option<Partition>)> = Vec::new();
            for k in items.iter().flatten() {
                if state.held.insert(k.clone(), tx).is_none() {
                    let partition = match (self.config.commit_window, self.partition_key()) {
                        (Some(_), Some(pk)) => k.partition(pk),
                        _ => None,
                    };
                    if let Some(p) = &partition {
                        *state.held_partitions.entry(p.clone()).or_default() += 1;
                    }
                    holding.push((k.clone(), partition));
                }
            }
            if let Some(t) = &token {
                state.tokens.insert(
                    t.clone(),
                    Token {
                        body,
                        at: now,
                        outcome: None,
                    },
                );
            }
            state.stats.transactions += 1;
            state.stats.forwarded += 1;
            (tx, holding)
        };
        let (tx, holding) = tx;
        // From here the hold ends when `hold` is dropped, even if the caller gives up.
        let mut hold = Hold {
            shared: self.clone(),
            tx,
            items: holding,
            token,
            applied: false,
        };
        self.activity.send_modify(|(h, _)| *h += 1);
        let (request, staged) = match staged {
            Some((checks, writes, template)) => {
                match with_body(&template, "TransactWriteItems", checks) {
                    Some(check) => (check, Some((writes, template))),
                    None => (request, None),
                }
            }
            None => (request, None),
        };
        let result = match inner.call(request).await {
            Ok(mut response) => match ByteStream::new(response.take_body()).collect().await {
                Ok(bytes) => {
                    let bytes = bytes.into_bytes().to_vec();
                    let recorded = Recorded {
                        status: response.status().as_u16(),
                        headers: response
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        body: bytes.clone(),
                    };
                    *response.body_mut() = SdkBody::from(bytes);
                    Ok((response, Some(recorded)))
                }
                Err(e) => Err(ConnectorError::io(Box::new(e))),
            },
            Err(e) => Err(e),
        };
        hold.applied = true;
        self.activity.send_modify(|(_, a)| *a += 1);
        let prepared = now + self.config.hold;
        let committed = matches!(&result, Ok((_, Some(r))) if (200..300).contains(&r.status));
        match self.config.commit_window {
            Some(window) if committed => {
                let mut order: Vec<ItemKey> = hold.items.iter().map(|(k, _)| k.clone()).collect();
                if self.config.reverse_visibility {
                    order.reverse();
                }
                let n = u32::try_from(order.len()).unwrap_or(u32::MAX).max(1);
                for (k, item) in (1..=n).zip(&order) {
                    self.clock.sleep_until(prepared + window * k / n).await;
                    if let Some((writes, template)) = &staged {
                        self.apply(inner, template, &items, writes, item).await;
                    }
                    hold.release(item);
                }
                self.clock.sleep_until(prepared + window).await;
            }
            _ => self.clock.sleep_until(prepared).await,
        }
        let (response, recorded) = result?;
        if let Some(r) = recorded.filter(|r| (200..300).contains(&r.status)) {
            hold.record(r);
        }
        drop(hold);
        Ok(response)
    }
}

impl Shared {
    /// Applies the staged writes of the actions on `item`, one request each.
    async fn apply(
        &self,
        inner: &SharedHttpConnector,
        template: &HttpRequest,
        items: &[Option<ItemKey>],
        writes: &staged::Staged,
        item: &ItemKey,
    ) {
        for (key, write) in items.iter().zip(writes) {
            let Some((op, body)) = write.as_ref().filter(|_| key.as_ref() == Some(item)) else {
                continue;
            };
            let ok = match with_body(template, op, body.clone()) {
                Some(request) => inner
                    .call(request)
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                None => false,
            };
            if !ok {
                self.lock().stats.staged_write_failures += 1;
            }
        }
    }
}

/// A request like `template` (its headers and URI) for `operation` with `body`.
fn with_body(template: &HttpRequest, operation: &str, body: Vec<u8>) -> Option<HttpRequest> {
    let mut r = template.try_clone()?;
    r.headers_mut()
        .insert("x-amz-target", format!("DynamoDB_20120810.{operation}"));
    r.headers_mut()
        .insert("content-length", body.len().to_string());
    *r.body_mut() = SdkBody::from(body);
    Some(r)
}

/// Counts a read waiting for visibility until dropped.
struct WaitingRead<'a>(&'a Shared);

impl Drop for WaitingRead<'_> {
    fn drop(&mut self) {
        self.0
            .reads_waiting
            .send_modify(|w| *w = w.saturating_sub(1));
    }
}

/// The items of one transaction (with their partitions, kept with a commit window), held
/// until released one by one or this is dropped.
struct Hold {
    shared: Arc<Shared>,
    tx: u64,
    items: Vec<(ItemKey, Option<Partition>)>,
    token: Option<String>,
    applied: bool,
}

impl State {
    /// Releases `item` if transaction `tx` holds it.
    fn release(&mut self, tx: u64, item: &ItemKey, partition: Option<&Partition>) {
        if self.held.get(item) == Some(&tx) {
            self.held.remove(item);
            if let Some(p) = partition
                && let Some(n) = self.held_partitions.get_mut(p)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.held_partitions.remove(p);
                }
            }
        }
    }
}

/// Write capacity units for `size` bytes: 1 per KB, rounded up, at least 1.
fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

impl Shared {
    /// Takes `costs` (units per partition, summed where a partition repeats) from the `kind`
    /// buckets if every one of them holds enough, and returns the partitions that do not
    /// (taking nothing then). Takes nothing and returns nothing without
    /// [`ModelConfig::throughput`].
    fn take(&self, state: &mut State, kind: Kind, costs: &[(Partition, f64)]) -> Vec<Partition> {
        let Some(limits) = &self.config.throughput else {
            return Vec::new();
        };
        let rate = match kind {
            Kind::Read => limits.read_units_per_s,
            Kind::Write => limits.write_units_per_s,
        };
        let capacity = rate * limits.burst.as_secs_f64();
        let now = self.clock.now();
        let mut total: Vec<(Partition, f64)> = Vec::new();
        for (p, c) in costs {
            match total.iter_mut().find(|(q, _)| q == p) {
                Some((_, t)) => *t += c,
                None => total.push((p.clone(), *c)),
            }
        }
        let mut short = Vec::new();
        for (p, cost) in &total {
            let bucket = state.buckets.entry((p.clone(), kind)).or_insert(Bucket {
                units: capacity,
                at: now,
            });
            let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
            bucket.units = (bucket.units + elapsed * rate).min(capacity);
            bucket.at = bucket.at.max(now);
            // A small tolerance for the float arithmetic of the refill.
            if bucket.units + 1e-9 < *cost {
                short.push(p.clone());
            }
        }
        if short.is_empty() {
            for (p, cost) in &total {
                if let Some(b) = state.buckets.get_mut(&(p.clone(), kind)) {
                    b.units -= cost;
                }
            }
        }
        short
    }

    /// The partition key attribute (the first key attribute).
    fn partition_key(&self) -> Option<&str> {
        self.config.key_attributes.first().map(String::as_str)
    }
}

impl Hold {
    /// Releases one item before the others: it is visible from now on.
    fn release(&mut self, item: &ItemKey) {
        {
            let mut state = self.shared.lock();
            if let Some(i) = self.items.iter().position(|(k, _)| k == item) {
                let (k, p) = self.items.remove(i);
                state.release(self.tx, &k, p.as_ref());
            }
        }
        self.shared.released.send_modify(|n| *n += 1);
    }

    /// Records the transaction's successful outcome under its token.
    fn record(&mut self, recorded: Recorded) {
        let Some(t) = self.token.take() else {
            return;
        };
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        if let Some(entry) = state.tokens.get_mut(&t) {
            entry.outcome = Some(recorded);
            entry.at = now;
        }
        // Forget expired tokens now and then.
        if state.tokens.len().is_multiple_of(1024) {
            let window = self.shared.config.idempotency_window;
            state
                .tokens
                .retain(|_, e| e.outcome.is_none() || now < e.at + window);
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            for (k, p) in &self.items {
                state.release(self.tx, k, p.as_ref());
            }
            // A token not recorded (failure, or the caller gave up) is free again.
            if let Some(t) = &self.token
                && state.tokens.get(t).is_some_and(|e| e.outcome.is_none())
            {
                state.tokens.remove(t);
            }
        }
        self.shared.released.send_modify(|n| *n += 1);
        let applied = self.applied;
        self.shared.activity.send_modify(|(h, a)| {
            *h = h.saturating_sub(1);
            if applied {
                *a = a.saturating_sub(1);
            }
        });
    }
}

/// The operation of a DynamoDB JSON request (`X-Amz-Target: DynamoDB_20120810.Op` → `Op`).
pub fn operation_of(request: &HttpRequest) -> String {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_string()
}

impl HttpClient for Model {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ModelConnector {
            shared: self.shared.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct ModelConnector {
    shared: Arc<Shared>,
    inner: SharedHttpConnector,
}

impl HttpConnector for ModelConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        HttpConnectorFuture::new(shared.handle(request, inner))
    }
}
