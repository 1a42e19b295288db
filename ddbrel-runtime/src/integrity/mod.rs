//! Integrity audit and repair of a whole table against `specs/SCHEMA.md` (the record layouts of
//! sections 4 and 5, the fence of section 7, the invariants of section 9).
//!
//! [`audit`] reads every item with a strongly consistent parallel Scan and hands them to
//! [`check_items`], which is pure: it knows nothing of the Rust entity types and works from the
//! reserved attributes alone, as the contract says an integrity check must. [`repair`] then
//! fixes what is safe to fix automatically, every write conditioned on the state the audit read,
//! and says what it did. [`audit`] holds the table in memory; [`sql::audit_sql`] (and
//! [`sql::audit_export_sql`] for a snapshot) give the same findings with the same fixes in
//! memory that does not grow with the table, and are what `ddbrel check` runs.
//!
//! # What is checked, per record type
//!
//! - **Every record** has `PK` and `SK` (non-empty S), a known `_type`, `_schemaVersion` (an N
//!   of at least 1; exactly 1 for relationship and marker records) and `_createdAt` in the
//!   `YYYY-MM-DDTHH:MM:SS.mmmZ` form. Index key attributes (`GSI1PK`, `GSI1SK`, `_accountUrn`)
//!   are never NULL or empty (I7), and no record carries a reserved attribute (`_…`) its type
//!   does not define.
//! - **Resource**: `PK = SK` = a URN whose type is `_resourceType`, `_version >= 1`,
//!   `_createdAt <= _updatedAt` (I8); no `GSI1PK`/`GSI1SK` (I7); `_parentUrn` and `_ancestors`
//!   both present or both absent, `_ancestors` ending with the parent and equal to the parent's
//!   `_ancestors` followed by the parent (I3); the parent exists and has exactly one
//!   ParentChildRelationship record for it (I2); `_accountUrn` equal to the parent's
//!   `_accountUrn`, or to the parent's URN when the parent has none, and only on resources
//!   with a parent (I5); every key of `_uniqueKeys` is a marker owned by the resource (I4);
//!   `_memberOf` is exactly the set of collections with a membership record for it and
//!   `_conveyingCollections` exactly those whose record conveys authorization (I6);
//!   `_childCount` and `_memberCount` (absent = 0) are at least the number of `child#` and
//!   `member#` records in its partition, and equal to it outside fenced subtrees. Resources of
//!   one `_resourceType` agree on having a parent and on having `_accountUrn` (a type declares
//!   these once; which types its parents are is checked against the registry, since a type may
//!   declare several). A resource carrying `_deleting` with no fenced
//!   ancestor is reported as an unfinished cascade; fences beneath it are that cascade's
//!   internal nodes (contract 2) and are not reported again.
//! - **ParentChildRelationship** and **CollectionMembershipRelationship**: keys, `GSI1PK`,
//!   `GSI1SK` and the URN attributes agree with each other as sections 5.2 and 5.3 lay them
//!   out; `_conveysAuthorization` is a BOOL; both ends are Resource records (I1); the child
//!   names the record's parent as its `_parentUrn` (I2). No `_accountUrn` (I5).
//! - **UniqueKeyValue**: `PK = SK` = a well-formed marker key of at most 1024 bytes whose
//!   resource type is the owner's and whose scope is `global`, the owner's `_accountUrn` or the
//!   owner's `_parentUrn`; `_constraint` = `{resourceType}.{constraint}` of the key; the owner
//!   exists and lists the key in `_uniqueKeys` (I4). No GSI keys (I7), no `_accountUrn` (I5).
//! - **EntitySchema** (the type registry): decodes, and sits at `PK = schema`, `SK =
//!   type#{domain}#{resourceType}` of the type it describes; no GSI keys (I7), no
//!   `_accountUrn` (I5). The resources of a registered type have a parent of one of the
//!   registered parent types or none for a root (I2), `_accountUrn` exactly when it is
//!   registered account-scoped (I5), and a `_schemaVersion` no newer than registered (I10).
//!
//! # The fence exemption
//!
//! While a cascading delete is under way, its root and the internal nodes it has reached carry
//! `_deleting`. A contract-2 sweep deletes every record with its count, but a contract-1
//! sweep removed markers, memberships, resources and their parent-child records in an order
//! that left dangling references behind for a while (SCHEMA.md section 9: I1, I2, I4 and I6 may be
//! broken inside the subtree until the cascade completes). A resource is **in a fenced
//! subtree** when it carries `_deleting` or one of its `_ancestors` does; a relationship record
//! is in it when its parent (collection) is, judged for a parent-child record whose parent is
//! already gone by the child's `_ancestors`. For those, and only those, the checker does not
//! report:
//!
//! - a relationship record with a missing end (I1);
//! - a resource's missing parent, or missing ParentChildRelationship record (I2);
//! - a key in `_uniqueKeys` without a marker owned by the resource (I4);
//! - a `_memberOf`/`_conveyingCollections` that disagrees with the membership records (I6);
//! - a `_childCount`/`_memberCount` above the number of records (a count below it is always
//!   reported: the sweep only ever removes records).
//!
//! Everything else holds inside a fenced subtree as well and is checked there too: the layout
//! of every record, I3, I5, I7, I8, a marker whose owner is missing or does not list it (the
//! sweep deletes markers before their owners), a membership record whose collection is outside
//! the subtree (the sweep removes crossing memberships together with their outside end), and
//! the counts of resources outside the subtree (decremented in the same transaction as the
//! records they count). The fence itself is reported once, as
//! [`FindingKind::UnfinishedCascade`] on the cascade root: it is a legal state, but one that
//! somebody has to finish (running the delete again, or [`repair`]).
//!
//! # What repair does
//!
//! In this order, each step one small transaction per fix, conditioned so that a concurrent
//! writer is never overwritten (a fix whose condition fails is skipped and reported):
//!
//! 1. Finishes every unfinished cascade ([`Store::delete_urn`] on each outermost `_deleting`
//!    resource, outer roots first), then audits again, since the cascades changed the table.
//! 2. Deletes relationship records with a missing end: with the existing end's count
//!    (`_childCount`, `_memberCount`) decremented, or the collection removed from the existing
//!    member's `_memberOf`/`_conveyingCollections`, in the same transaction. A parent-child
//!    record whose parent is gone while its child still exists and names that parent is **not**
//!    deleted: the child is an orphan, and deleting user data is not a safe automatic fix.
//! 3. Deletes dangling markers (owner missing, or not listing the key), conditioned on
//!    `_ownerUrn` still being the owner read and the owner still not listing it. When exactly
//!    one resource lists such a marker's key, the marker is handed to that resource instead;
//!    a marker that a resource lists but that does not exist is re-created for it.
//! 4. Sets `_memberOf`/`_conveyingCollections` from the membership records, one collection at
//!    a time, each conditioned on the record being as read.
//! 5. Sets `_childCount`/`_memberCount` to the number of records, conditioned on the value
//!    read, and only for resources with nothing fenced at or above or beneath them.
//!
//! Left for a person (reported, never written): an orphaned child (its parent is gone), a
//! resource missing its parent relationship while the parent exists, a marker value claimed by
//! more than one resource, account mismatches, wrong `_ancestors`, and records that do not
//! follow the layout of SCHEMA.md.
//!
//! # Where the code is
//!
//! - `mod.rs`: the public API ([`audit`], [`check_items`], [`repair`], [`Audit`],
//!   [`Finding`], [`FindingKind`], [`RepairReport`]).
//! - `scan.rs`: the parallel, strongly consistent Scan of [`audit`].
//! - `records.rs`: the records as parsed (`Table`: resources, parent-child records,
//!   memberships, markers) and small helpers.
//! - `read.rs`: the checker and its attribute readers (each reports what is wrong).
//! - `parse.rs`: pass 1, each record on its own (sections 4 to 6, I7, I8, and the parts of
//!   I2, I3, I5 a record can check alone).
//! - `cross.rs`: pass 2, the lookups the rules share and the order they run in; one file per
//!   invariant group:
//!   - `fence.rs`: the deletion fence of section 7 and the unfinished cascade;
//!   - `tree.rs`: I1 and I2 for parent-child records, I2 and I3 for resources;
//!   - `accounts.rs`: I5 against the parent and the ancestors;
//!   - `markers.rs`: I4, uniqueness markers and their owners;
//!   - `members.rs`: I1 for membership records, I6 for the membership sets;
//!   - `counts.rs`: I9, `_childCount` and `_memberCount`;
//!   - `types.rs`: resources of one type agree on their declaration (I2, I5).
//! - `repair.rs`: the repair actions, one function each; `fix.rs`: the conditioned
//!   transaction they are built with.
//! - [`sql`]: the same invariants as SQL (`specs/checks/`), run on an embedded SQLite
//!   database on disk, and published for Athena/Trino and Spark SQL over DynamoDB exports;
//!   `sql/plan.rs` reruns the rules above on the neighbourhood of each record the SQL reports,
//!   so the SQL audit plans the same fixes in bounded memory.

mod accounts;
mod counts;
mod cross;
mod export;
mod fence;
mod fix;
mod markers;
mod members;
mod parse;
mod read;
mod records;
mod registry;
mod repair;
mod scan;
pub mod sql;
mod tree;
mod types;

use std::collections::BTreeSet;
use std::fmt;

use crate::Item;
use crate::error::{Error, Result};
use crate::schema::{PK, SK};
use crate::wire::store::Store;

use read::Checker;
use records::{Table, text};
use repair::{Action, Applied, apply};
use scan::scan;

// =============================================================================================
// Public types.

/// What kind of problem a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A ParentChildRelationship or CollectionMembershipRelationship record one of whose ends
    /// does not exist (I1).
    OrphanedRelationship,
    /// A resource of a child type without its parent or its ParentChildRelationship record, or
    /// a parent link that disagrees with the records or with the type's other resources (I2).
    ParentRelationship,
    /// `_ancestors` that is not the parent's `_ancestors` followed by the parent (I3).
    Ancestors,
    /// A uniqueness marker whose owner is missing or does not list it in `_uniqueKeys` (I4).
    DanglingMarker,
    /// A resource listing a marker key in `_uniqueKeys` that has no marker it owns (I4).
    MissingMarker,
    /// A marker value claimed by more than one resource (I4).
    ContestedMarker,
    /// A resource carrying `_deleting`: a cascading delete that has not finished (section 7).
    UnfinishedCascade,
    /// A record that does not follow SCHEMA.md: missing or mistyped attributes, bad formats,
    /// reserved attributes on the wrong record, index keys out of place (sections 4 and 5, I7,
    /// I8, the marker key encoding of section 6).
    Schema,
    /// `_accountUrn` that is not the resource's account, or on a record that must not have it
    /// (I5).
    AccountMismatch,
    /// `_memberOf`/`_conveyingCollections` that disagree with the membership records (I6).
    MembershipMismatch,
    /// `_childCount`/`_memberCount` that disagree with the `child#`/`member#` records.
    CountMismatch,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: [FindingKind; 11] = [
        FindingKind::OrphanedRelationship,
        FindingKind::ParentRelationship,
        FindingKind::Ancestors,
        FindingKind::DanglingMarker,
        FindingKind::MissingMarker,
        FindingKind::ContestedMarker,
        FindingKind::UnfinishedCascade,
        FindingKind::Schema,
        FindingKind::AccountMismatch,
        FindingKind::MembershipMismatch,
        FindingKind::CountMismatch,
    ];

    /// A short, stable, kebab-case name (for output and scripts).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::OrphanedRelationship => "orphaned-relationship",
            FindingKind::ParentRelationship => "parent-relationship",
            FindingKind::Ancestors => "ancestors",
            FindingKind::DanglingMarker => "dangling-marker",
            FindingKind::MissingMarker => "missing-marker",
            FindingKind::ContestedMarker => "contested-marker",
            FindingKind::UnfinishedCascade => "unfinished-cascade",
            FindingKind::Schema => "schema",
            FindingKind::AccountMismatch => "account-mismatch",
            FindingKind::MembershipMismatch => "membership-mismatch",
            FindingKind::CountMismatch => "count-mismatch",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem it is.
    pub kind: FindingKind,
    /// The rule broken: `I1` … `I8` of SCHEMA.md section 9, `record` for the common layout of
    /// sections 4 and 5 (attributes, types, formats), `counts` for `_childCount` and
    /// `_memberCount`, `fence` for an unfinished cascade.
    pub invariant: &'static str,
    /// The record at fault: `PK`, or `PK / SK` when they differ (for a rule about a whole
    /// resource type: `type {resourceType}`).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What [`repair`] would do about it; empty when it is not safe to repair automatically.
    actions: Vec<Action>,
}

impl Finding {
    /// Whether [`repair`] has a safe fix for this finding.
    pub fn repairable(&self) -> bool {
        !self.actions.is_empty()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.invariant, self.key, self.message)
    }
}

/// The result of an [`audit`].
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Records read.
    pub records: usize,
    /// Problems found, in key order.
    pub findings: Vec<Finding>,
    /// Scan segments used, for the second audit [`repair`] runs after finishing cascades.
    segments: u32,
    /// Whether the SQL checks ran it ([`sql`]), in bounded memory: [`repair`]'s second audit
    /// does too.
    bounded: bool,
}

impl Audit {
    /// The audit of items read by other means (an export, a snapshot, a hand-picked set):
    /// [`check_items`] over them. [`repair`] takes it like one from [`audit`].
    pub fn of_items(items: &[Item]) -> Audit {
        Audit {
            records: items.len(),
            findings: check_items(items),
            segments: 1,
            bounded: false,
        }
    }

    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What a [`repair`] did.
#[derive(Debug, Clone, Default)]
pub struct RepairReport {
    /// One line per fix applied.
    pub actions: Vec<String>,
    /// One line per fix not applied: its condition failed (the table changed since the audit)
    /// or the request failed.
    pub skipped: Vec<String>,
    /// The findings that have no safe automatic fix, left for a person.
    pub unrepairable: Vec<Finding>,
}

// =============================================================================================
// Audit.

pub use export::{ExportWritten, read_export, write_export};

/// Audits a DynamoDB export (a point-in-time snapshot; see [`read_export`]) instead of the
/// live table: no write can race it. `segments` of the result is 0. Repairs planned from it
/// are applied to the live table by [`repair`], each conditioned on the live item as the
/// repair reads it.
pub fn audit_export(dir: &std::path::Path) -> Result<Audit> {
    let items = read_export(dir)?;
    Ok(Audit {
        records: items.len(),
        findings: check_items(&items),
        segments: 0,
        bounded: false,
    })
}

/// Audits the whole table: a parallel Scan with `segments` segments (at least 1; at most
/// DynamoDB's 1,000,000), strongly consistent, every page, then [`check_items`]. The items are
/// held in memory while they are checked.
pub async fn audit(store: &Store, segments: u32) -> Result<Audit> {
    audit_with(store, segments, None).await
}

/// What an audit is doing, for [`AuditProgress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPhase {
    /// Reading the table; the count is the records read so far.
    Scanning,
    /// Checking what was read; the count is the records being checked.
    Checking,
    /// Planning the fixes of the SQL checks' findings ([`sql`]): the count is the records
    /// whose neighbourhoods were rechecked so far.
    Planning,
}

/// Progress callback of an audit: the phase and its count. Called after every page of the
/// scan and once when the check begins.
pub type AuditProgress = std::sync::Arc<dyn Fn(AuditPhase, u64) + Send + Sync>;

/// [`audit`], reporting progress to `progress`.
pub async fn audit_with(
    store: &Store,
    segments: u32,
    progress: Option<AuditProgress>,
) -> Result<Audit> {
    let segments = segments.clamp(1, 1_000_000);
    let items = scan(store, segments, progress.as_ref()).await?;
    if let Some(p) = &progress {
        p(AuditPhase::Checking, items.len() as u64);
    }
    Ok(Audit {
        records: items.len(),
        findings: check_items(&items),
        segments,
        bounded: false,
    })
}

/// Checks a set of raw items (a whole table) and returns every finding, in key order. Pure:
/// reads nothing and never panics on what the items hold.
pub fn check_items(items: &[Item]) -> Vec<Finding> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|i| (text(i, PK), text(i, SK)));
    let mut c = Checker::default();
    let mut table = Table::default();
    for item in sorted {
        c.record(item, &mut table);
    }
    c.cross_check(&table);
    let mut out = c.out;
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

// =============================================================================================
// Repair.

/// Repairs what is safe to repair among the findings of `audit` (see the module docs for what
/// and in which order), and says what it did. Every fix is conditioned on the state the audit
/// read: a fix whose condition fails (the table changed meanwhile) is skipped and reported,
/// never forced. Run [`audit`] again afterwards to see what is left.
///
/// Errors: only a failed re-audit after finishing cascades; a failed fix is reported in
/// [`RepairReport::skipped`] and the others still run.
pub async fn repair(store: &Store, audit_before: &Audit) -> Result<RepairReport> {
    let mut report = RepairReport::default();

    // 1. Unfinished cascades; the table is then audited again.
    let roots: BTreeSet<&Action> = audit_before
        .findings
        .iter()
        .flat_map(|f| &f.actions)
        .filter(|a| matches!(a, Action::FinishCascade { .. }))
        .collect();
    let fresh;
    let findings: &[Finding] = if roots.is_empty() {
        &audit_before.findings
    } else {
        for action in roots {
            let Action::FinishCascade { root, .. } = action else {
                continue;
            };
            match store.delete_urn(root).await {
                Ok(r) => report.actions.push(format!(
                    "finished the cascading delete of {root} ({} records deleted)",
                    r.record_count()
                )),
                Err(Error::NotFound { .. }) => report.actions.push(format!(
                    "the cascading delete of {root} had finished already"
                )),
                Err(e) => report
                    .skipped
                    .push(format!("skipped: {}: {e}", action.describe())),
            }
        }
        let segments = audit_before.segments.max(1);
        fresh = if audit_before.bounded {
            sql::audit_sql(store, segments).await?
        } else {
            audit(store, segments).await?
        };
        &fresh.findings
    };

    // 2-5. The rest, each fix once, in the order of `Action`.
    let planned: BTreeSet<&Action> = findings
        .iter()
        .flat_map(|f| &f.actions)
        .filter(|a| !matches!(a, Action::FinishCascade { .. }))
        .collect();
    let mut applied = Applied::new();
    for action in planned {
        match apply(store, action, &mut applied).await {
            Ok(Ok(line)) => report.actions.push(line),
            Ok(Err(why)) => report
                .skipped
                .push(format!("skipped: {}: {why}", action.describe())),
            Err(e) => report
                .skipped
                .push(format!("failed: {}: {e}", action.describe())),
        }
    }
    report.unrepairable = findings
        .iter()
        .filter(|f| !f.repairable())
        .cloned()
        .collect();
    Ok(report)
}
