//! `ddbrel migrate`: rewrite resources written at older schema versions.

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::types::KnownType;

/// Migrates the resources of every type compiled into this binary (or only `type_`) written
/// at older schema versions, prints a row per type, and fails if any item could not be
/// migrated. A type known only from the table's registry cannot be migrated here: its
/// migration is its application's code.
pub async fn migrate(ctx: &Ctx, type_: Option<&str>, segments: u32) -> Result<(), Failure> {
    let known = ctx.known_types().await?;
    let wanted: Vec<&KnownType> = match type_ {
        Some(name) => vec![known.require(name)?],
        None => known.types.iter().collect(),
    };
    let mut reports = Vec::new();
    for t in wanted {
        let Some(run) = t.migrate else {
            let message = format!(
                "{} is registered in the table but not compiled into this binary, and migrating                  runs its own `migrate` code: run `migrate` from an admin binary built on                  `ddbrel_cli::main` with `Registry::new().entity::<{}>()`",
                t.schema.resource_type, t.schema.type_name
            );
            if type_.is_some() {
                return Err(Failure::new(message));
            }
            eprintln!("not migrated: {message}");
            continue;
        };
        reports.push((
            t.schema.type_name.as_str(),
            run(&ctx.store, segments).await?,
        ));
    }
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
