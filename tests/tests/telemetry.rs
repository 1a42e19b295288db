//! Spans in the shape of OpenTelemetry's semantic conventions: one logical span per ddbrel
//! operation, a child span per DynamoDB request, the attributes a tracing backend groups by,
//! the request count and consumed capacity of the whole operation, and errors on both. Seen
//! through a capturing `tracing` layer and through `tracing-opentelemetry` into an in-memory
//! OpenTelemetry exporter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ddbrel_runtime::{Error, Store};
use ddbrel_tests::TestEnv;
use ddbrel_tests::sample;
use entities::Account;
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, field::Field, field::Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// The tests of this file run one at a time. Each installs its subscriber for its own thread
/// only, and `tracing` caches whether a callsite is interesting across threads: a callsite
/// first reached on one thread while another thread's subscriber comes and goes can be
/// cached as uninteresting, and its span never reach the layer. (An application installs one
/// global subscriber and does not meet this.)
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A span as the layer saw it: its name, its parent's index, its fields as text.
#[derive(Debug, Clone)]
struct Captured {
    name: String,
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

/// Records every span, its parent and every field recorded on it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

/// The index of a span in the capture, kept in the span's extensions.
struct Index(usize);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut all = self.0.lock().unwrap();
        all.push(Captured {
            name: attrs.metadata().name().to_string(),
            parent,
            fields,
        });
        span.extensions_mut().insert(Index(all.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(i) = span.extensions().get::<Index>().map(|i| i.0) else {
            return;
        };
        values.record(&mut Fields(&mut self.0.lock().unwrap()[i].fields));
    }
}

impl Capture {
    fn spans(&self) -> Vec<Captured> {
        self.0.lock().unwrap().clone()
    }

    /// Runs `f` with this layer as the thread's subscriber (the tests run on a current-thread
    /// runtime, so every poll of `f` is on this thread).
    async fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        f.await
    }
}

fn num(s: &Captured, field: &str) -> f64 {
    s.get(field)
        .unwrap_or_else(|| panic!("{} has no {field}: {:?}", s.name, s.fields))
        .parse()
        .unwrap_or_else(|e| panic!("{} {field}: {e}", s.name))
}

fn only<'a>(spans: &'a [Captured], name: &str) -> (usize, &'a Captured) {
    let found: Vec<_> = spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.name == name)
        .collect();
    assert_eq!(found.len(), 1, "one {name} span in {spans:#?}");
    found[0]
}

/// Whether span `i` has span `ancestor` above it.
fn under(spans: &[Captured], mut i: usize, ancestor: usize) -> bool {
    while let Some(p) = spans[i].parent {
        if p == ancestor {
            return true;
        }
        i = p;
    }
    false
}

async fn account(store: &Store, name: &str) -> ddbrel_runtime::Stored<Account> {
    store.create(sample::account(name)).await.unwrap()
}

#[tokio::test]
async fn a_write_is_one_logical_span_with_its_requests_as_children() {
    let _one = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::new().await;
    let acct = account(&env.store, "spans").await;
    let capture = Capture::default();
    env.counter.reset();
    let project = capture
        .run(sample::collection(&env.store, &acct, "web"))
        .await
        .unwrap();
    let sent = env.counter.total();
    let spans = capture.spans();
    let (op, logical) = only(&spans, "ddbrel.create_child");
    let table = env.store.table();
    assert_eq!(logical.get("db.system.name"), Some("aws.dynamodb"));
    assert_eq!(
        logical.get("db.operation.name"),
        Some("ddbrel.create_child")
    );
    assert_eq!(logical.get("db.collection.name"), Some(table));
    assert_eq!(logical.get("aws.dynamodb.table_names"), Some(table));
    assert_eq!(logical.get("otel.kind"), Some("client"));
    assert_eq!(
        logical.get("ddbrel.urn"),
        Some(project.urn.as_str()),
        "the operation names what it wrote"
    );
    assert_eq!(num(logical, "ddbrel.request_count") as u64, sent);
    assert_eq!(logical.get("error.type"), None);

    let requests: Vec<&Captured> = spans
        .iter()
        .enumerate()
        .filter(|(i, s)| s.name == "dynamodb.request" && under(&spans, *i, op))
        .map(|(_, s)| s)
        .collect();
    assert_eq!(requests.len() as u64, sent, "a child span per request");
    let mut write_units = 0.0;
    for r in &requests {
        let operation = r.get("db.operation.name").unwrap();
        assert_eq!(r.get("rpc.method"), Some(operation));
        assert_eq!(r.get("rpc.system"), Some("aws-api"));
        assert_eq!(r.get("rpc.service"), Some("DynamoDB"));
        assert_eq!(r.get("db.system.name"), Some("aws.dynamodb"));
        assert_eq!(r.get("aws.dynamodb.table_names"), Some(table));
        assert_eq!(r.get("http.response.status_code"), Some("200"));
        assert_eq!(
            r.get("otel.name"),
            Some(format!("{operation} {table}").as_str())
        );
        assert_eq!(num(r, "ddbrel.request_count"), 1.0);
        write_units += num(r, "ddbrel.consumed_capacity.write_units");
        let reported = r.get("aws.dynamodb.consumed_capacity").unwrap();
        let json: serde_json::Value = serde_json::from_str(reported).unwrap();
        assert!(json.as_array().is_some_and(|a| !a.is_empty()), "{reported}");
    }
    assert!(
        requests
            .iter()
            .any(|r| r.get("db.operation.name") == Some("TransactWriteItems")),
        "a create is a transaction: {requests:#?}"
    );
    assert!(write_units > 0.0, "the engine reports capacity");
    assert_eq!(
        num(logical, "ddbrel.consumed_capacity.write_units"),
        write_units,
        "the operation's capacity is its requests' sum"
    );
}

#[tokio::test]
async fn errors_are_marked_on_the_operation_and_on_the_request() {
    let _one = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::new().await;
    let first = account(&env.store, "dup").await;
    let capture = Capture::default();
    let again = Account {
        slug: first.data.slug.to_uppercase(),
        ..sample::account("dup")
    };
    let second = capture.run(env.store.create(again)).await;
    assert!(matches!(second, Err(Error::UniqueViolation { .. })));
    let spans = capture.spans();
    let (_, logical) = only(&spans, "ddbrel.create");
    assert_eq!(logical.get("error.type"), Some("UniqueViolation"));
    assert_eq!(logical.get("otel.status_code"), Some("ERROR"));
    assert!(
        logical
            .get("otel.status_message")
            .is_some_and(|m| m.contains(&first.data.slug.to_uppercase())),
        "{logical:?}"
    );
    let failed: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "dynamodb.request" && s.get("error.type").is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{spans:#?}");
    assert_eq!(
        failed[0].get("error.type"),
        Some("TransactionCanceledException")
    );
    assert_eq!(failed[0].get("otel.status_code"), Some("ERROR"));
    assert_eq!(failed[0].get("http.response.status_code"), Some("400"));
}

#[tokio::test]
async fn a_cascade_counts_the_requests_of_the_operations_it_runs() {
    let _one = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::new().await;
    let acct = account(&env.store, "tree").await;
    for c in 0..3 {
        let col = sample::collection(&env.store, &acct, &format!("c{c}"))
            .await
            .unwrap();
        for j in 0..2 {
            env.store
                .create_child(&col, sample::job(&format!("j{j}")))
                .await
                .unwrap();
        }
    }
    let capture = Capture::default();
    env.counter.reset();
    let acct = env.store.get(&acct.urn).await.unwrap();
    env.counter.reset();
    let report = capture.run(env.store.delete(&acct)).await.unwrap();
    assert_eq!(report.resources.values().sum::<usize>(), 10);
    let sent = env.counter.total();
    let spans = capture.spans();
    let (op, logical) = only(&spans, "ddbrel.delete");
    assert_eq!(num(logical, "ddbrel.request_count") as u64, sent);
    assert!(sent > 1, "a tree of ten is more than one request");
    let requests: Vec<usize> = (0..spans.len())
        .filter(|i| spans[*i].name == "dynamodb.request")
        .collect();
    assert_eq!(requests.len() as u64, sent);
    assert!(
        requests.iter().all(|i| under(&spans, *i, op)),
        "every request of the cascade is under its span"
    );
    // Every logical span inside the delete counts into it, none beyond it.
    for (i, s) in spans.iter().enumerate() {
        if s.name.starts_with("ddbrel.") && i != op {
            assert!(under(&spans, i, op), "{} outside the delete", s.name);
            assert!(num(s, "ddbrel.request_count") as u64 <= sent);
        }
    }
    assert!(env.store.try_get(&acct.urn).await.unwrap().is_none());
    ddbrel_tests::invariants::assert_ok(&env).await;
}

/// An interceptor that records whether each serialized request asks for consumed capacity.
#[derive(Debug, Clone, Default)]
struct AsksForCapacity(Arc<Mutex<Vec<bool>>>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for AsksForCapacity {
    fn name(&self) -> &'static str {
        "AsksForCapacity"
    }
    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        let asks = String::from_utf8_lossy(body).contains("ReturnConsumedCapacity");
        self.0.lock().unwrap().push(asks);
        Ok(())
    }
}

#[tokio::test]
async fn without_a_subscriber_the_requests_are_unchanged() {
    let _one = ONE_AT_A_TIME.lock().await;
    let env = TestEnv::new().await;
    let asks = AsksForCapacity::default();
    let conf = env
        .store
        .client()
        .config()
        .to_builder()
        .interceptor(asks.clone())
        .build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(conf), env.store.table());
    // No subscriber: nothing asks for capacity.
    let acct = account(&store, "quiet").await;
    store.get(&acct.urn).await.unwrap();
    let quiet = std::mem::take(&mut *asks.0.lock().unwrap());
    assert!(!quiet.is_empty());
    assert!(quiet.iter().all(|a| !a), "{quiet:?}");
    // With one: every request asks, and a store built twice over one client opens one span
    // per request, not two.
    let capture = Capture::default();
    let twice = Store::new(store.client().clone(), store.table());
    capture.run(twice.get(&acct.urn)).await.unwrap();
    let loud = std::mem::take(&mut *asks.0.lock().unwrap());
    assert_eq!(loud, vec![true]);
    let requests = capture
        .spans()
        .iter()
        .filter(|s| s.name == "dynamodb.request")
        .count();
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn opentelemetry_sees_client_spans_with_the_conventions_attributes() {
    let _one = ONE_AT_A_TIME.lock().await;
    use opentelemetry::trace::{SpanKind, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let env = TestEnv::new().await;
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("ddbrel-test"));
    let subscriber = tracing_subscriber::registry().with(layer);
    let acct = {
        let _guard = tracing::subscriber::set_default(subscriber);
        account(&env.store, "otel").await
    };
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    let logical = spans
        .iter()
        .find(|s| s.name == "ddbrel.create")
        .expect("the logical span");
    assert_eq!(logical.span_kind, SpanKind::Client);
    assert_eq!(
        attr(logical, "db.system.name").as_deref(),
        Some("aws.dynamodb")
    );
    assert_eq!(
        attr(logical, "ddbrel.urn").as_deref(),
        Some(acct.urn.as_str())
    );
    assert_eq!(attr(logical, "ddbrel.request_count").as_deref(), Some("1"));
    let table = env.store.table();
    let request = spans
        .iter()
        .find(|s| s.name == format!("TransactWriteItems {table}"))
        .expect("the request span, named `{operation} {table}`");
    assert_eq!(request.span_kind, SpanKind::Client);
    assert_eq!(request.parent_span_id, logical.span_context.span_id());
    assert_eq!(
        attr(request, "db.operation.name").as_deref(),
        Some("TransactWriteItems")
    );
    assert!(attr(request, "aws.dynamodb.consumed_capacity").is_some());
}
