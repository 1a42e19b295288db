//! TransactGetItems, checked deterministically: it is cancelled with `TransactionConflict` at
//! an item a TransactWriteItems holds (a manual clock keeps the writer in flight) or a single
//! write is writing (parked in the connector behind the model until the test lets it go); no
//! write ever conflicts with it; and it costs 2 RCU per item.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::types::{Get, TransactGetItem};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use ddbrel_model::{Clock, Model, ModelConfig, Throughput};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;
use tokio::sync::oneshot;

mod common;
use common::{TABLE, s};

const HOLD: Duration = Duration::from_millis(10);

/// The operation to park next, where to tell that it arrived, and what releases it.
type Parked = (String, oneshot::Sender<()>, oneshot::Receiver<()>);

/// Parks the next request of one operation on its way from the model to the engine.
#[derive(Clone, Debug)]
struct Park {
    inner: SharedHttpClient,
    /// The operation to park, and where to tell that it arrived and wait for the release.
    next: Arc<Mutex<Option<Parked>>>,
}

impl Park {
    /// Parks the next `operation`; the first receiver fires when it arrives, the sender
    /// releases it.
    fn next(&self, operation: &str) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *self.next.lock().expect("not poisoned") =
            Some((operation.to_string(), arrived_tx, release_rx));
        (arrived_rx, release_tx)
    }
}

impl HttpClient for Park {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ParkConnector {
            park: self.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct ParkConnector {
    park: Park,
    inner: SharedHttpConnector,
}

impl HttpConnector for ParkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = ddbrel_model::operation_of(&request);
        let parked = {
            let mut next = self.park.next.lock().expect("not poisoned");
            match next.take() {
                Some((op, arrived, release)) if op == operation => Some((arrived, release)),
                other => {
                    *next = other;
                    None
                }
            }
        };
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if let Some((arrived, release)) = parked {
                let _ = arrived.send(());
                let _ = release.await;
            }
            inner.call(request).await
        })
    }
}

struct Env {
    model: Model,
    park: Park,
    client: Client,
    _engine: Engine,
}

async fn env(throughput: Option<Throughput>) -> Env {
    let engine = Engine::memory().await.expect("start the embedded engine");
    let endpoint = engine.endpoint();
    #[allow(deprecated)] // the client the SDK builds by default here, as the model uses
    let default = aws_smithy_http_client::hyper_014::default_client().expect("a default client");
    let park = Park {
        inner: default,
        next: Arc::new(Mutex::new(None)),
    };
    let model = Model::with_inner(
        SharedHttpClient::new(park.clone()),
        ModelConfig {
            hold: HOLD,
            throughput,
            ..ModelConfig::default()
        },
        Clock::manual(),
    );
    let client = Client::from_conf(
        local_config_builder(&endpoint)
            .http_client(model.clone())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build(),
    );
    ddbrel_runtime::Store::new(client.clone(), TABLE)
        .create_table()
        .await
        .expect("create the table");
    model.reset_stats();
    Env {
        model,
        park,
        client,
        _engine: engine,
    }
}

fn get(pk: &str) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(TABLE)
                .key("PK", s(pk))
                .key("SK", s(pk))
                .build()
                .expect("a valid Get"),
        )
        .build()
}

impl Env {
    async fn transact_get(&self, pks: &[&str]) -> Result<usize, Vec<String>> {
        let mut request = self.client.transact_get_items();
        for pk in pks {
            request = request.transact_items(get(pk));
        }
        match request.send().await {
            Ok(out) => Ok(out
                .responses()
                .iter()
                .filter(|r| r.item().is_some())
                .count()),
            Err(e) => match e.as_service_error() {
                Some(TransactGetItemsError::TransactionCanceledException(c)) => Err(c
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or_default().to_string())
                    .collect()),
                _ => Err(vec![e.code().unwrap_or("no code").to_string()]),
            },
        }
    }

    fn put_later(&self, pk: &str) -> tokio::task::JoinHandle<Result<(), String>> {
        let client = self.client.clone();
        let pk = pk.to_string();
        tokio::spawn(async move {
            client
                .put_item()
                .table_name(TABLE)
                .item("PK", s(&pk))
                .item("SK", s(&pk))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transact_get_conflicts_with_a_write_transaction_holding_its_item() {
    let env = env(None).await;
    env.put_later("b").await.expect("join").expect("put b");
    let before = env.model.holding();
    let client = env.client.clone();
    let writer = tokio::spawn(async move {
        client
            .transact_write_items()
            .transact_items(common::put("a", "a", &[("v", "1")]))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    });
    env.model.until_applied_and_holding(before + 1).await;
    assert_eq!(
        env.transact_get(&["b", "a"]).await,
        Err(vec!["None".to_string(), "TransactionConflict".to_string()]),
        "cancelled at the held item only"
    );
    assert_eq!(env.transact_get(&["b"]).await, Ok(1), "b is not held");
    env.model.clock().advance(HOLD);
    writer.await.expect("join").expect("the writer commits");
    assert_eq!(env.transact_get(&["b", "a"]).await, Ok(2));
    let stats = env.model.stats();
    assert_eq!(
        (stats.read_transaction_conflicts, stats.conflicts()),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transact_get_conflicts_with_a_single_write_in_flight_and_blocks_no_write() {
    let env = env(None).await;
    // A PutItem of x parked between the model and the engine: x is being written.
    let (arrived, release) = env.park.next("PutItem");
    let put = env.put_later("x");
    arrived.await.expect("the PutItem arrives");
    assert_eq!(
        env.transact_get(&["x"]).await,
        Err(vec!["TransactionConflict".to_string()])
    );
    release.send(()).expect("release the PutItem");
    put.await.expect("join").expect("the PutItem lands");
    assert_eq!(env.transact_get(&["x"]).await, Ok(1), "x is written now");

    // A TransactGetItems of x parked in turn: writes of x go on as if it were not there.
    let (arrived, release) = env.park.next("TransactGetItems");
    let client = env.client.clone();
    let reader = tokio::spawn(async move {
        client
            .transact_get_items()
            .transact_items(get("x"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    });
    arrived.await.expect("the TransactGetItems arrives");
    env.put_later("x")
        .await
        .expect("join")
        .expect("a single write of x");
    let before = env.model.holding();
    let client = env.client.clone();
    let writer = tokio::spawn(async move {
        client
            .transact_write_items()
            .transact_items(common::put("x", "x", &[("v", "2")]))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    });
    env.model.until_applied_and_holding(before + 1).await;
    env.model.clock().advance(HOLD);
    writer
        .await
        .expect("join")
        .expect("a write transaction on x");
    release.send(()).expect("release the read");
    reader.await.expect("join").expect("the read transaction");
    assert_eq!(env.model.stats().conflicts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transact_get_costs_two_read_units_per_item() {
    let env = env(Some(Throughput {
        read_units_per_s: 4.0,
        burst: Duration::from_secs(1),
        ..Throughput::default()
    }))
    .await;
    // 4 RCU: two single-item read transactions of one partition, and the third is refused.
    assert_eq!(env.transact_get(&["p"]).await, Ok(0));
    assert_eq!(env.transact_get(&["p"]).await, Ok(0));
    assert_eq!(
        env.transact_get(&["q", "p"]).await,
        Err(vec!["None".to_string(), "ThrottlingError".to_string()])
    );
    assert_eq!(env.model.stats().transaction_throttles, 1);
}
