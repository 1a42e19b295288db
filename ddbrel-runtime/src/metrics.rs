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
