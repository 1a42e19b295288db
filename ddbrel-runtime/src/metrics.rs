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

/// Capacity DynamoDB reported for the requests of one operation kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    /// Requests that reported capacity.
    pub requests: u64,
    /// Read capacity units, table and indexes.
    pub read_units: f64,
    /// Write capacity units, table and indexes.
    pub write_units: f64,
    /// Capacity units spent on the InvertedIndex (GSI1).
    pub inverted_index_units: f64,
    /// Capacity units spent on ResourcesByAccountIndex (GSI2).
    pub account_index_units: f64,
}

impl Capacity {
    fn add(&mut self, c: &aws_sdk_dynamodb::types::ConsumedCapacity) {
        let total = c.capacity_units().unwrap_or(0.0);
        let (r, w) = (
            c.read_capacity_units().unwrap_or(0.0),
            c.write_capacity_units().unwrap_or(0.0),
        );
        if r == 0.0 && w == 0.0 {
            // Only the total is known; attribute it by the operation's kind later.
            self.write_units += total;
        } else {
            self.read_units += r;
            self.write_units += w;
        }
        if let Some(gsis) = c.global_secondary_indexes() {
            for (name, cap) in gsis {
                let units = cap.capacity_units().unwrap_or(0.0);
                match name.as_str() {
                    crate::schema::INVERTED_INDEX => self.inverted_index_units += units,
                    crate::schema::ACCOUNT_INDEX => self.account_index_units += units,
                    _ => {}
                }
            }
        }
    }
}

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
        let mut t = Capacity::default();
        for c in self.lock().values() {
            t.requests += c.requests;
            t.read_units += c.read_units;
            t.write_units += c.write_units;
            t.inverted_index_units += c.inverted_index_units;
            t.account_index_units += c.account_index_units;
        }
        t
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

macro_rules! with_inputs {
    ($input:expr, |$i:ident| $body:expr) => {{
        use aws_sdk_dynamodb::operation::*;
        if let Some($i) = $input.downcast_mut::<put_item::PutItemInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<get_item::GetItemInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<update_item::UpdateItemInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<delete_item::DeleteItemInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<query::QueryInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<scan::ScanInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<batch_get_item::BatchGetItemInput>() {
            $body
        } else if let Some($i) = $input.downcast_mut::<batch_write_item::BatchWriteItemInput>() {
            $body
        } else if let Some($i) =
            $input.downcast_mut::<transact_write_items::TransactWriteItemsInput>()
        {
            $body
        } else if let Some($i) = $input.downcast_mut::<transact_get_items::TransactGetItemsInput>()
        {
            $body
        }
    }};
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
        let input = context.input_mut();
        with_inputs!(input, |i| {
            i.return_consumed_capacity =
                Some(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Indexes)
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let mut found: Vec<aws_sdk_dynamodb::types::ConsumedCapacity> = Vec::new();
        if let Some(o) = output.downcast_ref::<put_item::PutItemOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<get_item::GetItemOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<update_item::UpdateItemOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<delete_item::DeleteItemOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<query::QueryOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<scan::ScanOutput>() {
            found.extend(o.consumed_capacity.clone());
        } else if let Some(o) = output.downcast_ref::<batch_get_item::BatchGetItemOutput>() {
            found.extend(o.consumed_capacity.clone().unwrap_or_default());
        } else if let Some(o) = output.downcast_ref::<batch_write_item::BatchWriteItemOutput>() {
            found.extend(o.consumed_capacity.clone().unwrap_or_default());
        } else if let Some(o) =
            output.downcast_ref::<transact_write_items::TransactWriteItemsOutput>()
        {
            found.extend(o.consumed_capacity.clone().unwrap_or_default());
        } else if let Some(o) = output.downcast_ref::<transact_get_items::TransactGetItemsOutput>()
        {
            found.extend(o.consumed_capacity.clone().unwrap_or_default());
        }
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        let reads = matches!(
            op.as_str(),
            "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems"
        );
        let mut totals = self.lock();
        let entry = totals.entry(op).or_default();
        entry.requests += 1;
        for c in &found {
            let before = entry.write_units;
            entry.add(c);
            // A total without a read/write split belongs to the operation's kind.
            if reads && c.read_capacity_units().is_none() && c.write_capacity_units().is_none() {
                let moved = entry.write_units - before;
                entry.write_units = before;
                entry.read_units += moved;
            }
        }
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
        crate::Store::new(aws_sdk_dynamodb::Client::from_conf(conf), self.table())
            .with_retry_policy(self.retry_policy())
    }
}
