//! The scratch database of the SQL checks: a temporary SQLite file holding one export line
//! per row, the materialized views, and the runner of the check files.

use std::path::PathBuf;

use rusqlite::Connection;

use super::{CHECKS, INDEXES, INVARIANTS, SqlEngine, VIEWS, sort_findings};
use crate::error::{Error, Result};
use crate::integrity::{Finding, FindingKind};

pub(super) fn sql_error(what: impl Into<String>, e: impl std::fmt::Display) -> Error {
    Error::SqlCheck {
        what: what.into(),
        reason: e.to_string(),
    }
}

/// The scratch database: a temporary file, removed on drop.
pub(super) struct Scratch {
    conn: Option<Connection>,
    path: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop(self.conn.take());
        // Best effort: a file left behind in the temporary directory harms nothing.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Scratch {
    pub(super) fn create() -> Result<Scratch> {
        let path = std::env::temp_dir().join(format!(
            "ddbrel-check-{}.sqlite",
            uuid::Uuid::now_v7().simple()
        ));
        let at = |e: rusqlite::Error| sql_error(format!("the database {}", path.display()), e);
        let conn = Connection::open(&path).map_err(at)?;
        let scratch = Scratch {
            conn: Some(conn),
            path: path.clone(),
        };
        // A scratch file: no journal, no fsync; temporary tables on disk too.
        scratch
            .conn()?
            .execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
                 CREATE TABLE ddbrel_export (line TEXT NOT NULL);",
            )
            .map_err(at)?;
        Ok(scratch)
    }

    pub(super) fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| sql_error("the database", "already closed"))
    }

    /// Loads export lines in one transaction: `fill` calls the function it is given once per
    /// line.
    pub(super) fn load(
        &mut self,
        fill: impl FnOnce(&mut dyn FnMut(&str) -> Result<()>) -> Result<()>,
    ) -> Result<()> {
        let at = |e: rusqlite::Error| sql_error("loading the items", e);
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| sql_error("the database", "already closed"))?;
        let tx = conn.transaction().map_err(at)?;
        {
            let mut insert = tx
                .prepare("INSERT INTO ddbrel_export (line) VALUES (?1)")
                .map_err(at)?;
            fill(&mut |line: &str| insert.execute([line]).map(|_| ()).map_err(at))?;
        }
        tx.commit().map_err(at)
    }

    /// Creates the views, materializes them, runs every check; the findings in key order.
    pub(super) fn run(&self) -> Result<Vec<Finding>> {
        let conn = self.conn()?;
        conn.execute_batch(SqlEngine::Sqlite.views())
            .map_err(|e| sql_error("specs/checks/views/sqlite.sql", e))?;
        // Each view becomes an indexed table of the same name in the temporary schema, which
        // SQLite resolves before the main one: the checks read the tables.
        for view in VIEWS {
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE {view} AS SELECT * FROM main.{view};"
            ))
            .map_err(|e| sql_error(format!("materializing the view {view}"), e))?;
        }
        for (i, (table, columns)) in INDEXES.iter().enumerate() {
            conn.execute_batch(&format!(
                "CREATE INDEX temp.ddbrel_ix{i} ON {table} ({columns});"
            ))
            .map_err(|e| sql_error(format!("indexing {table}"), e))?;
        }
        // Statistics for the planner: without them an older SQLite can pick a nested scan for
        // the joins of the checks (seconds become hours on a large table).
        conn.execute_batch("ANALYZE temp;")
            .map_err(|e| sql_error("analyzing the materialized views", e))?;
        let mut out = Vec::new();
        for (name, sql) in CHECKS {
            run_check(conn, name, sql, &mut out)?;
        }
        sort_findings(&mut out);
        Ok(out)
    }
}

/// Runs one check file, adding its rows to `out` as findings.
fn run_check(conn: &Connection, name: &str, sql: &str, out: &mut Vec<Finding>) -> Result<()> {
    let what = || format!("specs/checks/{name}");
    let mut stmt = conn.prepare(sql).map_err(|e| sql_error(what(), e))?;
    let mut rows = stmt.query([]).map_err(|e| sql_error(what(), e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error(what(), e))? {
        let text = |i: usize| -> Result<String> {
            row.get::<_, Option<String>>(i)
                .map_err(|e| sql_error(what(), format!("column {i}: {e}")))
                .map(Option::unwrap_or_default)
        };
        let (kind, invariant, key) = (text(0)?, text(1)?, text(2)?);
        let detail = if row.as_ref().column_count() > 3 {
            text(3)?
        } else {
            String::new()
        };
        out.push(finding(&kind, &invariant, key, detail).map_err(|r| sql_error(what(), r))?);
    }
    Ok(())
}

/// A finding from one row of a check; `Err` says why the row is not one.
fn finding(
    kind: &str,
    invariant: &str,
    key: String,
    message: String,
) -> std::result::Result<Finding, String> {
    let kind = FindingKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .ok_or_else(|| format!("a row of unknown kind {kind:?}"))?;
    let invariant = INVARIANTS
        .into_iter()
        .find(|i| *i == invariant)
        .ok_or_else(|| format!("a row of unknown invariant {invariant:?}"))?;
    if key.is_empty() {
        return Err("a row without a key".into());
    }
    Ok(Finding {
        kind,
        invariant,
        key,
        message,
        actions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_that_is_not_a_finding_is_refused() {
        assert!(finding("schema", "I7", "k".into(), String::new()).is_ok());
        assert!(finding("nonsense", "I7", "k".into(), String::new()).is_err());
        assert!(finding("schema", "I99", "k".into(), String::new()).is_err());
        assert!(finding("schema", "I7", String::new(), String::new()).is_err());
    }
}
