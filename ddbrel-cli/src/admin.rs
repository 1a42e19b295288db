//! Table management, cascading delete, integrity check, export, import, migration, serving.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ddbrel_runtime::codec::{from_dynamodb_json, to_dynamodb_json};
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::{DeleteOptions, Progress, integrity, schema};
use indicatif::{ProgressBar, ProgressStyle};

use crate::context::Ctx;
use crate::failure::Failure;
use crate::queries::urn;
use crate::{TableAction, output};

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn confirm(question: &str) -> Result<bool, Failure> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub async fn table(ctx: &Ctx, action: TableAction) -> Result<(), Failure> {
    let store = &ctx.store;
    match action {
        TableAction::Create => {
            store.create_table().await?;
            say!("table {} is ready", store.table());
        }
        TableAction::Describe => {
            let d = store.describe_table().await?;
            output::rows(
                ctx.json,
                &["table", "status", "items", "bytes", "indexes"],
                &[vec![
                    d.name,
                    d.status,
                    d.item_count.to_string(),
                    d.size_bytes.to_string(),
                    d.indexes.join(","),
                ]],
            );
        }
        TableAction::Delete { yes } => {
            if !yes
                && !confirm(&format!(
                    "Delete table {} and everything in it?",
                    store.table()
                ))?
            {
                return Err(Failure::new("not deleted"));
            }
            store.delete_table().await?;
            say!("table {} deleted", store.table());
        }
        TableAction::Definition => {
            let mut resources = serde_json::Map::new();
            resources.insert(
                "DdbrelTable".to_string(),
                schema::cloudformation(store.table()),
            );
            output::value(ctx.json, &serde_json::json!({ "Resources": resources }));
        }
    }
    Ok(())
}

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

/// Prints an audit's findings (a table, or one JSON object per finding) and a summary line.
fn print_audit(ctx: &Ctx, audit: &integrity::Audit) {
    let rows: Vec<Vec<String>> = audit
        .findings
        .iter()
        .map(|f| {
            vec![
                f.kind.as_str().to_string(),
                f.invariant.to_string(),
                if f.repairable() { "yes" } else { "no" }.to_string(),
                f.key.clone(),
                f.message.clone(),
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

pub async fn check(ctx: &Ctx, repair: bool, segments: u32) -> Result<(), Failure> {
    let audit = integrity::audit(&ctx.store, segments).await?;
    print_audit(ctx, &audit);
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
    let done = integrity::repair(&ctx.store, &audit).await?;
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
    let after = integrity::audit(&ctx.store, segments).await?;
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

pub async fn export(ctx: &Ctx, file: &Path) -> Result<(), Failure> {
    let f = std::fs::File::create(file)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", file.display())))?;
    let mut out = BufWriter::new(f);
    let pb = bar(0, "exporting");
    let mut start = None;
    let mut n = 0u64;
    loop {
        let page = ctx
            .store
            .client()
            .scan()
            .table_name(ctx.store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "Scan failed: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                ))
            })?;
        for item in page.items.unwrap_or_default() {
            writeln!(out, "{}", to_dynamodb_json(&item))
                .map_err(|e| Failure::new(format!("cannot write {}: {e}", file.display())))?;
            n += 1;
        }
        pb.set_length(n);
        pb.set_position(n);
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    out.flush()
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", file.display())))?;
    pb.finish_and_clear();
    say!("exported {n} records to {}", file.display());
    Ok(())
}

pub async fn import(ctx: &Ctx, file: &Path) -> Result<(), Failure> {
    let f = std::fs::File::open(file)
        .map_err(|e| Failure::new(format!("cannot open {}: {e}", file.display())))?;
    let mut items = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line =
            line.map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| Failure::new(format!("{}:{}: not JSON: {e}", file.display(), i + 1)))?;
        let item = from_dynamodb_json(&value)
            .map_err(|e| Failure::new(format!("{}:{}: {e}", file.display(), i + 1)))?;
        ddbrel_runtime::codec::check_limits(&item)
            .map_err(|e| Failure::new(format!("{}:{}: {e}", file.display(), i + 1)))?;
        items.push(item);
    }
    let total = items.len();
    let pb = bar(total as u64, "importing");
    let tick = {
        let pb = pb.clone();
        move |k: usize| pb.inc(k as u64)
    };
    ctx.store.batch_put(items, &tick).await?;
    pb.finish_and_clear();
    say!("imported {total} records into {}", ctx.store.table());
    Ok(())
}

pub async fn migrate(ctx: &Ctx, type_: Option<&str>, segments: u32) -> Result<(), Failure> {
    let wanted = match type_ {
        Some(t) => Some(crate::types::descriptor(t).ok_or_else(|| {
            Failure::new(format!(
                "unknown type {t:?}: one of {}",
                crate::types::known()
            ))
        })?),
        None => None,
    };
    let reports =
        entities::migrate_all(&ctx.store, wanted.map(|d| d.resource_type), segments).await?;
    let mut failed = 0;
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|(t, r)| {
            failed += r.failed.len();
            vec![
                t.to_string(),
                r.found.to_string(),
                r.migrated.to_string(),
                r.failed.len().to_string(),
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
