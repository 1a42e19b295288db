//! `ddbrel check`: audit the table and, with `--repair`, fix what is safe to fix.

use ddbrel_runtime::integrity;

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::progress;
use std::sync::Arc;

/// Prints an audit's findings (a table, or one JSON object per finding) and a summary line.
fn print_audit(ctx: &Ctx, audit: &integrity::Audit) {
    let rows: Vec<Vec<serde_json::Value>> = audit
        .findings
        .iter()
        .map(|f| {
            vec![
                f.kind.as_str().into(),
                f.invariant.to_string().into(),
                if f.repairable() { "yes" } else { "no" }.into(),
                f.key.clone().into(),
                f.message.clone().into(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        output::rows(
            ctx.json,
            &["finding", "invariant", "repairable", "key", "detail"],
            &rows,
        );
    }
    let repairable = audit.findings.iter().filter(|f| f.repairable()).count();
    if ctx.json {
        say!(
            "{}",
            serde_json::json!({
                "checked": audit.records,
                "findings": audit.findings.len(),
                "repairable": repairable,
            })
        );
    } else {
        say!(
            "checked {} records: {} findings ({repairable} repairable)",
            audit.records,
            audit.findings.len()
        );
    }
}

/// Audits the table (by the SQL checks of `specs/checks/`, or with `in_memory` by the
/// in-process checker); fails with status 3 on findings, unless `repair` fixes them all.
pub async fn check(
    ctx: &Ctx,
    repair: bool,
    segments: u32,
    export: Option<&std::path::Path>,
    in_memory: bool,
) -> Result<(), Failure> {
    let pb = progress::counter("reading");
    let report = reporter(&pb);
    let audit = match (export, in_memory) {
        (Some(dir), true) => integrity::audit_export(dir),
        (Some(dir), false) => integrity::sql::audit_export_sql_with(dir, Some(report)),
        (None, in_memory) => live_audit(ctx, segments, in_memory, report).await,
    };
    pb.finish_and_clear();
    let audit = audit?;
    print_audit(ctx, &audit);
    finish(ctx, repair, segments, in_memory, &audit).await
}

/// Audits the live table, reporting progress to `report`.
async fn live_audit(
    ctx: &Ctx,
    segments: u32,
    in_memory: bool,
    report: integrity::AuditProgress,
) -> ddbrel_runtime::Result<integrity::Audit> {
    if in_memory {
        integrity::audit_with(&ctx.store, segments, Some(report)).await
    } else {
        integrity::sql::audit_sql_with(&ctx.store, segments, Some(report)).await
    }
}

/// Shows an audit's phase and count (and so its rate) on the progress counter `pb`.
fn reporter(pb: &indicatif::ProgressBar) -> integrity::AuditProgress {
    let pb = pb.clone();
    Arc::new(move |phase, n| {
        match phase {
            integrity::AuditPhase::Scanning => pb.set_message("reading"),
            integrity::AuditPhase::Checking => pb.set_message("checking"),
            integrity::AuditPhase::Planning => pb.set_message("planning fixes"),
        }
        pb.set_position(n);
    })
}

/// Exit status 3 on findings, unless `repair` fixes them all.
async fn finish(
    ctx: &Ctx,
    repair: bool,
    segments: u32,
    in_memory: bool,
    audit: &integrity::Audit,
) -> Result<(), Failure> {
    if audit.findings.is_empty() {
        return Ok(());
    }
    if !repair {
        return Err(Failure::with_code(
            format!(
                "{} integrity findings (run `ddbrel check --repair` to fix what is safe)",
                audit.findings.len()
            ),
            3,
        ));
    }
    let done = integrity::repair(&ctx.store, audit).await?;
    for action in &done.actions {
        if ctx.json {
            say!("{}", serde_json::json!({ "repaired": action }));
        } else {
            say!("repaired: {action}");
        }
    }
    for line in &done.skipped {
        if ctx.json {
            say!("{}", serde_json::json!({ "not_repaired": line }));
        } else {
            say!("not repaired: {line}");
        }
    }
    // After a repair the live table is audited again (also when the first audit read an
    // export: the repair changed the live table, not the snapshot).
    let pb = progress::counter("scanning");
    let after = live_audit(ctx, segments, in_memory, reporter(&pb)).await;
    pb.finish_and_clear();
    let after = after?;
    if !ctx.json {
        say!("after the repair:");
    }
    print_audit(ctx, &after);
    if after.findings.is_empty() {
        if !ctx.json {
            say!("the table is consistent");
        }
        Ok(())
    } else {
        Err(Failure::with_code(
            format!(
                "{} findings remain that are not safe to repair automatically",
                after.findings.len()
            ),
            3,
        ))
    }
}

/// Prints the SQL checks with the views of `engine` (`ddbrel check --print-sql ENGINE`).
pub fn print_sql(engine: &str) -> Result<(), Failure> {
    let engine = integrity::sql::SqlEngine::parse(engine).ok_or_else(|| {
        Failure::with_code(
            format!("unknown SQL engine {engine:?}: sqlite, trino (athena) or spark"),
            2,
        )
    })?;
    say!("{}", integrity::sql::script(engine));
    Ok(())
}
