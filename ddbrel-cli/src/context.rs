//! Store and location setup: what every command runs against.

use std::path::PathBuf;

use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::{RequestCounter, Store};

use crate::Cli;
use crate::failure::Failure;

/// What commands run against.
pub struct Ctx {
    /// The store.
    pub store: Store,
    /// Counts the store's requests.
    pub counter: RequestCounter,
    /// JSON lines output.
    pub json: bool,
    _engine: Option<Engine>,
}

/// Connects to the location the command line names (the local engine by default), counting
/// requests; on the local engine the table is created first when `create_local_table`.
pub async fn connect(cli: &Cli, create_local_table: bool) -> Result<Ctx, Failure> {
    let counter = RequestCounter::new();
    let loc = &cli.location;
    let (client, engine) = if loc.aws {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = &loc.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(p) = &loc.profile {
            loader = loader.profile_name(p);
        }
        let config = loader.load().await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(counter.clone())
            .build();
        (aws_sdk_dynamodb::Client::from_conf(conf), None)
    } else if let Some(endpoint) = &loc.endpoint {
        let conf = ddbrel_runtime::store::local_config_builder(endpoint)
            .interceptor(counter.clone())
            .build();
        (aws_sdk_dynamodb::Client::from_conf(conf), None)
    } else {
        let path = loc
            .local
            .clone()
            .unwrap_or_else(|| PathBuf::from("ddbrel.sqlite"));
        let engine = Engine::file(&path).await?;
        let conf = engine.config_builder().interceptor(counter.clone()).build();
        (aws_sdk_dynamodb::Client::from_conf(conf), Some(engine))
    };
    let store = Store::new(client, cli.table.clone());
    if engine.is_some() && create_local_table {
        store.create_table().await?;
    }
    counter.reset();
    Ok(Ctx {
        store,
        counter,
        json: cli.json,
        _engine: engine,
    })
}
