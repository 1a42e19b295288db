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
    let mut rows: Vec<Vec<String>> = plan
        .resources
        .iter()
        .map(|(t, n)| vec![format!("Resource {t}"), n.to_string()])
        .collect();
    rows.push(vec![
        "ParentChildRelationship".into(),
        plan.parent_child.to_string(),
    ]);
    rows.push(vec![
        "CollectionMembershipRelationship".into(),
        plan.memberships.to_string(),
    ]);
    rows.push(vec!["UniqueKeyValue".into(), plan.markers.to_string()]);
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
            u.to_string(),
            report.record_count().to_string(),
            ctx.counter.total().to_string(),
            report.swept.to_string(),
        ]],
    );
    Ok(())
}
