//! The invariants of SCHEMA.md section 9 as SQL (`specs/checks/`), run on an embedded SQLite
//! database on disk.
//!
//! The same checks the in-process checker ([`super::check_items`]) makes are published as one
//! SQL file per invariant in `specs/checks/*.sql` ([`CHECKS`]), each a single `SELECT`
//! returning rows `(kind, invariant, key, detail)`. They read a few flattened views of a
//! DynamoDB export (`ddbrel_items`, `ddbrel_unique_keys`, `ddbrel_member_of`,
//! `ddbrel_conveying`, `ddbrel_ancestors`, `ddbrel_root_listing`,
//! `ddbrel_registry_parents`), written once per engine in
//! `specs/checks/views/`: SQLite here, Athena/Trino and Spark SQL for exports in S3
//! ([`SqlEngine`], [`script`]). The files are embedded with `include_str!`, so they are the
//! single source of the checks.
//!
//! The runner writes every item, one export line per row, into a scratch SQLite database in
//! a temporary file (removed when the check ends), creates the views, materializes them into
//! indexed tables in SQLite's temporary schema (on disk as well), and runs every check. Memory
//! stays bounded by SQLite's page cache and the pages in flight, not the table:
//! [`audit_export_sql`] streams an export line by line, [`audit_sql`] writes each page of its
//! Scan as it arrives.
//!
//! The checks' rows carry the `kind`, `invariant` and `key` the in-process checker gives for
//! the same problem, and the check's `detail` as the message. The `record` rules (attribute
//! types and formats, reserved attributes on the wrong record) are not published as SQL: they
//! look at one record at a time, so the runner applies the in-process checker's own rules to
//! each item as it streams past, keeping only their findings. Then, for every record the
//! checks report (but whole-type findings, keyed `type …`), the in-process checker's rules run
//! again on the record's neighbourhood, read back from the scratch database, and give its
//! findings their words and their fixes (`plan.rs` says what a neighbourhood holds and why it
//! is enough). So the audit gives the findings the in-process checker gives, and
//! [`super::repair()`] repairs from it as from [`super::audit`], in memory that does not grow
//! with the table. Where the SQL differs from the in-process checker is listed in
//! `specs/checks/README.md`.

use std::path::Path;

use futures::stream::{self, StreamExt};

mod plan;
mod scratch;

use scratch::Scratch;

use super::{Audit, AuditPhase, AuditProgress, Finding};
use crate::Item;
use crate::error::Result;
use crate::records::json::to_dynamodb_json;
use crate::wire::pager::Source;
use crate::wire::store::Store;

/// The checks, in `specs/checks/`: file name and SQL (one `SELECT`, no trailing `;`).
pub const CHECKS: &[(&str, &str)] = &[
    (
        "fence_unfinished_cascade.sql",
        include_str!("../../../../specs/checks/fence_unfinished_cascade.sql"),
    ),
    (
        "i1_orphaned_relationship.sql",
        include_str!("../../../../specs/checks/i1_orphaned_relationship.sql"),
    ),
    (
        "i2_parent_relationship.sql",
        include_str!("../../../../specs/checks/i2_parent_relationship.sql"),
    ),
    (
        "i3_ancestors.sql",
        include_str!("../../../../specs/checks/i3_ancestors.sql"),
    ),
    (
        "i4_markers.sql",
        include_str!("../../../../specs/checks/i4_markers.sql"),
    ),
    (
        "i5_accounts.sql",
        include_str!("../../../../specs/checks/i5_accounts.sql"),
    ),
    (
        "i6_memberships.sql",
        include_str!("../../../../specs/checks/i6_memberships.sql"),
    ),
    (
        "i7_index_keys.sql",
        include_str!("../../../../specs/checks/i7_index_keys.sql"),
    ),
    (
        "i8_resource_layout.sql",
        include_str!("../../../../specs/checks/i8_resource_layout.sql"),
    ),
    (
        "i9_counts.sql",
        include_str!("../../../../specs/checks/i9_counts.sql"),
    ),
    (
        "i10_schema_versions.sql",
        include_str!("../../../../specs/checks/i10_schema_versions.sql"),
    ),
    (
        "i11_root_listing.sql",
        include_str!("../../../../specs/checks/i11_root_listing.sql"),
    ),
];

/// The views the checks read, in `specs/checks/views/*.sql`.
pub const VIEWS: [&str; 7] = [
    "ddbrel_items",
    "ddbrel_unique_keys",
    "ddbrel_member_of",
    "ddbrel_conveying",
    "ddbrel_ancestors",
    "ddbrel_root_listing",
    "ddbrel_registry_parents",
];

/// The invariant names a check may report (those of [`Finding::invariant`]).
const INVARIANTS: [&str; 14] = [
    "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10", "I11", "counts", "fence", "record",
];

/// Indexes on the materialized views, for the joins of the checks.
const INDEXES: &[(&str, &str)] = &[
    ("ddbrel_items", "pk"),
    ("ddbrel_items", "type, pk"),
    ("ddbrel_unique_keys", "pk, key"),
    ("ddbrel_unique_keys", "key"),
    ("ddbrel_member_of", "pk, collection"),
    ("ddbrel_conveying", "pk, collection"),
    ("ddbrel_ancestors", "pk, pos"),
    ("ddbrel_ancestors", "urn"),
    ("ddbrel_root_listing", "pk"),
    ("ddbrel_registry_parents", "reg_domain, reg_resource_type"),
];

/// An SQL engine the checks are published for: each has its own file of views, the checks
/// are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlEngine {
    /// SQLite 3.38 or later (the embedded engine): views over a table `ddbrel_export(line)`
    /// holding one export line per row. Tested.
    Sqlite,
    /// Amazon Athena (engine version 3) and Trino: views over a table on the export's `Item`
    /// column. Written against the documented syntax; not run by ddbrel's tests.
    Trino,
    /// Spark SQL 3.4 or later: views over a table on the export's `Item` column. Written
    /// against the documented syntax; not run by ddbrel's tests.
    Spark,
}

impl SqlEngine {
    /// Every engine.
    pub const ALL: [SqlEngine; 3] = [SqlEngine::Sqlite, SqlEngine::Trino, SqlEngine::Spark];

    /// The engine's name: `sqlite`, `trino` or `spark`.
    pub fn as_str(self) -> &'static str {
        match self {
            SqlEngine::Sqlite => "sqlite",
            SqlEngine::Trino => "trino",
            SqlEngine::Spark => "spark",
        }
    }

    /// The engine named `name` (as [`SqlEngine::as_str`] gives it; `athena` is Trino).
    pub fn parse(name: &str) -> Option<SqlEngine> {
        match name.to_ascii_lowercase().as_str() {
            "sqlite" => Some(SqlEngine::Sqlite),
            "trino" | "athena" => Some(SqlEngine::Trino),
            "spark" => Some(SqlEngine::Spark),
            _ => None,
        }
    }

    /// The engine's views file, `specs/checks/views/{engine}.sql`.
    pub fn views(self) -> &'static str {
        match self {
            SqlEngine::Sqlite => include_str!("../../../../specs/checks/views/sqlite.sql"),
            SqlEngine::Trino => include_str!("../../../../specs/checks/views/trino.sql"),
            SqlEngine::Spark => include_str!("../../../../specs/checks/views/spark.sql"),
        }
    }
}

/// Everything an engine runs, as one script: its views, then every check, each ended by `;`
/// and headed by a comment naming its file.
pub fn script(engine: SqlEngine) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "-- ddbrel integrity checks for {}: the views (specs/checks/views/{}.sql), then one query per check.\n\n",
        engine.as_str(),
        engine.as_str()
    ));
    out.push_str(engine.views().trim_end());
    out.push_str("\n\n");
    for (name, sql) in CHECKS {
        out.push_str(&format!("-- specs/checks/{name}\n"));
        out.push_str(sql.trim_end().trim_end_matches(';'));
        out.push_str(";\n\n");
    }
    out
}

/// [`super::check_items`] in SQL: the findings of every check on `items`. Errors only when
/// the scratch database fails (a full disk, an unwritable temporary directory); never panics
/// on what the items hold.
pub fn check_items_sql(items: &[Item]) -> Result<Vec<Finding>> {
    let mut db = Scratch::create()?;
    let mut layout = LayoutPass::default();
    db.load(|put| {
        for item in items {
            layout.see(item);
            put(&export_line(item))?;
        }
        Ok(())
    })?;
    findings(&db, layout, None)
}

/// The in-process checker's `record` rules (the layout of each record on its own: attribute
/// types and formats, reserved attributes on the wrong record), run on each item as it
/// streams past and then forgotten: they need no other record, so memory holds only their
/// findings. With the SQL checks, they give every finding the in-process checker gives.
#[derive(Default)]
struct LayoutPass {
    checker: super::read::Checker,
}

impl LayoutPass {
    /// Checks one item's layout.
    fn see(&mut self, item: &Item) {
        let kept = self.checker.out.len();
        self.checker
            .record(item, &mut super::records::Table::default());
        // Only this item's findings are new; the kept ones are not looked at again.
        let mut new = self.checker.out.split_off(kept);
        new.retain(|f| f.invariant == "record");
        self.checker.out.append(&mut new);
    }

    /// The SQL findings with the layout findings, in the order [`Scratch::run`] gives.
    fn joined(self, mut findings: Vec<Finding>) -> Vec<Finding> {
        findings.extend(self.checker.out);
        sort_findings(&mut findings);
        findings
    }
}

/// Findings in key order (then kind, invariant, message), as the in-process checker gives.
fn sort_findings(out: &mut [Finding]) {
    out.sort_by(|a, b| {
        (&a.key, a.kind, a.invariant, &a.message).cmp(&(&b.key, b.kind, b.invariant, &b.message))
    });
}

/// [`super::audit_export`] in SQL: the export under `dir` (see [`super::read_export`]) is
/// streamed line by line into the scratch database, then checked. [`super::repair()`] applies
/// its fixes to the live table, as it does those of [`super::audit_export`].
pub fn audit_export_sql(dir: &Path) -> Result<Audit> {
    audit_export_sql_with(dir, None)
}

/// Records between two progress reports while an export loads.
const REPORT_EVERY: u64 = 10_000;

/// [`audit_export_sql`], reporting progress to `progress`: the records loaded so far
/// ([`AuditPhase::Scanning`], every 10,000 and once at the end), then
/// [`AuditPhase::Checking`] once.
pub fn audit_export_sql_with(dir: &Path, progress: Option<AuditProgress>) -> Result<Audit> {
    let mut db = Scratch::create()?;
    let mut layout = LayoutPass::default();
    let mut records = 0u64;
    db.load(|put| {
        let mut loaded = 0u64;
        records = super::export::visit_export(dir, &mut |line, item| {
            layout.see(&item);
            loaded += 1;
            if loaded.is_multiple_of(REPORT_EVERY)
                && let Some(report) = &progress
            {
                report(AuditPhase::Scanning, loaded);
            }
            put(line)
        })?;
        Ok(())
    })?;
    if let Some(report) = &progress {
        report(AuditPhase::Scanning, records);
        report(AuditPhase::Checking, records);
    }
    Ok(Audit {
        records: usize::try_from(records).unwrap_or(usize::MAX),
        findings: findings(&db, layout, progress.as_ref())?,
        segments: 0,
        bounded: true,
    })
}

/// [`super::audit`] in SQL: the live table, read with a strongly consistent parallel Scan of
/// `segments` segments (at most 32 at once), each page written to the scratch database as it
/// arrives (memory holds the pages in flight, not the table), then checked. Its findings and
/// their fixes are those of [`super::audit`].
pub async fn audit_sql(store: &Store, segments: u32) -> Result<Audit> {
    audit_sql_with(store, segments, None).await
}

/// [`audit_sql`], reporting progress to `progress`: the records read after every page of
/// the scan ([`AuditPhase::Scanning`]), then [`AuditPhase::Checking`] once.
pub async fn audit_sql_with(
    store: &Store,
    segments: u32,
    progress: Option<AuditProgress>,
) -> Result<Audit> {
    let segments = segments.clamp(1, 1_000_000);
    let concurrency = usize::try_from(segments).unwrap_or(usize::MAX).min(32);
    let mut pages = stream::iter(0..segments)
        .map(|segment| {
            let pager = store.pages(Source::Scan {
                segment,
                total: segments,
                filter: None,
            });
            // One segment's pages, ending after its last page or its first error.
            stream::unfold(Some(pager), |pager| async move {
                let mut pager = pager?;
                match pager.next().await {
                    Ok(Some(items)) => Some((Ok(items), Some(pager))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            })
            .boxed()
        })
        .flatten_unordered(concurrency);
    let mut db = Scratch::create()?;
    let mut layout = LayoutPass::default();
    let mut records = 0usize;
    while let Some(page) = pages.next().await {
        let items = page?;
        records += items.len();
        db.load(|put| {
            for item in &items {
                layout.see(item);
                put(&export_line(item))?;
            }
            Ok(())
        })?;
        if let Some(report) = &progress {
            report(AuditPhase::Scanning, records as u64);
        }
    }
    drop(pages);
    if let Some(report) = &progress {
        report(AuditPhase::Checking, records as u64);
    }
    Ok(Audit {
        records,
        findings: findings(&db, layout, progress.as_ref())?,
        segments,
        bounded: true,
    })
}

/// The findings of a loaded scratch database: the SQL checks' and the layout pass's, those at
/// the records the checks report rechecked on their neighbourhoods, with their fixes
/// ([`plan`]), reporting [`AuditPhase::Planning`] as they are.
fn findings(
    db: &Scratch,
    layout: LayoutPass,
    progress: Option<&AuditProgress>,
) -> Result<Vec<Finding>> {
    let found = layout.joined(db.run()?);
    plan::plan(db, found, &mut |n| {
        if let Some(report) = progress {
            report(AuditPhase::Planning, n);
        }
    })
}

/// An item as one line of a DynamoDB export.
fn export_line(item: &Item) -> String {
    serde_json::json!({ "Item": to_dynamodb_json(item) }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_views_for_every_view_name_and_the_script_holds_every_check() {
        for engine in SqlEngine::ALL {
            for view in VIEWS {
                assert!(engine.views().contains(view), "{engine:?} lacks {view}");
            }
            let s = script(engine);
            for (name, _) in CHECKS {
                assert!(s.contains(name), "{engine:?}: {name}");
            }
            assert_eq!(SqlEngine::parse(engine.as_str()), Some(engine));
        }
    }

    #[test]
    fn an_empty_table_has_no_findings() {
        assert_eq!(check_items_sql(&[]).unwrap(), Vec::new());
    }
}
