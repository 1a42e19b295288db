//! `ddbrel delete`: the cascading delete, with a dry run and a confirmation.

use std::sync::Arc;

use ddbrel_runtime::{DeleteOptions, Progress};

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::parse::urn;
use crate::progress::bar;
use crate::prompt::confirm;

/// Deletes a resource and everything that depends on it: prints the plan, asks unless `yes`,
/// then deletes with a progress bar; with `dry_run`, prints the plan only.
pub async fn delete(ctx: &Ctx, text: &str, dry_run: bool, yes: bool) -> Result<(), Failure> {
    let u = urn(text)?;
    let plan = ctx.store.plan_delete(&u).await?;
    let mut rows: Vec<Vec<serde_json::Value>> = plan
        .resources
        .iter()
        .map(|(t, n)| vec![format!("Resource {t}").into(), (*n).into()])
        .collect();
    rows.push(vec![
        "ParentChildRelationship".into(),
        plan.parent_child.into(),
    ]);
    rows.push(vec![
        "CollectionMembershipRelationship".into(),
        plan.memberships.into(),
    ]);
    rows.push(vec!["UniqueKeyValue".into(), plan.markers.into()]);
    if dry_run {
        output::rows(ctx.json, &["kind", "count"], &rows);
        return Ok(());
    }
    if !yes {
        output::rows(false, &["kind", "count"], &rows);
        if !confirm(&format!(
            "Delete {u} and {} records in all?",
            plan.record_count()
        ))? {
            return Err(Failure::new("not deleted"));
        }
    }
    let pb = bar(plan.record_count() as u64, "deleting");
    let progress = {
        let pb = pb.clone();
        Arc::new(move |p: Progress| {
            pb.set_length(p.discovered as u64);
            pb.set_position(p.deleted as u64);
        })
    };
    ctx.counter.reset();
    let report = ctx
        .store
        .delete_with(
            &u,
            DeleteOptions {
                progress: Some(progress),
                ..DeleteOptions::default()
            },
        )
        .await;
    pb.finish_and_clear();
    let report = report.map_err(|e| {
        Failure::new(format!(
            "{e}; the delete is resumable: run `ddbrel delete {u}` again"
        ))
    })?;
    output::rows(
        ctx.json,
        &["deleted", "records", "requests", "swept"],
        &[vec![
            u.to_string().into(),
            report.record_count().into(),
            ctx.counter.total().into(),
            report.swept.into(),
        ]],
    );
    Ok(())
}
