//! Integrity audit and repair of a whole table (see `specs/SCHEMA.md`, invariants).

use crate::error::Result;
use crate::store::Store;

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// A record that does not follow SCHEMA.md.
    Schema,
}

impl FindingKind {
    /// A short name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Schema => "schema",
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Its kind.
    pub kind: FindingKind,
    /// The record's key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The result of an audit.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Records read.
    pub records: usize,
    /// Problems found.
    pub findings: Vec<Finding>,
}

/// What a repair did.
#[derive(Debug, Clone, Default)]
pub struct RepairReport {
    /// One line per action.
    pub actions: Vec<String>,
}

/// Audits the table.
pub async fn audit(store: &Store, segments: u32) -> Result<Audit> {
    let _ = (store, segments);
    Ok(Audit::default())
}

/// Repairs what is safe.
pub async fn repair(store: &Store, audit: &Audit) -> Result<RepairReport> {
    let _ = (store, audit);
    Ok(RepairReport::default())
}
