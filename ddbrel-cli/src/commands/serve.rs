//! `ddbrel serve`: the embedded engine on a loopback port until interrupted.

use std::path::PathBuf;

use ddbrel_runtime::embedded::Engine;

use crate::failure::Failure;

/// Serves the embedded engine on `port` (in memory, or on the `local` SQLite file) until Ctrl-C.
pub async fn serve(local: &Option<PathBuf>, port: u16, memory: bool) -> Result<(), Failure> {
    let engine = if memory {
        Engine::memory_on(port).await?
    } else {
        let path = local
            .clone()
            .unwrap_or_else(|| PathBuf::from("ddbrel.sqlite"));
        Engine::file_on(&path, port).await?
    };
    say!("serving the embedded engine on {}", engine.endpoint());
    say!("press Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::new(format!("cannot wait for Ctrl-C: {e}")))?;
    drop(engine);
    Ok(())
}
