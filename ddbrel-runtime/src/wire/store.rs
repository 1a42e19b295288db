//! The store handle: a DynamoDB client, the table ddbrel stores in and the retry policy, and
//! how an SDK error becomes an [`Error`]. The operations are `impl Store` blocks in `ops/`, one
//! access-pattern family per file.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use crate::error::{Error, Result};
use crate::wire::retry::RetryPolicy;
use crate::wire::telemetry::Telemetry;

/// The table name used when none is given.
pub const DEFAULT_TABLE: &str = "ddbrel";

/// A DynamoDB client and the table ddbrel stores in. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) retry: RetryPolicy,
}

impl Store {
    /// A store on `table` through `client`. The store's client is `client` with one more
    /// interceptor, which opens a span per request (see [`telemetry`](crate::wire::telemetry)).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        let conf = client
            .config()
            .to_builder()
            .interceptor(Telemetry {
                table: table.clone(),
            })
            .build();
        Store {
            client: Client::from_conf(conf),
            table,
            retry: RetryPolicy::default(),
        }
    }

    /// A store from the environment: aws-config's standard chain (region, credentials,
    /// profile), with `DDBREL_ENDPOINT` overriding the endpoint (static local credentials are
    /// used when no other credentials are found) and `DDBREL_TABLE` the table (default
    /// `ddbrel`).
    pub async fn from_env() -> Result<Self> {
        let table = std::env::var("DDBREL_TABLE").unwrap_or_else(|_| DEFAULT_TABLE.to_string());
        if let Ok(endpoint) = std::env::var("DDBREL_ENDPOINT") {
            return Ok(Store::new(
                Client::from_conf(local_config_builder(&endpoint).build()),
                table,
            ));
        }
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Ok(Store::new(Client::new(&config), table))
    }

    /// A store on a DynamoDB-compatible endpoint with static local credentials.
    pub fn local(endpoint: &str, table: impl Into<String>) -> Self {
        Store::new(
            Client::from_conf(local_config_builder(endpoint).build()),
            table,
        )
    }

    /// Replaces the retry policy for transaction conflicts and unprocessed batch items.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The SDK client: the escape hatch for anything ddbrel does not do.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Maps an SDK error: missing table, throttling, anything else as [`Error::Service`].
    pub(crate) fn map_sdk_error<E>(&self, operation: &'static str, e: E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static + ProvideCode,
    {
        match e.code() {
            Some("ResourceNotFoundException") => Error::TableNotFound {
                table: self.table.clone(),
            },
            Some(
                "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded",
            ) => Error::Throttled {
                operation,
                source: Box::new(e),
            },
            _ => Error::service(operation, e),
        }
    }
}

/// The error code of an SDK error, if the service sent one.
pub(crate) trait ProvideCode {
    fn code(&self) -> Option<&str>;
}

impl<E, R> ProvideCode for aws_sdk_dynamodb::error::SdkError<E, R>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    fn code(&self) -> Option<&str> {
        self.as_service_error()
            .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
    }
}

/// An SDK config builder for a DynamoDB-compatible endpoint (static local credentials, region
/// `us-east-1`), to which callers may add interceptors.
pub fn local_config_builder(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "ddbrel-local",
        ))
        .endpoint_url(endpoint)
}
