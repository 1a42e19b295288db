//! `ddbrel export` and `ddbrel import`: the whole table as DynamoDB JSON lines.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use ddbrel_runtime::Item;
use ddbrel_runtime::codec::{from_dynamodb_json, to_dynamodb_json};

use crate::context::Ctx;
use crate::failure::Failure;
use crate::progress::bar;

/// Reads every record of the table with a strongly consistent Scan, handing each page to
/// `each`, with a progress bar; returns how many records were read.
async fn scan_pages(
    ctx: &Ctx,
    mut each: impl FnMut(Vec<Item>) -> Result<(), Failure>,
) -> Result<u64, Failure> {
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
        let items = page.items.unwrap_or_default();
        n += items.len() as u64;
        each(items)?;
        pb.set_length(n);
        pb.set_position(n);
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    pb.finish_and_clear();
    Ok(n)
}

/// Writes every record of the table to `file`, one DynamoDB JSON object per line.
pub async fn export(ctx: &Ctx, file: &Path) -> Result<(), Failure> {
    let f = std::fs::File::create(file)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", file.display())))?;
    let mut out = BufWriter::new(f);
    let write_failed =
        |e: std::io::Error| Failure::new(format!("cannot write {}: {e}", file.display()));
    let n = scan_pages(ctx, |items| {
        for item in &items {
            writeln!(out, "{}", to_dynamodb_json(item)).map_err(write_failed)?;
        }
        Ok(())
    })
    .await?;
    out.flush().map_err(write_failed)?;
    say!("exported {n} records to {}", file.display());
    Ok(())
}

/// Writes every record of the table under `dir` in the layout of a DynamoDB table export
/// (manifests and gzip data files of DynamoDB JSON), read with a strongly consistent Scan.
pub async fn export_dynamodb(ctx: &Ctx, dir: &Path) -> Result<(), Failure> {
    let mut items = Vec::new();
    scan_pages(ctx, |page| {
        items.extend(page);
        Ok(())
    })
    .await?;
    let written = ddbrel_runtime::integrity::write_export(dir, ctx.store.table(), &items)?;
    say!(
        "exported {} records in {} data files to {}",
        written.items,
        written.files,
        written.root.display()
    );
    Ok(())
}

/// Loads records written by [`export`] from `file` (idempotent: existing records are
/// overwritten).
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
