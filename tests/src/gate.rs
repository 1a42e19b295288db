//! Holding a chosen request until the test releases it: races made deterministic.
//!
//! [`Gate`] wraps the SDK client's HTTP connector (an interceptor cannot wait). A test asks to
//! [`Gate::hold`] the n-th request of an operation (optionally only those whose body contains
//! a string); when that request reaches the connector it is parked, [`Held::arrived`] hands the
//! test the request body, and nothing is sent to the engine until [`Held::release`]. Every other
//! request passes straight through, so the engine executes everything, in the order the test
//! chose.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::oneshot;

/// A connector wrapper that can park chosen requests. Clones share the same rules.
#[derive(Clone, Debug)]
pub struct Gate {
    inner: SharedHttpClient,
    rules: Arc<Mutex<Vec<Rule>>>,
}

#[derive(Debug)]
struct Rule {
    operation: String,
    contains: Option<String>,
    /// Matching requests still to let pass before the one to hold.
    skip: usize,
    arrived: Option<oneshot::Sender<String>>,
    release: Option<oneshot::Receiver<()>>,
}

/// A request being held (or waited for): see [`Gate::hold`].
#[derive(Debug)]
pub struct Held {
    arrived: Option<oneshot::Receiver<String>>,
    release: Option<oneshot::Sender<()>>,
}

impl Held {
    /// Waits until the held request reaches the connector; returns its body (JSON).
    pub async fn arrived(&mut self) -> String {
        let rx = self.arrived.take().expect("arrived() is awaited once");
        rx.await.expect("the gate dropped a held request")
    }

    /// Lets the held request go on to the engine.
    pub fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A test that forgets to release must not hang the request forever.
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    /// A pass-through gate in front of the SDK's default HTTP client.
    pub fn new() -> Gate {
        #[allow(deprecated)] // the same (hyper 0.14) client the SDK builds by default here
        let inner = aws_smithy_http_client::hyper_014::default_client()
            .expect("the SDK's default HTTP client is compiled in (rustls)");
        Gate {
            inner,
            rules: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A pass-through gate in front of `inner` (e.g. the concurrency model).
    pub fn with_inner(inner: SharedHttpClient) -> Gate {
        Gate {
            inner,
            rules: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Holds the `nth` (1-based) request of `operation` (e.g. `"UpdateItem"`) whose body
    /// contains `contains` (any request when `None`).
    pub fn hold(&self, operation: &str, nth: usize, contains: Option<&str>) -> Held {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.rules.lock().unwrap().push(Rule {
            operation: operation.to_string(),
            contains: contains.map(str::to_string),
            skip: nth.saturating_sub(1),
            arrived: Some(arrived_tx),
            release: Some(release_rx),
        });
        Held {
            arrived: Some(arrived_rx),
            release: Some(release_tx),
        }
    }

    /// The rule this request trips, if any: (arrived, release).
    fn take(
        &self,
        operation: &str,
        body: &str,
    ) -> Option<(oneshot::Sender<String>, oneshot::Receiver<()>)> {
        let mut rules = self.rules.lock().unwrap();
        let i = rules.iter_mut().position(|r| {
            r.operation == operation
                && r.contains.as_deref().is_none_or(|c| body.contains(c))
                && if r.skip == 0 {
                    true
                } else {
                    r.skip -= 1;
                    false
                }
        })?;
        let mut rule = rules.remove(i);
        Some((rule.arrived.take()?, rule.release.take()?))
    }
}

impl HttpClient for Gate {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GateConnector {
            gate: self.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct GateConnector {
    gate: Gate,
    inner: SharedHttpConnector,
}

impl HttpConnector for GateConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = ddbrel_model::operation_of(&request);
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let held = self.gate.take(&operation, &body);
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if let Some((arrived, release)) = held {
                let _ = arrived.send(body);
                let _ = release.await;
            }
            inner.call(request).await
        })
    }
}
