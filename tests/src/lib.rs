//! Shared helpers for ddbrel's integration tests: a store on a fresh table of the embedded
//! engine (or of `DDBREL_TEST_ENDPOINT` when set), with a request counter on its client.

use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::{RequestCounter, Store};

pub mod concurrency;
pub mod faults;
pub mod findings;
pub mod gate;
pub mod invariants;
pub mod records;
pub mod sample;
pub mod stream;

/// A store on a table of its own, and the counter of the requests its client sends.
pub struct TestEnv {
    /// The store.
    pub store: Store,
    /// Counts every request the store's client sends.
    pub counter: RequestCounter,
    /// A plain SDK client on the same endpoint, without the counter, for reading raw items.
    pub raw: aws_sdk_dynamodb::Client,
    /// The endpoint.
    pub endpoint: String,
    /// Injects faults into the store's client (disarmed until armed).
    pub faults: faults::FaultInjector,
    /// Holds chosen requests of the store's client until the test releases them.
    pub gate: gate::Gate,
    /// The concurrency model in front of the engine, when there is one.
    pub model: Option<ddbrel_model::Model>,
    _engine: Option<Engine>,
}

impl TestEnv {
    /// A fresh table: on its own in-memory engine, or, with `DDBREL_TEST_ENDPOINT` set, a
    /// uniquely named table on that endpoint.
    pub async fn new() -> TestEnv {
        TestEnv::build(None).await
    }

    /// A fresh table with DynamoDB's concurrency modelled in front of the engine
    /// (`ddbrel-model`: item-level transaction conflicts held for `hold`, idempotency tokens),
    /// and a retry budget fit for contention.
    pub async fn modelled(hold: std::time::Duration) -> TestEnv {
        TestEnv::build(Some(hold)).await
    }

    /// A fresh table with the concurrency model configured as given, on `clock` (a manual
    /// clock for deterministic tests); the model is [`TestEnv::model`]. The gate sits in front
    /// of the model.
    pub async fn with_model(
        config: ddbrel_model::ModelConfig,
        clock: ddbrel_model::Clock,
    ) -> TestEnv {
        TestEnv::build_with(Some((config, clock))).await
    }

    async fn build(hold: Option<std::time::Duration>) -> TestEnv {
        let model = hold.map(|hold| {
            let config = ddbrel_model::ModelConfig {
                hold,
                ..ddbrel_model::ModelConfig::default()
            };
            (config, ddbrel_model::Clock::scaled(1.0))
        });
        TestEnv::build_with(model).await
    }

    async fn build_with(
        model: Option<(ddbrel_model::ModelConfig, ddbrel_model::Clock)>,
    ) -> TestEnv {
        let hold = model.as_ref().map(|(c, _)| c.hold);
        let (engine, endpoint) = match std::env::var("DDBREL_TEST_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => (None, endpoint),
            _ => {
                let engine = Engine::memory().await.expect("start the embedded engine");
                let endpoint = engine.endpoint();
                (Some(engine), endpoint)
            }
        };
        let counter = RequestCounter::new();
        let faults = faults::FaultInjector::new();
        let model = model.map(|(config, clock)| ddbrel_model::Model::new(config, clock));
        let gate = match &model {
            None => gate::Gate::new(),
            Some(model) => gate::Gate::with_inner(
                aws_smithy_runtime_api::client::http::SharedHttpClient::new(model.clone()),
            ),
        };
        let config = ddbrel_runtime::store::local_config_builder(&endpoint)
            .http_client(gate.clone())
            .interceptor(counter.clone())
            .interceptor(faults.clone())
            .build();
        let table = format!("ddbrel-test-{}", uuid::Uuid::now_v7().simple());
        // Retries as in production, with short backoffs so fault tests stay quick.
        let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), table)
            .with_retry_policy(ddbrel_runtime::RetryPolicy {
                max_attempts: if hold.is_some() { 40 } else { 10 },
                base: std::time::Duration::from_millis(1),
                cap: std::time::Duration::from_millis(20),
            });
        store.create_table().await.expect("create the table");
        let raw = aws_sdk_dynamodb::Client::from_conf(
            ddbrel_runtime::store::local_config_builder(&endpoint).build(),
        );
        counter.reset();
        TestEnv {
            store,
            counter,
            raw,
            endpoint,
            faults,
            gate,
            model,
            _engine: engine,
        }
    }

    /// Every item in the table, read with a plain Scan (tests only).
    pub async fn scan_all(&self) -> Vec<ddbrel_runtime::Item> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .raw
                .scan()
                .table_name(self.store.table())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out
    }

    /// Writes one raw item with the plain SDK (a `PutItem` without conditions), as another
    /// writer or a corruption would.
    pub async fn put_raw(&self, item: ddbrel_runtime::Item) {
        self.raw
            .put_item()
            .table_name(self.store.table())
            .set_item(Some(item))
            .send()
            .await
            .expect("put_item");
    }

    /// A fenced sweep of `urn` cut short by a fault before the `k`th request is sent (the
    /// injector disarmed again after it): what an interrupted cascade leaves behind.
    pub async fn sweep_cut_at(
        &self,
        urn: &ddbrel_runtime::AnyUrn,
        k: u64,
    ) -> ddbrel_runtime::Result<ddbrel_runtime::DeleteReport> {
        self.faults.arm(k, faults::FaultMode::BeforeSend);
        let options = ddbrel_runtime::DeleteOptions {
            force_sweep: true,
            ..Default::default()
        };
        let out = self.store.delete_with(urn, options).await;
        self.faults.disarm();
        out
    }

    /// Deletes one raw item by key with the plain SDK (no condition), as a corruption would.
    pub async fn delete_raw(&self, pk: &str, sk: &str) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.raw
            .delete_item()
            .table_name(self.store.table())
            .key("PK", AttributeValue::S(pk.to_string()))
            .key("SK", AttributeValue::S(sk.to_string()))
            .send()
            .await
            .expect("delete_item");
    }

    /// Runs `update` (an update expression with `#a` for `name`, and `:v` for `value` when
    /// given) on one raw item with the plain SDK, without a condition.
    pub async fn update_raw(
        &self,
        pk: &str,
        sk: &str,
        update: &str,
        name: &str,
        value: Option<aws_sdk_dynamodb::types::AttributeValue>,
    ) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.raw
            .update_item()
            .table_name(self.store.table())
            .key("PK", AttributeValue::S(pk.to_string()))
            .key("SK", AttributeValue::S(sk.to_string()))
            .update_expression(update)
            .expression_attribute_names("#a", name)
            .set_expression_attribute_values(value.map(|v| [(":v".to_string(), v)].into()))
            .send()
            .await
            .expect("update_item");
    }

    /// One raw item by key, read with the plain SDK.
    pub async fn raw_item(&self, pk: &str, sk: &str) -> Option<ddbrel_runtime::Item> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.raw
            .get_item()
            .table_name(self.store.table())
            .key("PK", AttributeValue::S(pk.to_string()))
            .key("SK", AttributeValue::S(sk.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
    }
}
