//! The embedded engine: dynoxide-rs (a DynamoDB-compatible engine on SQLite) started
//! in-process on a loopback port, with an ordinary aws-sdk client pointed at it.
//!
//! ```no_run
//! # async fn demo() -> ddbrel_runtime::Result<()> {
//! let engine = ddbrel_runtime::embedded::Engine::memory().await?;
//! let store = engine.store("ddbrel").await?; // creates the table
//! # Ok(()) }
//! ```

use std::net::SocketAddr;

use aws_sdk_dynamodb::Client;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::wire::store::{Store, local_config_builder};

/// A running embedded engine. Dropping it stops the server.
#[derive(Debug)]
pub struct Engine {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Engine {
    /// Starts an engine holding its data in memory.
    pub async fn memory() -> Result<Self> {
        Self::memory_on(0).await
    }

    /// Starts an engine backed by the SQLite file at `path` (created if missing).
    pub async fn file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::file_on(path, 0).await
    }

    /// Starts an in-memory engine on a given loopback port (0 picks a free one).
    pub async fn memory_on(port: u16) -> Result<Self> {
        let db = dynoxide::Database::memory()
            .map_err(|e| Error::Config(format!("embedded engine: {e}")))?;
        Self::start_on(db, port).await
    }

    /// Starts a file-backed engine on a given loopback port (0 picks a free one).
    pub async fn file_on(path: impl AsRef<std::path::Path>, port: u16) -> Result<Self> {
        let path = path.as_ref();
        let text = path
            .to_str()
            .ok_or_else(|| Error::Config(format!("path {} is not UTF-8", path.display())))?;
        let db = dynoxide::Database::new(text)
            .map_err(|e| Error::Config(format!("embedded engine at {}: {e}", path.display())))?;
        Self::start_on(db, port).await
    }

    async fn start_on(db: dynoxide::Database, port: u16) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| Error::Config(format!("embedded engine: bind 127.0.0.1:{port}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("embedded engine: {e}")))?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = dynoxide::server::serve_with_shutdown(listener, db, shutdown).await {
                tracing::error!(error = %e, "embedded engine stopped");
            }
        });
        Ok(Engine {
            addr,
            shutdown: Some(tx),
        })
    }

    /// The engine's endpoint URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An SDK config builder pointed at the engine (static local credentials), to which callers
    /// may add interceptors before building a client.
    pub fn config_builder(&self) -> aws_sdk_dynamodb::config::Builder {
        local_config_builder(&self.endpoint())
    }

    /// A client pointed at the engine.
    pub fn client(&self) -> Client {
        Client::from_conf(self.config_builder().build())
    }

    /// A store on `table` through [`Engine::client`], creating the table if needed.
    pub async fn store(&self, table: &str) -> Result<Store> {
        let store = Store::new(self.client(), table);
        store.create_table().await?;
        Ok(store)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
