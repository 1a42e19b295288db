//! Store and location setup: what every command runs against.

use std::path::PathBuf;

use clap::Args;

use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::{RequestCounter, Store};

use crate::failure::Failure;
use crate::registry::Registry;

/// Where the table is: the local engine (the default), an endpoint, or real DynamoDB.
#[derive(Args, Debug)]
pub struct Location {
    /// Run on the embedded engine backed by this SQLite file (the default, `./ddbrel.sqlite`).
    #[arg(long, global = true, value_name = "PATH", conflicts_with_all = ["endpoint", "aws"])]
    pub local: Option<PathBuf>,

    /// Any DynamoDB-compatible endpoint, e.g. http://127.0.0.1:8000.
    #[arg(
        long,
        global = true,
        env = "DDBREL_ENDPOINT",
        value_name = "URL",
        conflicts_with = "aws"
    )]
    pub endpoint: Option<String>,

    /// Real DynamoDB, through aws-config's standard chain.
    #[arg(long, global = true)]
    pub aws: bool,

    /// AWS region (with --aws).
    #[arg(long, global = true, requires = "aws")]
    pub region: Option<String>,

    /// AWS profile (with --aws).
    #[arg(long, global = true, requires = "aws")]
    pub profile: Option<String>,
}

impl Location {
    /// The SQLite file of the embedded engine: `--local`, else `./ddbrel.sqlite`.
    pub fn sqlite_file(&self) -> PathBuf {
        self.local
            .clone()
            .unwrap_or_else(|| PathBuf::from("ddbrel.sqlite"))
    }
}

/// What commands run against.
pub struct Ctx {
    /// The store.
    pub store: Store,
    /// Counts the store's requests.
    pub counter: RequestCounter,
    /// JSON lines output.
    pub json: bool,
    /// The entity types compiled into this binary.
    pub registry: Registry,
    _engine: Option<Engine>,
}

/// Connects to `table` at `loc` (the local engine by default), counting requests; on the local
/// engine the table is created first when `create_local_table`. `json` selects the output.
pub async fn connect(
    loc: &Location,
    table: &str,
    json: bool,
    create_local_table: bool,
    registry: Registry,
) -> Result<Ctx, Failure> {
    let counter = RequestCounter::new();
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
        let engine = Engine::file(&loc.sqlite_file()).await?;
        let conf = engine.config_builder().interceptor(counter.clone()).build();
        (aws_sdk_dynamodb::Client::from_conf(conf), Some(engine))
    };
    let store = Store::new(client, table.to_string());
    if engine.is_some() && create_local_table {
        store.create_table().await?;
    }
    counter.reset();
    Ok(Ctx {
        store,
        counter,
        json,
        registry,
        _engine: engine,
    })
}
