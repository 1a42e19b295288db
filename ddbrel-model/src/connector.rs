//! The model as the SDK's HTTP client.

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::{Model, Shared};

/// The operation of a DynamoDB JSON request (`X-Amz-Target: DynamoDB_20120810.Op` → `Op`).
pub fn operation_of(request: &HttpRequest) -> String {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_string()
}

impl HttpClient for Model {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ModelConnector {
            shared: self.shared.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct ModelConnector {
    shared: Arc<Shared>,
    inner: SharedHttpConnector,
}

impl HttpConnector for ModelConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        HttpConnectorFuture::new(shared.handle(request, inner))
    }
}
