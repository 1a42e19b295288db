//! Spans in the shape of OpenTelemetry's database and AWS semantic conventions.
//!
//! Every public operation of [`Store`](crate::Store) runs in one *logical* span named after it
//! (`ddbrel.create`, `ddbrel.delete`, …), and every request it sends to DynamoDB runs in a
//! child *request* span. With `tracing-opentelemetry` installed, both become OpenTelemetry
//! client spans (`otel.kind = "client"`).
//!
//! | Attribute | Logical span | Request span |
//! |---|---|---|
//! | `db.system.name` | `aws.dynamodb` | `aws.dynamodb` |
//! | `db.operation.name` | the ddbrel operation (`ddbrel.create`) | the DynamoDB operation (`TransactWriteItems`) |
//! | `db.collection.name`, `aws.dynamodb.table_names` | the table | the table |
//! | `rpc.system`, `rpc.service`, `rpc.method` | | `aws-api`, `DynamoDB`, the operation |
//! | `ddbrel.request_count` | requests sent, retries included | attempts of this request |
//! | `ddbrel.consumed_capacity.read_units`, `…write_units` | the sum over its requests | this request's |
//! | `aws.dynamodb.consumed_capacity` | | the capacity DynamoDB reported, as JSON |
//! | `aws.request_id`, `http.response.status_code` | | from the response |
//! | `error.type`, `otel.status_code` | the [`Error`]'s kind, `ERROR` | the service's error code, `ERROR` |
//!
//! Capacity is asked for (`ReturnConsumedCapacity = INDEXES`, which costs nothing) only while
//! a subscriber records the logical span, so an application without tracing sends the same
//! requests as before. An operation that calls another (a cascade reading pages, a read with
//! data) nests the inner logical span in the outer one, and the outer one's counts include the
//! inner one's.
//!
//! `aws.dynamodb.table_names` is a string, not an array: `tracing` fields are scalars, and a
//! ddbrel operation touches one table.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use tracing::Instrument as _;
use tracing::Span;
use tracing::field::Empty;

use crate::error::Error;

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
    /// Adds one response of DynamoDB operation `operation` (its reported capacities).
    pub(crate) fn add_response(&mut self, operation: &str, found: &[ConsumedCapacity]) {
        let reads = matches!(
            operation,
            "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems"
        );
        self.requests += 1;
        for c in found {
            let total = c.capacity_units().unwrap_or(0.0);
            match (c.read_capacity_units(), c.write_capacity_units()) {
                // Only the total is known: it belongs to the operation's kind.
                (None | Some(0.0), None | Some(0.0)) if reads => self.read_units += total,
                (None | Some(0.0), None | Some(0.0)) => self.write_units += total,
                (r, w) => {
                    self.read_units += r.unwrap_or(0.0);
                    self.write_units += w.unwrap_or(0.0);
                }
            }
            for (name, cap) in c.global_secondary_indexes().into_iter().flatten() {
                let units = cap.capacity_units().unwrap_or(0.0);
                match name.as_str() {
                    crate::schema::INVERTED_INDEX => self.inverted_index_units += units,
                    crate::schema::ACCOUNT_INDEX => self.account_index_units += units,
                    _ => {}
                }
            }
        }
    }

    /// The sum of two.
    pub(crate) fn plus(mut self, o: &Capacity) -> Capacity {
        self.requests += o.requests;
        self.read_units += o.read_units;
        self.write_units += o.write_units;
        self.inverted_index_units += o.inverted_index_units;
        self.account_index_units += o.account_index_units;
        self
    }
}

/// Runs `$body` for the DynamoDB input type `$input` holds (any operation ddbrel sends).
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

/// Asks for the consumed capacity (INDEXES) on any request ddbrel sends, unless the caller
/// already chose.
pub(crate) fn ask_for_capacity(
    input: &mut aws_smithy_runtime_api::client::interceptors::context::Input,
) {
    with_inputs!(input, |i| {
        if i.return_consumed_capacity.is_none() {
            i.return_consumed_capacity = Some(ReturnConsumedCapacity::Indexes)
        }
    });
}

/// The capacities a response reports (none for an operation that reports none).
pub(crate) fn reported_capacity(
    output: &aws_smithy_runtime_api::client::interceptors::context::Output,
) -> Vec<ConsumedCapacity> {
    use aws_sdk_dynamodb::operation::*;
    macro_rules! one {
        ($($t:ty),*) => {$(
            if let Some(o) = output.downcast_ref::<$t>() {
                return o.consumed_capacity.clone().into_iter().collect();
            }
        )*};
    }
    macro_rules! many {
        ($($t:ty),*) => {$(
            if let Some(o) = output.downcast_ref::<$t>() {
                return o.consumed_capacity.clone().unwrap_or_default();
            }
        )*};
    }
    one!(
        put_item::PutItemOutput,
        get_item::GetItemOutput,
        update_item::UpdateItemOutput,
        delete_item::DeleteItemOutput,
        query::QueryOutput,
        scan::ScanOutput
    );
    many!(
        batch_get_item::BatchGetItemOutput,
        batch_write_item::BatchWriteItemOutput,
        transact_write_items::TransactWriteItemsOutput,
        transact_get_items::TransactGetItemsOutput
    );
    Vec::new()
}

/// The service's error code of a failed request (`ConditionalCheckFailedException`, …).
fn service_error_code(
    err: &aws_smithy_runtime_api::client::interceptors::context::Error,
) -> Option<String> {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
    use aws_sdk_dynamodb::operation::*;
    macro_rules! code {
        ($($t:ty),*) => {$(
            if let Some(e) = err.downcast_ref::<$t>() {
                return e.code().map(str::to_string);
            }
        )*};
    }
    code!(
        put_item::PutItemError,
        get_item::GetItemError,
        update_item::UpdateItemError,
        delete_item::DeleteItemError,
        query::QueryError,
        scan::ScanError,
        batch_get_item::BatchGetItemError,
        batch_write_item::BatchWriteItemError,
        transact_write_items::TransactWriteItemsError,
        transact_get_items::TransactGetItemsError
    );
    None
}

/// What one logical operation has sent so far.
#[derive(Debug)]
struct Tally {
    span: Span,
    counts: Mutex<(u64, Capacity)>,
}

impl Tally {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Capacity)> {
        // Plain additions only: a poisoned lock still holds consistent numbers.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

tokio::task_local! {
    /// The logical operation the running task is inside.
    static CURRENT: Arc<Tally>;
}

/// Opens the logical span of the ddbrel operation `$op` on store `$store`, with extra fields.
macro_rules! op_span {
    ($store:expr, $op:literal $(, $($field:tt)+)?) => {
        tracing::info_span!(
            concat!("ddbrel.", $op),
            otel.kind = "client",
            db.system.name = "aws.dynamodb",
            db.operation.name = concat!("ddbrel.", $op),
            db.collection.name = $store.table(),
            aws.dynamodb.table_names = $store.table(),
            ddbrel.request_count = tracing::field::Empty,
            ddbrel.consumed_capacity.read_units = tracing::field::Empty,
            ddbrel.consumed_capacity.write_units = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_message = tracing::field::Empty,
            $($($field)+)?
        )
    };
}
pub(crate) use op_span;

/// Runs `fut` as the logical operation of `span`: its requests are counted into it, and when
/// it ends the span records the request count, the capacity and the error, if any.
///
/// The operation's future is boxed: a heap allocation per operation, which keeps the types of
/// operations that run operations from nesting without bound (the compiler's layout depth).
pub(crate) async fn traced<'a, T, E: SpanError>(
    span: Span,
    fut: impl Future<Output = std::result::Result<T, E>> + Send + 'a,
) -> std::result::Result<T, E> {
    let fut: std::pin::Pin<Box<dyn Future<Output = std::result::Result<T, E>> + Send + 'a>> =
        Box::pin(fut);
    traced_inline(span, fut).await
}

/// [`traced`] for a future that is not `Send` (one holding the caller's closure), unboxed.
pub(crate) async fn traced_inline<T, E: SpanError>(
    span: Span,
    fut: impl Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<T, E> {
    let outer = CURRENT.try_with(Arc::clone).ok();
    let tally = Arc::new(Tally {
        span: span.clone(),
        counts: Mutex::new((0, Capacity::default())),
    });
    let out = CURRENT
        .scope(Arc::clone(&tally), fut.instrument(span.clone()))
        .await;
    let (requests, capacity) = *tally.lock();
    span.record("ddbrel.request_count", as_int(requests));
    if capacity.requests > 0 {
        span.record("ddbrel.consumed_capacity.read_units", capacity.read_units);
        span.record("ddbrel.consumed_capacity.write_units", capacity.write_units);
    }
    if let Err(e) = &out {
        record_error(&span, e);
    }
    if let Some(outer) = outer {
        let mut o = outer.lock();
        o.0 += requests;
        o.1 = o.1.plus(&capacity);
    }
    out
}

/// An error a logical span can record: its kind for `error.type`, its message for the status.
pub(crate) trait SpanError: std::fmt::Display {
    /// A stable, low-cardinality name.
    fn kind(&self) -> &'static str;
}

impl SpanError for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}

/// A count as a signed integer: OpenTelemetry's integer attributes are `i64`, and
/// `tracing-opentelemetry` turns a `u64` into a string.
fn as_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn record_error(span: &Span, e: &impl SpanError) {
    span.record("error.type", e.kind());
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_message", tracing::field::display(e));
}

/// The request span of one SDK invocation, kept in its config bag.
#[derive(Debug, Clone)]
struct RequestSpan {
    span: Span,
    tally: Option<Arc<Tally>>,
    operation: String,
    attempts: Arc<AtomicU64>,
}

impl Storable for RequestSpan {
    type Storer = StoreReplace<Self>;
}

/// The SDK interceptor that opens a request span per DynamoDB request and counts it into the
/// logical operation. [`Store::new`](crate::Store::new) installs it.
#[derive(Debug, Clone)]
pub(crate) struct Telemetry {
    pub(crate) table: String,
}

impl Intercept for Telemetry {
    fn name(&self) -> &'static str {
        "ddbrel::Telemetry"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        // A client that went through `Store::new` twice carries two of us: the first one
        // opens the span.
        if cfg.load::<RequestSpan>().is_some() {
            return Ok(());
        }
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        let tally = CURRENT.try_with(Arc::clone).ok();
        let parent = tally
            .as_ref()
            .map_or_else(Span::current, |t| t.span.clone());
        let span = tracing::info_span!(
            parent: &parent,
            "dynamodb.request",
            otel.name = format!("{operation} {}", self.table),
            otel.kind = "client",
            db.system.name = "aws.dynamodb",
            db.operation.name = operation.as_str(),
            db.collection.name = self.table.as_str(),
            aws.dynamodb.table_names = self.table.as_str(),
            rpc.system = "aws-api",
            rpc.service = "DynamoDB",
            rpc.method = operation.as_str(),
            ddbrel.request_count = Empty,
            ddbrel.consumed_capacity.read_units = Empty,
            ddbrel.consumed_capacity.write_units = Empty,
            aws.dynamodb.consumed_capacity = Empty,
            aws.request_id = Empty,
            http.response.status_code = Empty,
            error.type = Empty,
            otel.status_code = Empty,
        );
        // A span can be enabled with no subscriber behind it (another thread's subscriber
        // made the callsite always interesting): ask for capacity only when one records.
        let recorded =
            tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>());
        let traced = recorded
            && (!span.is_disabled() || tally.as_ref().is_some_and(|t| !t.span.is_disabled()));
        if traced {
            ask_for_capacity(context.input_mut());
        }
        cfg.interceptor_state().store_put(RequestSpan {
            span,
            tally,
            operation,
            attempts: Arc::new(AtomicU64::new(0)),
        });
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        if let Some(request) = cfg.load::<RequestSpan>() {
            request.attempts.fetch_add(1, Ordering::Relaxed);
            if let Some(tally) = &request.tally {
                tally.lock().0 += 1;
            }
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let (Some(request), Ok(output)) = (cfg.load::<RequestSpan>(), context.output_or_error())
        else {
            return Ok(());
        };
        let found = reported_capacity(output);
        if found.is_empty() {
            return Ok(());
        }
        let mut capacity = Capacity::default();
        capacity.add_response(&request.operation, &found);
        request
            .span
            .record("ddbrel.consumed_capacity.read_units", capacity.read_units);
        request
            .span
            .record("ddbrel.consumed_capacity.write_units", capacity.write_units);
        let json: Vec<String> = found.iter().map(capacity_json).collect();
        request.span.record(
            "aws.dynamodb.consumed_capacity",
            format!("[{}]", json.join(",")),
        );
        if let Some(tally) = &request.tally {
            let mut t = tally.lock();
            t.1 = t.1.plus(&capacity);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let Some(request) = cfg.load::<RequestSpan>() else {
            return Ok(());
        };
        let span = &request.span;
        span.record(
            "ddbrel.request_count",
            as_int(request.attempts.load(Ordering::Relaxed)),
        );
        if let Some(response) = context.response() {
            span.record(
                "http.response.status_code",
                i64::from(response.status().as_u16()),
            );
            if let Some(id) = response.headers().get("x-amzn-requestid") {
                span.record("aws.request_id", id);
            }
        }
        if let Some(Err(err)) = context.output_or_error() {
            let code = err
                .as_operation_error()
                .and_then(service_error_code)
                .unwrap_or_else(|| "_OTHER".to_string());
            span.record("error.type", code.as_str());
            span.record("otel.status_code", "ERROR");
        }
        Ok(())
    }
}

/// One reported capacity as the JSON DynamoDB returns it (`{"TableName":…,"CapacityUnits":…}`).
fn capacity_json(c: &ConsumedCapacity) -> String {
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        o.insert(k.to_string(), v);
    };
    if let Some(t) = c.table_name() {
        put("TableName", t.into());
    }
    for (k, v) in [
        ("CapacityUnits", c.capacity_units()),
        ("ReadCapacityUnits", c.read_capacity_units()),
        ("WriteCapacityUnits", c.write_capacity_units()),
    ] {
        if let Some(v) = v {
            put(k, v.into());
        }
    }
    if let Some(gsis) = c.global_secondary_indexes() {
        let m: serde_json::Map<_, _> = gsis
            .iter()
            .map(|(k, v)| (k.clone(), v.capacity_units().unwrap_or(0.0).into()))
            .collect();
        put("GlobalSecondaryIndexes", m.into());
    }
    serde_json::Value::Object(o).to_string()
}
