//! DynamoDB table exports (the `DYNAMODB_JSON` format ExportTableToPointInTime writes to S3),
//! read and written on a local directory, so an audit can run on a point-in-time snapshot
//! instead of a live Scan that writes can race.
//!
//! The layout, as DynamoDB writes it under the export's S3 prefix:
//!
//! ```text
//! AWSDynamoDB/{exportId}/manifest-summary.json    {"exportArn":…,"itemCount":N,"outputFormat":"DYNAMODB_JSON",…}
//! AWSDynamoDB/{exportId}/manifest-files.json      one line per data file: {"itemCount":n,"dataFileS3Key":"AWSDynamoDB/{exportId}/data/….json.gz",…}
//! AWSDynamoDB/{exportId}/data/{name}.json.gz      gzip; one line per item: {"Item":{"PK":{"S":"…"},…}}
//! ```
//!
//! [`read_export`] takes the directory an export was downloaded to (the one holding
//! `AWSDynamoDB/`, or the `{exportId}` directory itself) and checks the item counts the
//! manifests state. [`write_export`] writes the same layout (without the MD5 and ETag fields,
//! which only S3 can give).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::Item;
use crate::error::{Error, Result};
use crate::records::json::{from_dynamodb_json, to_dynamodb_json};

/// Items per data file [`write_export`] writes.
const ITEMS_PER_FILE: usize = 100_000;

fn invalid(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::InvalidArgument {
        what: format!("the export at {}", path.display()),
        reason: reason.to_string(),
    }
}

/// The `{exportId}` directory of the export under `dir`: `dir` itself when it holds
/// `manifest-summary.json`, else the one directory under `dir/AWSDynamoDB/` that does.
fn export_root(dir: &Path) -> Result<PathBuf> {
    if dir.join("manifest-summary.json").is_file() {
        return Ok(dir.to_path_buf());
    }
    let base = dir.join("AWSDynamoDB");
    let entries = std::fs::read_dir(&base).map_err(|e| {
        invalid(
            dir,
            format!("no manifest-summary.json and no AWSDynamoDB/: {e}"),
        )
    })?;
    let mut roots: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest-summary.json").is_file())
        .collect();
    match roots.len() {
        1 => Ok(roots.remove(0)),
        0 => Err(invalid(dir, "no export under AWSDynamoDB/")),
        n => Err(invalid(
            dir,
            format!("{n} exports under AWSDynamoDB/: name the one to read"),
        )),
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid(path, e))?;
    serde_json::from_str(&text).map_err(|e| invalid(path, format!("not JSON: {e}")))
}

fn count(v: &serde_json::Value, path: &Path) -> Result<u64> {
    v.get("itemCount")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| invalid(path, "no itemCount"))
}

/// Every item of the export under `dir`, checked against the item counts of its manifests.
/// Errors name the file and line.
pub fn read_export(dir: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    visit_export(dir, &mut |_, item| {
        items.push(item);
        Ok(())
    })?;
    Ok(items)
}

/// Reads the export under `dir` one line at a time, handing `visit` each data line and the
/// item it holds, and checks the item counts of the manifests; returns the number of items.
/// Nothing is kept: memory does not grow with the export.
pub(super) fn visit_export(
    dir: &Path,
    visit: &mut dyn FnMut(&str, Item) -> Result<()>,
) -> Result<u64> {
    let root = export_root(dir)?;
    let summary_path = root.join("manifest-summary.json");
    let summary = read_json(&summary_path)?;
    if let Some(format) = summary.get("outputFormat").and_then(|f| f.as_str())
        && format != "DYNAMODB_JSON"
    {
        return Err(invalid(
            &summary_path,
            format!("output format {format}: only DYNAMODB_JSON is read"),
        ));
    }
    let expected = count(&summary, &summary_path)?;
    // Data file keys are relative to the bucket prefix the export was written under, which is
    // the directory holding `AWSDynamoDB/`.
    let prefix_dir = root
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| root.clone(), Path::to_path_buf);
    let files_path = root.join("manifest-files.json");
    let files = std::fs::read_to_string(&files_path).map_err(|e| invalid(&files_path, e))?;
    let mut total = 0u64;
    for (i, line) in files
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = |r: String| invalid(&files_path, format!("line {}: {r}", i + 1));
        let entry: serde_json::Value =
            serde_json::from_str(line).map_err(|e| at(format!("not JSON: {e}")))?;
        let key = entry
            .get("dataFileS3Key")
            .and_then(|k| k.as_str())
            .ok_or_else(|| at("no dataFileS3Key".into()))?;
        let want = count(&entry, &files_path)?;
        let data = prefix_dir.join(key);
        let got = read_data_file(&data, visit)?;
        total += got;
        if got != want {
            return Err(invalid(
                &data,
                format!("{got} items, the manifest says {want}"),
            ));
        }
    }
    if total != expected {
        return Err(invalid(
            &summary_path,
            format!("{total} items in the data files, the summary says {expected}"),
        ));
    }
    Ok(total)
}

/// Reads one gzip data file, handing each item to `visit`; returns how many it held.
fn read_data_file(path: &Path, visit: &mut dyn FnMut(&str, Item) -> Result<()>) -> Result<u64> {
    let f = std::fs::File::open(path).map_err(|e| invalid(path, e))?;
    let mut n = 0;
    for (i, line) in BufReader::new(GzDecoder::new(f)).lines().enumerate() {
        let at = |r: String| invalid(path, format!("line {}: {r}", i + 1));
        let line = line.map_err(|e| at(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| at(format!("not JSON: {e}")))?;
        let item = v.get("Item").ok_or_else(|| at("no \"Item\"".into()))?;
        visit(
            &line,
            from_dynamodb_json(item).map_err(|e| at(e.to_string()))?,
        )?;
        n += 1;
    }
    Ok(n)
}

/// What [`write_export`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportWritten {
    /// The `{exportId}` directory (holding the manifests).
    pub root: PathBuf,
    /// Items written.
    pub items: u64,
    /// Data files written.
    pub files: usize,
}

/// Writes `items` under `dir` in the layout of a DynamoDB export of `table` (see the module
/// docs), so [`read_export`] and the tools that read DynamoDB exports can read it.
pub fn write_export(dir: &Path, table: &str, items: &[Item]) -> Result<ExportWritten> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let rel = format!("AWSDynamoDB/{id}");
    let root = dir.join(&rel);
    let data_dir = root.join("data");
    std::fs::create_dir_all(&data_dir).map_err(|e| invalid(&data_dir, e))?;
    let mut manifest = String::new();
    let mut files = 0;
    for chunk in items.chunks(ITEMS_PER_FILE) {
        let name = format!("{}.json.gz", uuid::Uuid::now_v7().simple());
        let path = data_dir.join(&name);
        let f = std::fs::File::create(&path).map_err(|e| invalid(&path, e))?;
        let mut out = BufWriter::new(GzEncoder::new(f, Compression::default()));
        for item in chunk {
            let line = serde_json::json!({ "Item": to_dynamodb_json(item) });
            writeln!(out, "{line}").map_err(|e| invalid(&path, e))?;
        }
        let gz = out
            .into_inner()
            .map_err(|e| invalid(&path, e.error().to_string()))?;
        gz.finish().map_err(|e| invalid(&path, e))?;
        let entry = serde_json::json!({
            "itemCount": chunk.len(),
            "dataFileS3Key": format!("{rel}/data/{name}"),
        });
        manifest.push_str(&entry.to_string());
        manifest.push('\n');
        files += 1;
    }
    let files_path = root.join("manifest-files.json");
    std::fs::write(&files_path, manifest).map_err(|e| invalid(&files_path, e))?;
    let now = crate::time::format(crate::time::now());
    let summary = serde_json::json!({
        "version": "2020-06-30",
        "exportArn": format!("local:export/{table}/{id}"),
        "startTime": now,
        "endTime": now,
        "tableArn": format!("local:table/{table}"),
        "exportTime": now,
        "s3Prefix": null,
        "manifestFilesS3Key": format!("{rel}/manifest-files.json"),
        "billedSizeBytes": 0,
        "itemCount": items.len(),
        "outputFormat": "DYNAMODB_JSON",
    });
    let summary_path = root.join("manifest-summary.json");
    std::fs::write(&summary_path, summary.to_string()).map_err(|e| invalid(&summary_path, e))?;
    Ok(ExportWritten {
        root,
        items: items.len() as u64,
        files,
    })
}
