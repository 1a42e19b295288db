//! ddbrel's spans exported as OpenTelemetry traces.
//!
//! ```sh
//! cargo run -p ddbrel-runtime --example opentelemetry
//! ```
//!
//! Every store operation is one client span (`ddbrel.create`, `ddbrel.delete`, …) carrying
//! `db.system.name`, `db.operation.name`, `aws.dynamodb.table_names`, the request count and
//! the consumed capacity; each DynamoDB request is a child span named `{operation} {table}`.
//! This example prints them with the stdout exporter; in production swap in the OTLP exporter
//! (`opentelemetry-otlp`) and keep the rest.

use ddbrel_runtime::{Entity, embedded::Engine};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing::Level;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Otel.Org")]
struct Org {
    #[unique(case_insensitive)]
    slug: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Otel.Org.Project")]
#[parent(Org)]
struct Project {
    name: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // OpenTelemetry: a tracer provider with an exporter (stdout here, OTLP in production).
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("ddbrel-example")
                .build(),
        )
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    // tracing → OpenTelemetry: ddbrel's spans (target `ddbrel_runtime`) go through this layer;
    // the SDK's and the engine's own spans are left out.
    let telemetry = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("ddbrel-example"))
        .with_filter(Targets::new().with_target("ddbrel_runtime", Level::INFO));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(telemetry))?;

    let engine = Engine::memory().await?;
    let store = engine.store("otel-example").await?;
    let org = store
        .create(Org {
            slug: "acme".into(),
        })
        .await?;
    store
        .create_child(&org, Project { name: "web".into() })
        .await?;
    let org = store.get(&org.urn).await?;
    // One logical span; its requests (reads of the tree, one transaction) are its children.
    store.delete(&org).await?;

    provider.shutdown()?;
    Ok(())
}
