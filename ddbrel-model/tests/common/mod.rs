//! What the model's self-tests share: an engine with ddbrel's table, a client through a model
//! (SDK retries off, so every refusal is seen as it is), a plain client, and item builders.

#![allow(dead_code)] // each test file uses its own part of this module

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use ddbrel_model::{Clock, Model, ModelConfig};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;

/// The table every self-test uses.
pub const TABLE: &str = "model";

/// A string attribute.
pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

/// An engine with the table, a client through `model`, and a plain client on the engine.
pub struct Env {
    pub model: Model,
    pub client: Client,
    pub raw: Client,
    _engine: Engine,
}

/// An [`Env`] whose model has `config` on a manual clock.
pub async fn env(config: ModelConfig) -> Env {
    env_with(config, Clock::manual(), false).await
}

/// An [`Env`] whose model has `config` on `clock`; `sdk_retries` keeps the SDK's retries.
pub async fn env_with(config: ModelConfig, clock: Clock, sdk_retries: bool) -> Env {
    let engine = Engine::memory().await.expect("start the embedded engine");
    let endpoint = engine.endpoint();
    let raw = Client::from_conf(local_config_builder(&endpoint).build());
    let model = Model::new(config, clock);
    let mut builder = local_config_builder(&endpoint).http_client(model.clone());
    if !sdk_retries {
        builder = builder.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled());
    }
    let client = Client::from_conf(builder.build());
    // Through the model, which learns the table's indexes from its CreateTable.
    ddbrel_runtime::Store::new(client.clone(), TABLE)
        .create_table()
        .await
        .expect("create the table");
    model.reset_stats();
    Env {
        model,
        client,
        raw,
        _engine: engine,
    }
}

/// A transaction action putting `PK = pk, SK = sk` with `extra` attributes.
pub fn put(pk: &str, sk: &str, extra: &[(&str, &str)]) -> TransactWriteItem {
    let mut put = Put::builder()
        .table_name(TABLE)
        .item("PK", s(pk))
        .item("SK", s(sk));
    for (name, value) in extra {
        put = put.item(*name, s(value));
    }
    TransactWriteItem::builder()
        .put(put.build().expect("a valid Put"))
        .build()
}
