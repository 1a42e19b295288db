//! `ddbrel migrate`: rewrite resources written at older schema versions.

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::types;

/// Migrates the resources of every type (or only `type_`) written at older schema versions,
/// prints a row per type, and fails if any item could not be migrated.
pub async fn migrate(ctx: &Ctx, type_: Option<&str>, segments: u32) -> Result<(), Failure> {
    let wanted = type_.map(types::require).transpose()?;
    let reports =
        entities::migrate_all(&ctx.store, wanted.map(|d| d.resource_type), segments).await?;
    let mut failed = 0;
    let rows: Vec<Vec<serde_json::Value>> = reports
        .iter()
        .map(|(t, r)| {
            failed += r.failed.len();
            vec![
                t.to_string().into(),
                r.found.into(),
                r.migrated.into(),
                r.failed.len().into(),
            ]
        })
        .collect();
    output::rows(ctx.json, &["type", "found", "migrated", "failed"], &rows);
    for (_, r) in &reports {
        for (key, why) in &r.failed {
            eprintln!("not migrated: {key}: {why}");
        }
    }
    if failed > 0 {
        return Err(Failure::new(format!("{failed} items were not migrated")));
    }
    Ok(())
}
