//! `ddbrel serve`: the embedded engine on a loopback port until interrupted.

use ddbrel_runtime::embedded::Engine;

use crate::context::Location;
use crate::failure::Failure;

/// Serves the embedded engine on `port` (in memory, or on the SQLite file `loc`
/// names) until Ctrl-C.
pub async fn serve(loc: &Location, port: u16, memory: bool) -> Result<(), Failure> {
    let engine = if memory {
        Engine::memory_on(port).await?
    } else {
        Engine::file_on(&loc.sqlite_file(), port).await?
    };
    say!("serving the embedded engine on {}", engine.endpoint());
    say!("press Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::new(format!("cannot wait for Ctrl-C: {e}")))?;
    drop(engine);
    Ok(())
}
