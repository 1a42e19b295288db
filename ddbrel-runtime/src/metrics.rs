//! Request counting: an SDK interceptor that counts the requests sent, per DynamoDB operation.
//! Tests use it to assert exact round trips; the CLI prints the counts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts every request sent through the client (each attempt, so retries count), per
/// operation. Cheap to clone; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts).
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests sent so far, per operation (e.g. `"TransactWriteItems" → 1`).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    /// Total requests sent so far.
    pub fn total(&self) -> u64 {
        self.lock().values().sum()
    }

    /// Requests of one operation sent so far.
    pub fn get(&self, operation: &str) -> u64 {
        self.lock().get(operation).copied().unwrap_or(0)
    }

    /// Resets all counts to zero.
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// Resets, runs `f`, and returns its output with the requests it sent.
    pub async fn measure<F, T>(&self, f: F) -> (T, BTreeMap<String, u64>)
    where
        F: std::future::Future<Output = T>,
    {
        self.reset();
        let out = f.await;
        (out, self.snapshot())
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "ddbrel::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        *self.lock().entry(op).or_insert(0) += 1;
        Ok(())
    }
}

pub use crate::wire::telemetry::Capacity;

/// Asks DynamoDB for the consumed capacity of every request (ReturnConsumedCapacity =
/// INDEXES) and sums it per operation. Install it on the client like [`RequestCounter`];
/// `measure` an operation to get what it cost.
#[derive(Debug, Clone, Default)]
pub struct CapacityMeter {
    totals: Arc<Mutex<BTreeMap<String, Capacity>>>,
}

impl CapacityMeter {
    /// A meter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Capacity>> {
        // Single inserts only: a poisoned lock still holds a consistent map.
        self.totals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Capacity per DynamoDB operation so far.
    pub fn snapshot(&self) -> BTreeMap<String, Capacity> {
        self.lock().clone()
    }

    /// The sum over all operations.
    pub fn total(&self) -> Capacity {
        self.lock()
            .values()
            .fold(Capacity::default(), |t, c| t.plus(c))
    }

    /// Resets to zero.
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// Resets, runs `f`, and returns its output with the capacity it consumed.
    pub async fn measure<F, T>(&self, f: F) -> (T, Capacity)
    where
        F: std::future::Future<Output = T>,
    {
        self.reset();
        let out = f.await;
        (out, self.total())
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "ddbrel::CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        crate::wire::telemetry::ask_for_capacity(context.input_mut());
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let found = crate::wire::telemetry::reported_capacity(output);
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        self.lock()
            .entry(op.clone())
            .or_default()
            .add_response(&op, &found);
        Ok(())
    }
}

impl crate::Store {
    /// The same store (table, retry policy) on a client whose requests `counter` counts: how to
    /// count an operation's requests without depending on the AWS SDK.
    ///
    /// ```no_run
    /// # async fn f(store: ddbrel_runtime::Store) -> ddbrel_runtime::Result<()> {
    /// use ddbrel_runtime::RequestCounter;
    /// let counter = RequestCounter::new();
    /// let counted = store.counted(&counter);
    /// let (_tables, requests) = counter.measure(counted.describe_table()).await;
    /// assert_eq!(requests.values().sum::<u64>(), 1);
    /// # Ok(()) }
    /// ```
    pub fn counted(&self, counter: &RequestCounter) -> crate::Store {
        self.with_interceptor(counter.clone())
    }

    /// The same store on a client whose consumed capacity `meter` sums (see [`CapacityMeter`]).
    pub fn metered(&self, meter: &CapacityMeter) -> crate::Store {
        self.with_interceptor(meter.clone())
    }

    fn with_interceptor(&self, interceptor: impl Intercept + 'static) -> crate::Store {
        let conf = self
            .client()
            .config()
            .to_builder()
            .interceptor(interceptor)
            .build();
        // The telemetry interceptor is already in `conf`: no second one through `Store::new`.
        crate::Store {
            client: aws_sdk_dynamodb::Client::from_conf(conf),
            table: self.table.clone(),
            retry: self.retry,
        }
    }
}
