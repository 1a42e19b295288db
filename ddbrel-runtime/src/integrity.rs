//! Integrity audit and repair of a whole table against `specs/SCHEMA.md` (the record layouts of
//! sections 4 and 5, the fence of section 7, the invariants of section 9).
//!
//! [`audit`] reads every item with a strongly consistent parallel Scan and hands them to
//! [`check_items`], which is pure: it knows nothing of the Rust entity types and works from the
//! reserved attributes alone, as the contract says an integrity check must. [`repair`] then
//! fixes what is safe to fix automatically, every write conditioned on the state the audit read,
//! and says what it did.
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
//!   one `_resourceType` agree on having a parent, on their parent's type and on having
//!   `_accountUrn` (a type declares these once). A resource carrying `_deleting` is reported as
//!   an unfinished cascade.
//! - **ParentChildRelationship** and **CollectionMembershipRelationship**: keys, `GSI1PK`,
//!   `GSI1SK` and the URN attributes agree with each other as sections 5.2 and 5.3 lay them
//!   out; `_conveysAuthorization` is a BOOL; both ends are Resource records (I1); the child
//!   names the record's parent as its `_parentUrn` (I2). No `_accountUrn` (I5).
//! - **UniqueKeyValue**: `PK = SK` = a well-formed marker key of at most 1024 bytes whose
//!   resource type is the owner's and whose scope is `global`, the owner's `_accountUrn` or the
//!   owner's `_parentUrn`; `_constraint` = `{resourceType}.{constraint}` of the key; the owner
//!   exists and lists the key in `_uniqueKeys` (I4). No GSI keys (I7), no `_accountUrn` (I5).
//!
//! # The fence exemption
//!
//! While a cascading delete is under way, its root carries `_deleting`, and the sweep removes
//! markers, memberships, resources and their parent-child records in an order that leaves
//! dangling references behind for a while (SCHEMA.md section 9: I1, I2, I4 and I6 may be
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
//! 1. Finishes every unfinished cascade ([`Store::delete_urn`] on each `_deleting` root, outer
//!    roots first), then audits again, since the cascades changed the table.
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::codec::{key_of, n, s};
use crate::error::{Error, Result};
use crate::schema::{
    CHILD_PREFIX, COLLECTION_PREFIX, GSI1PK, GSI1SK, MEMBER_PREFIX, PARENT_PREFIX, PK,
    RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, UNIQUE_PREFIX, attr,
};
use crate::store::{Store, names};
use crate::tx::{Tx, TxOutcome};
use crate::unique::MAX_MARKER_KEY_BYTES;
use crate::urn::AnyUrn;

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
}

impl Audit {
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

/// Audits the whole table: a parallel Scan with `segments` segments (at least 1; at most
/// DynamoDB's 1,000,000), strongly consistent, every page, then [`check_items`]. The items are
/// held in memory while they are checked.
pub async fn audit(store: &Store, segments: u32) -> Result<Audit> {
    let segments = segments.clamp(1, 1_000_000);
    let items = scan(store, segments).await?;
    Ok(Audit {
        records: items.len(),
        findings: check_items(&items),
        segments,
    })
}

async fn scan(store: &Store, segments: u32) -> Result<Vec<Item>> {
    let concurrency = usize::try_from(segments).unwrap_or(usize::MAX).min(32);
    let parts: Vec<Vec<Item>> = stream::iter(0..segments)
        .map(|segment| scan_segment(store, segment, segments))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

async fn scan_segment(store: &Store, segment: u32, total: u32) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let mut req = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start);
        if total > 1 {
            // Both fit an i32: `audit` clamps `total` to 1,000,000.
            req = req
                .segment(i32::try_from(segment).unwrap_or(i32::MAX))
                .total_segments(i32::try_from(total).unwrap_or(i32::MAX));
        }
        let page = req
            .send()
            .await
            .map_err(|e| store.map_sdk_error("Scan", e))?;
        out.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
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
// Repair actions.

/// A fix, planned by the checker from what it read. The variants are declared in the order
/// [`repair`] applies them (the derived `Ord` sorts by variant first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Action {
    /// Resume the cascade rooted here (outer roots first: fewer ancestors sort first).
    FinishCascade { depth: usize, root: AnyUrn },
    /// Delete a parent-child record whose child is missing, or names another parent.
    DeleteParentChild {
        parent: AnyUrn,
        child: AnyUrn,
        parent_exists: bool,
        child_exists: bool,
    },
    /// Delete a membership record with at least one end missing.
    DeleteMembership {
        collection: AnyUrn,
        member: AnyUrn,
        collection_exists: bool,
        member_exists: bool,
    },
    /// Delete a marker nobody holds.
    DeleteMarker { key: String, owner: AnyUrn },
    /// Hand a marker its owner does not hold to the one resource that lists it.
    TransferMarker {
        key: String,
        from: AnyUrn,
        to: AnyUrn,
    },
    /// Re-create a marker its owner lists.
    RestoreMarker {
        key: String,
        owner: AnyUrn,
        constraint: String,
    },
    /// Make the member's sets agree with the record for one collection: `record` is the
    /// record's `_conveysAuthorization`, `None` when there is no record.
    FixMembership {
        member: AnyUrn,
        collection: AnyUrn,
        record: Option<bool>,
    },
    /// Set a count to the number of records. `read`: the value read, `None` when absent.
    SetCount {
        urn: AnyUrn,
        attribute: &'static str,
        read: Option<i128>,
        counted: i128,
    },
}

impl Action {
    fn describe(&self) -> String {
        match self {
            Action::FinishCascade { root, .. } => format!("finish the cascading delete of {root}"),
            Action::DeleteParentChild { parent, child, .. } => {
                format!("delete ParentChildRelationship {parent} / {CHILD_PREFIX}{child}")
            }
            Action::DeleteMembership {
                collection, member, ..
            } => format!(
                "delete CollectionMembershipRelationship {collection} / {MEMBER_PREFIX}{member}"
            ),
            Action::DeleteMarker { key, .. } => format!("delete uniqueness marker {key}"),
            Action::TransferMarker { key, to, .. } => {
                format!("give uniqueness marker {key} to {to}")
            }
            Action::RestoreMarker { key, owner, .. } => {
                format!("re-create uniqueness marker {key} for {owner}")
            }
            Action::FixMembership {
                member, collection, ..
            } => format!("fix {collection} in the membership sets of {member}"),
            Action::SetCount { urn, attribute, .. } => format!("set {attribute} of {urn}"),
        }
    }
}

/// Decrements applied during one repair run, by (resource, count attribute), so that a later
/// count fix aims at the right values.
type Applied = HashMap<(AnyUrn, &'static str), i128>;

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
        fresh = audit(store, audit_before.segments.max(1)).await?;
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

/// Sends a transaction; `Ok(Err(why))` when it was cancelled, `why` naming the conditions that
/// failed (`labels[i]` for action `i`).
async fn send(
    store: &Store,
    tx: Tx,
    urn: &str,
    labels: &[&str],
) -> Result<std::result::Result<(), String>> {
    match tx.send(store, urn).await? {
        TxOutcome::Applied => Ok(Ok(())),
        TxOutcome::Cancelled(reasons) => {
            let why: Vec<&str> = reasons
                .iter()
                .enumerate()
                .filter(|(_, r)| r.condition_failed())
                .map(|(i, _)| labels.get(i).copied().unwrap_or("a condition failed"))
                .collect();
            Ok(Err(if why.is_empty() {
                "the transaction was cancelled".to_string()
            } else {
                format!("changed since the audit: {}", why.join("; "))
            }))
        }
    }
}

fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Applies one fix. `Ok(Ok(line))`: done, `line` says what; `Ok(Err(why))`: skipped.
async fn apply(
    store: &Store,
    action: &Action,
    applied: &mut Applied,
) -> Result<std::result::Result<String, String>> {
    let mut tx = Tx::new();
    match action {
        Action::FinishCascade { root, .. } => Ok(Err(format!(
            "cascades are finished before anything else; {root} was not"
        ))),

        Action::DeleteParentChild {
            parent,
            child,
            parent_exists,
            child_exists,
        } => {
            let sk = format!("{CHILD_PREFIX}{child}");
            let mut labels = vec!["the record is gone"];
            tx.delete(
                store,
                parent.as_str(),
                &sk,
                Some("attribute_exists(#pk)"),
                Some(names(&[("#pk", PK)])),
                None,
            )?;
            if *child_exists {
                tx.check(
                    store,
                    child.as_str(),
                    child.as_str(),
                    "attribute_exists(#pk) AND (attribute_not_exists(#p) OR #p <> :parent) AND NOT contains(#anc, :parent)",
                    Some(names(&[
                        ("#pk", PK),
                        ("#p", attr::PARENT_URN),
                        ("#anc", attr::ANCESTORS),
                    ])),
                    Some(values(&[(":parent", s(parent.as_str()))])),
                )?;
                labels.push("the child is gone or names this parent now");
            } else {
                tx.check(
                    store,
                    child.as_str(),
                    child.as_str(),
                    "attribute_not_exists(#pk)",
                    Some(names(&[("#pk", PK)])),
                    None,
                )?;
                labels.push("the child exists again");
            }
            if *parent_exists {
                tx.update(
                    store,
                    parent.as_str(),
                    parent.as_str(),
                    "ADD #cc :m1".into(),
                    Some("attribute_exists(#pk)"),
                    Some(names(&[("#pk", PK), ("#cc", attr::CHILD_COUNT)])),
                    Some(values(&[(":m1", n(-1))])),
                )?;
                labels.push("the parent is gone");
            } else {
                tx.check(
                    store,
                    parent.as_str(),
                    parent.as_str(),
                    "attribute_not_exists(#pk)",
                    Some(names(&[("#pk", PK)])),
                    None,
                )?;
                labels.push("the parent exists again");
            }
            Ok(send(store, tx, parent.as_str(), &labels).await?.map(|()| {
                let why = if *child_exists {
                    format!("the child {child} names another parent")
                } else {
                    format!("the child {child} is missing")
                };
                if *parent_exists {
                    *applied
                        .entry((parent.clone(), attr::CHILD_COUNT))
                        .or_default() += 1;
                    format!(
                        "deleted ParentChildRelationship {parent} / {sk} ({why}) and decremented the parent's {}",
                        attr::CHILD_COUNT
                    )
                } else {
                    format!(
                        "deleted ParentChildRelationship {parent} / {sk} ({why}, the parent is missing)"
                    )
                }
            }))
        }

        Action::DeleteMembership {
            collection,
            member,
            collection_exists,
            member_exists,
        } => {
            let sk = format!("{MEMBER_PREFIX}{member}");
            let mut labels = vec!["the record is gone"];
            tx.delete(
                store,
                collection.as_str(),
                &sk,
                Some("attribute_exists(#pk)"),
                Some(names(&[("#pk", PK)])),
                None,
            )?;
            let mut did = Vec::new();
            if *collection_exists {
                tx.update(
                    store,
                    collection.as_str(),
                    collection.as_str(),
                    "ADD #mc :m1".into(),
                    Some("attribute_exists(#pk)"),
                    Some(names(&[("#pk", PK), ("#mc", attr::MEMBER_COUNT)])),
                    Some(values(&[(":m1", n(-1))])),
                )?;
                labels.push("the collection is gone");
                did.push(format!(
                    "decremented the collection's {}",
                    attr::MEMBER_COUNT
                ));
            } else {
                tx.check(
                    store,
                    collection.as_str(),
                    collection.as_str(),
                    "attribute_not_exists(#pk)",
                    Some(names(&[("#pk", PK)])),
                    None,
                )?;
                labels.push("the collection exists again");
            }
            if *member_exists {
                tx.update(
                    store,
                    member.as_str(),
                    member.as_str(),
                    "DELETE #mo :c, #conv :c".into(),
                    Some("attribute_exists(#pk)"),
                    Some(names(&[
                        ("#pk", PK),
                        ("#mo", attr::MEMBER_OF),
                        ("#conv", attr::CONVEYING_COLLECTIONS),
                    ])),
                    Some(values(&[(
                        ":c",
                        AttributeValue::Ss(vec![collection.to_string()]),
                    )])),
                )?;
                labels.push("the member is gone");
                did.push(format!(
                    "removed the collection from the member's {} and {}",
                    attr::MEMBER_OF,
                    attr::CONVEYING_COLLECTIONS
                ));
            } else {
                tx.check(
                    store,
                    member.as_str(),
                    member.as_str(),
                    "attribute_not_exists(#pk)",
                    Some(names(&[("#pk", PK)])),
                    None,
                )?;
                labels.push("the member exists again");
            }
            let missing = match (collection_exists, member_exists) {
                (true, false) => format!("the member {member} is missing"),
                (false, true) => format!("the collection {collection} is missing"),
                _ => "both ends are missing".to_string(),
            };
            Ok(send(store, tx, collection.as_str(), &labels)
                .await?
                .map(|()| {
                    if *collection_exists {
                        *applied
                            .entry((collection.clone(), attr::MEMBER_COUNT))
                            .or_default() += 1;
                    }
                    let mut line = format!(
                        "deleted CollectionMembershipRelationship {collection} / {sk} ({missing})"
                    );
                    if !did.is_empty() {
                        line.push_str(" and ");
                        line.push_str(&did.join(" and "));
                    }
                    line
                }))
        }

        Action::DeleteMarker { key, owner } => {
            tx.delete(
                store,
                key,
                key,
                Some("#o = :owner"),
                Some(names(&[("#o", attr::OWNER_URN)])),
                Some(values(&[(":owner", s(owner.as_str()))])),
            )?;
            tx.check(
                store,
                owner.as_str(),
                owner.as_str(),
                "attribute_not_exists(#pk) OR NOT contains(#uk, :key)",
                Some(names(&[("#pk", PK), ("#uk", attr::UNIQUE_KEYS)])),
                Some(values(&[(":key", s(key))])),
            )?;
            let labels = [
                "the marker is gone or has another owner",
                "its owner holds it now",
            ];
            Ok(send(store, tx, key, &labels).await?.map(|()| {
                format!(
                    "deleted uniqueness marker {key} (held by nobody; its _ownerUrn was {owner})"
                )
            }))
        }

        Action::TransferMarker { key, from, to } => {
            tx.update(
                store,
                key,
                key,
                "SET #o = :to".into(),
                Some("#o = :from"),
                Some(names(&[("#o", attr::OWNER_URN)])),
                Some(values(&[
                    (":to", s(to.as_str())),
                    (":from", s(from.as_str())),
                ])),
            )?;
            tx.check(
                store,
                to.as_str(),
                to.as_str(),
                "contains(#uk, :key) AND attribute_not_exists(#del)",
                Some(names(&[
                    ("#uk", attr::UNIQUE_KEYS),
                    ("#del", attr::DELETING),
                ])),
                Some(values(&[(":key", s(key))])),
            )?;
            tx.check(
                store,
                from.as_str(),
                from.as_str(),
                "attribute_not_exists(#pk) OR NOT contains(#uk, :key)",
                Some(names(&[("#pk", PK), ("#uk", attr::UNIQUE_KEYS)])),
                Some(values(&[(":key", s(key))])),
            )?;
            let labels = [
                "the marker is gone or has another owner",
                "the new owner no longer lists it, or is being deleted",
                "the old owner holds it now",
            ];
            Ok(send(store, tx, key, &labels).await?.map(|()| {
                format!(
                    "gave uniqueness marker {key} to {to}, which lists it (its _ownerUrn was {from}, which does not)"
                )
            }))
        }

        Action::RestoreMarker {
            key,
            owner,
            constraint,
        } => {
            let item: Item = HashMap::from([
                (PK.to_string(), s(key)),
                (SK.to_string(), s(key)),
                (
                    attr::TYPE.to_string(),
                    s(RecordType::UniqueKeyValue.as_str()),
                ),
                (
                    attr::SCHEMA_VERSION.to_string(),
                    n(RELATIONSHIP_SCHEMA_VERSION),
                ),
                (
                    attr::CREATED_AT.to_string(),
                    s(crate::time::format(crate::time::now())),
                ),
                (attr::OWNER_URN.to_string(), s(owner.as_str())),
                (attr::CONSTRAINT.to_string(), s(constraint)),
            ]);
            tx.put(
                store,
                item,
                Some("attribute_not_exists(#pk)"),
                Some(names(&[("#pk", PK)])),
                None,
            )?;
            tx.check(
                store,
                owner.as_str(),
                owner.as_str(),
                "contains(#uk, :key) AND attribute_not_exists(#del)",
                Some(names(&[
                    ("#uk", attr::UNIQUE_KEYS),
                    ("#del", attr::DELETING),
                ])),
                Some(values(&[(":key", s(key))])),
            )?;
            let labels = [
                "the marker exists now",
                "the owner no longer lists it, or is being deleted",
            ];
            Ok(send(store, tx, key, &labels).await?.map(|()| {
                format!("re-created uniqueness marker {key} for {owner}, which lists it")
            }))
        }

        Action::FixMembership {
            member,
            collection,
            record,
        } => {
            let sk = format!("{MEMBER_PREFIX}{member}");
            match record {
                Some(conveys) => tx.check(
                    store,
                    collection.as_str(),
                    &sk,
                    "attribute_exists(#pk) AND #cv = :cv",
                    Some(names(&[("#pk", PK), ("#cv", attr::CONVEYS_AUTHORIZATION)])),
                    Some(values(&[(":cv", AttributeValue::Bool(*conveys))])),
                )?,
                None => tx.check(
                    store,
                    collection.as_str(),
                    &sk,
                    "attribute_not_exists(#pk)",
                    Some(names(&[("#pk", PK)])),
                    None,
                )?,
            }
            let (expr, done) = match record {
                Some(true) => (
                    "ADD #mo :c, #conv :c",
                    format!(
                        "added {collection} to {} and {}",
                        attr::MEMBER_OF,
                        attr::CONVEYING_COLLECTIONS
                    ),
                ),
                Some(false) => (
                    "ADD #mo :c DELETE #conv :c",
                    format!(
                        "added {collection} to {} and removed it from {}",
                        attr::MEMBER_OF,
                        attr::CONVEYING_COLLECTIONS
                    ),
                ),
                None => (
                    "DELETE #mo :c, #conv :c",
                    format!(
                        "removed {collection} from {} and {}",
                        attr::MEMBER_OF,
                        attr::CONVEYING_COLLECTIONS
                    ),
                ),
            };
            tx.update(
                store,
                member.as_str(),
                member.as_str(),
                expr.into(),
                Some("attribute_exists(#pk) AND attribute_not_exists(#del)"),
                Some(names(&[
                    ("#pk", PK),
                    ("#mo", attr::MEMBER_OF),
                    ("#conv", attr::CONVEYING_COLLECTIONS),
                    ("#del", attr::DELETING),
                ])),
                Some(values(&[(
                    ":c",
                    AttributeValue::Ss(vec![collection.to_string()]),
                )])),
            )?;
            let labels = [
                "the membership record changed",
                "the member is gone or being deleted",
            ];
            Ok(send(store, tx, member.as_str(), &labels)
                .await?
                .map(|()| format!("{done} of {member}, as its membership records say")))
        }

        Action::SetCount {
            urn,
            attribute,
            read,
            counted,
        } => {
            let d = applied
                .get(&(urn.clone(), *attribute))
                .copied()
                .unwrap_or(0);
            let target = counted.saturating_sub(d);
            let nm = names(&[("#pk", PK), ("#c", attribute), ("#del", attr::DELETING)]);
            let mut vals = values(&[(":target", n(target))]);
            let expected = match (read, d) {
                (None, 0) => "attribute_not_exists(#c)".to_string(),
                (read, d) => {
                    vals.insert(":expected".into(), n(read.unwrap_or(0).saturating_sub(d)));
                    "#c = :expected".to_string()
                }
            };
            tx.update(
                store,
                urn.as_str(),
                urn.as_str(),
                "SET #c = :target".into(),
                Some(&format!(
                    "attribute_exists(#pk) AND attribute_not_exists(#del) AND {expected}"
                )),
                Some(nm),
                Some(vals),
            )?;
            let labels = ["the count changed, the resource is gone, or it is being deleted"];
            let from = match read {
                None if d == 0 => "absent".to_string(),
                r => r.unwrap_or(0).saturating_sub(d).to_string(),
            };
            Ok(send(store, tx, urn.as_str(), &labels).await?.map(|()| {
                format!("set {attribute} of {urn} from {from} to {target}, the number of records")
            }))
        }
    }
}

// =============================================================================================
// Parsed records.

#[derive(Debug)]
struct Resource {
    key: String,
    urn: AnyUrn,
    parent: Option<AnyUrn>,
    /// `None` when absent (or unreadable); roots have none.
    ancestors: Option<Vec<AnyUrn>>,
    account: Option<AnyUrn>,
    unique_keys: BTreeSet<String>,
    member_of: BTreeSet<AnyUrn>,
    conveying: BTreeSet<AnyUrn>,
    child_count: Count,
    member_count: Count,
    /// `_deleting` as read (possibly malformed), when present.
    deleting: Option<String>,
}

impl Resource {
    fn ancestors(&self) -> &[AnyUrn] {
        self.ancestors.as_deref().unwrap_or(&[])
    }
}

/// A count attribute as read.
#[derive(Debug, Clone, Copy)]
struct Count {
    /// The value, absent = 0, unreadable = 0.
    value: i128,
    /// Whether the attribute is present.
    present: bool,
    /// Whether it could be read as an integer (absent counts as readable).
    readable: bool,
}

#[derive(Debug)]
struct ParentChild {
    key: String,
    parent: AnyUrn,
    child: AnyUrn,
}

#[derive(Debug)]
struct Membership {
    key: String,
    collection: AnyUrn,
    member: AnyUrn,
    conveys: bool,
}

#[derive(Debug)]
struct Marker {
    key: String,
    owner: AnyUrn,
    resource_type: String,
    scope: String,
}

#[derive(Debug, Default)]
struct Table {
    resources: BTreeMap<AnyUrn, Resource>,
    parent_child: Vec<ParentChild>,
    memberships: Vec<Membership>,
    markers: BTreeMap<String, Marker>,
}

impl Table {
    /// URNs of the resources that carry `_deleting`.
    fn fences(&self) -> BTreeSet<&AnyUrn> {
        self.resources
            .values()
            .filter(|r| r.deleting.is_some())
            .map(|r| &r.urn)
            .collect()
    }
}

/// Whether a resource is in a fenced subtree: it, or one of its ancestors, carries `_deleting`.
fn fenced(r: &Resource, fences: &BTreeSet<&AnyUrn>) -> bool {
    fences.contains(&r.urn) || r.ancestors().iter().any(|a| fences.contains(a))
}

const RESOURCE_ATTRS: &[&str] = &[
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::RESOURCE_TYPE,
    attr::VERSION,
    attr::UPDATED_AT,
    attr::ACCOUNT_URN,
    attr::PARENT_URN,
    attr::ANCESTORS,
    attr::UNIQUE_KEYS,
    attr::MEMBER_OF,
    attr::CONVEYING_COLLECTIONS,
    attr::DELETING,
    attr::CHILD_COUNT,
    attr::MEMBER_COUNT,
    attr::WRITE_TOKEN,
];
const PARENT_CHILD_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::PARENT_URN,
    attr::CHILD_URN,
];
const MEMBERSHIP_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::COLLECTION_URN,
    attr::MEMBER_URN,
    attr::CONVEYS_AUTHORIZATION,
];
const MARKER_ATTRS: &[&str] = &[
    PK,
    SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::OWNER_URN,
    attr::CONSTRAINT,
];

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s,
        _ => "",
    }
}

fn describe(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        _ => "an unknown type",
    }
}

fn list<T: fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = v.into_iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(", "))
}

/// Splits `unique#{resourceType}#{constraint}#{scope}#{value}` into type, constraint and scope.
fn split_marker_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix(UNIQUE_PREFIX)?;
    let (resource_type, rest) = rest.split_once('#')?;
    let (constraint, rest) = rest.split_once('#')?;
    let (scope, _value) = rest.split_once('#')?;
    if resource_type.is_empty() || constraint.is_empty() || scope.is_empty() {
        return None;
    }
    Some((resource_type, constraint, scope))
}

/// Whether a marker key's type and scope fit a resource as its owner.
fn key_fits(key: &str, r: &Resource) -> Option<String> {
    let (resource_type, constraint, scope) = split_marker_key(key)?;
    let scope_ok = scope == "global"
        || r.account.as_ref().is_some_and(|a| a.as_str() == scope)
        || r.parent.as_ref().is_some_and(|p| p.as_str() == scope);
    (resource_type == r.urn.resource_type() && scope_ok && key.len() <= MAX_MARKER_KEY_BYTES)
        .then(|| format!("{resource_type}.{constraint}"))
}

// =============================================================================================
// The checker.

#[derive(Default)]
struct Checker {
    out: Vec<Finding>,
}

impl Checker {
    fn push(
        &mut self,
        kind: FindingKind,
        invariant: &'static str,
        key: &str,
        message: impl Into<String>,
    ) {
        self.push_fix(kind, invariant, key, message, Vec::new());
    }

    fn push_fix(
        &mut self,
        kind: FindingKind,
        invariant: &'static str,
        key: &str,
        message: impl Into<String>,
        actions: Vec<Action>,
    ) {
        self.out.push(Finding {
            kind,
            invariant,
            key: key.to_string(),
            message: message.into(),
            actions,
        });
    }

    /// A layout problem (sections 4 and 5).
    fn layout(&mut self, key: &str, message: impl Into<String>) {
        self.push(FindingKind::Schema, "record", key, message);
    }

    // --- attribute readers: each reports what is wrong and returns what it could read ---

    /// A required non-empty string.
    fn req_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        match item.get(name) {
            None => {
                self.layout(key, format!("missing attribute {name}"));
                None
            }
            Some(v) => self.s_value(key, name, v),
        }
    }

    /// An optional non-empty string.
    fn opt_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name).and_then(|v| self.s_value(key, name, v))
    }

    fn s_value<'a>(&mut self, key: &str, name: &str, v: &'a AttributeValue) -> Option<&'a str> {
        match v {
            AttributeValue::S(s) if !s.is_empty() => Some(s),
            AttributeValue::S(_) => {
                self.layout(key, format!("attribute {name} is an empty string"));
                None
            }
            other => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not S", describe(other)),
                );
                None
            }
        }
    }

    fn urn(&mut self, key: &str, what: &str, s: &str) -> Option<AnyUrn> {
        match AnyUrn::parse(s) {
            Ok(u) => Some(u),
            Err(e) => {
                self.layout(key, format!("{what} is not a URN: {e}"));
                None
            }
        }
    }

    fn req_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.req_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    fn opt_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.opt_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    /// A required integer (N).
    fn req_n(&mut self, key: &str, item: &Item, name: &str) -> Option<i128> {
        match item.get(name) {
            None => {
                self.layout(key, format!("missing attribute {name}"));
                None
            }
            Some(v) => self.n_value(key, name, v),
        }
    }

    fn n_value(&mut self, key: &str, name: &str, v: &AttributeValue) -> Option<i128> {
        match v {
            AttributeValue::N(n) => match n.parse::<i128>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.layout(key, format!("attribute {name} = {n} is not an integer"));
                    None
                }
            },
            other => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not N", describe(other)),
                );
                None
            }
        }
    }

    /// An optional count (N >= 0), absent = 0.
    fn count(&mut self, key: &str, item: &Item, name: &str) -> Count {
        match item.get(name) {
            None => Count {
                value: 0,
                present: false,
                readable: true,
            },
            Some(v) => match self.n_value(key, name, v) {
                Some(n) => {
                    if n < 0 {
                        self.push(
                            FindingKind::CountMismatch,
                            "counts",
                            key,
                            format!("{name} is negative ({n})"),
                        );
                    }
                    Count {
                        value: n,
                        present: true,
                        readable: true,
                    }
                }
                None => Count {
                    value: 0,
                    present: true,
                    readable: false,
                },
            },
        }
    }

    /// A timestamp in the exact `YYYY-MM-DDTHH:MM:SS.mmmZ` form.
    fn timestamp(&mut self, key: &str, name: &str, s: &str) -> Option<jiff::Timestamp> {
        match crate::time::parse(s) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.layout(key, format!("attribute {name}: {reason}"));
                None
            }
        }
    }

    /// An optional string set (absent = empty; DynamoDB sets are never empty).
    fn ss(&mut self, key: &str, item: &Item, name: &str) -> Vec<String> {
        match item.get(name) {
            None => Vec::new(),
            Some(AttributeValue::Ss(v)) => {
                if v.is_empty() {
                    self.layout(key, format!("attribute {name} is an empty set"));
                }
                v.clone()
            }
            Some(other) => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not SS", describe(other)),
                );
                Vec::new()
            }
        }
    }

    fn urn_set(&mut self, key: &str, item: &Item, name: &str) -> BTreeSet<AnyUrn> {
        self.ss(key, item, name)
            .iter()
            .filter_map(|s| self.urn(key, &format!("an element of {name}"), s))
            .collect()
    }

    fn known_attributes(&mut self, key: &str, item: &Item, known: &[&str], entity_fields: bool) {
        let mut names: Vec<&String> = item.keys().collect();
        names.sort();
        for name in names {
            // Index keys out of place have rules of their own (I5, I7).
            if known.contains(&name.as_str())
                || [PK, SK, GSI1PK, GSI1SK, attr::ACCOUNT_URN].contains(&name.as_str())
            {
                continue;
            }
            if name.starts_with('_') || !entity_fields {
                self.layout(
                    key,
                    format!("attribute {name} does not belong on this record type"),
                );
            }
        }
    }

    // --- pass 1: each record on its own ---

    fn record(&mut self, item: &Item, table: &mut Table) {
        let key = key_of(item);
        let (Some(_), Some(_)) = (self.req_s(&key, item, PK), self.req_s(&key, item, SK)) else {
            return;
        };
        // Index keys are never NULL or empty, on any record (I7).
        for name in [GSI1PK, GSI1SK, attr::ACCOUNT_URN] {
            match item.get(name) {
                None => {}
                Some(AttributeValue::S(s)) if s.is_empty() => self.push(
                    FindingKind::Schema,
                    "I7",
                    &key,
                    format!("index key {name} is an empty string"),
                ),
                Some(AttributeValue::S(_)) => {}
                Some(other) => self.push(
                    FindingKind::Schema,
                    "I7",
                    &key,
                    format!("index key {name} is {}, not S", describe(other)),
                ),
            }
        }
        let Some(t) = self.req_s(&key, item, attr::TYPE) else {
            return;
        };
        let Some(record_type) = RecordType::parse(t) else {
            self.layout(&key, format!("unknown _type {t:?}"));
            return;
        };
        if let Some(v) = self.req_n(&key, item, attr::SCHEMA_VERSION) {
            if v < 1 {
                self.layout(&key, format!("_schemaVersion is {v}; versions start at 1"));
            } else if record_type != RecordType::Resource
                && v != i128::from(RELATIONSHIP_SCHEMA_VERSION)
            {
                self.layout(
                    &key,
                    format!(
                        "_schemaVersion of a {} is {RELATIONSHIP_SCHEMA_VERSION}, found {v}",
                        record_type.as_str()
                    ),
                );
            }
        }
        let created = self
            .req_s(&key, item, attr::CREATED_AT)
            .and_then(|s| self.timestamp(&key, attr::CREATED_AT, s));
        match record_type {
            RecordType::Resource => self.resource(&key, item, created, table),
            RecordType::ParentChildRelationship => self.parent_child(&key, item, table),
            RecordType::CollectionMembershipRelationship => self.membership(&key, item, table),
            RecordType::UniqueKeyValue => self.marker(&key, item, table),
        }
    }

    fn resource(
        &mut self,
        key: &str,
        item: &Item,
        created: Option<jiff::Timestamp>,
        table: &mut Table,
    ) {
        use FindingKind::{AccountMismatch, Ancestors, ParentRelationship, Schema};
        self.known_attributes(key, item, RESOURCE_ATTRS, true);
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(Schema, "I8", key, "a Resource record has PK = SK = its URN");
        }
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(
                    Schema,
                    "I7",
                    key,
                    format!("a Resource record carries {name}"),
                );
            }
        }
        let urn = self.urn(key, "PK", pk);
        if let (Some(urn), Some(rt)) = (&urn, self.req_s(key, item, attr::RESOURCE_TYPE))
            && rt != urn.resource_type()
        {
            self.push(
                Schema,
                "I8",
                key,
                format!(
                    "_resourceType {rt} is not the URN's type {}",
                    urn.resource_type()
                ),
            );
        }
        if let Some(v) = self.req_n(key, item, attr::VERSION)
            && v < 1
        {
            self.push(
                Schema,
                "I8",
                key,
                format!("_version is {v}; versions start at 1"),
            );
        }
        let updated = self
            .req_s(key, item, attr::UPDATED_AT)
            .and_then(|s| self.timestamp(key, attr::UPDATED_AT, s));
        if let (Some(c), Some(u)) = (created, updated)
            && c > u
        {
            self.push(
                Schema,
                "I8",
                key,
                format!("_createdAt {c} is after _updatedAt {u}"),
            );
        }
        // `_writeToken`, when present, is a non-empty string (section 5.1).
        self.opt_s(key, item, attr::WRITE_TOKEN);
        let deleting = match self.opt_s(key, item, attr::DELETING) {
            Some(s) => {
                self.timestamp(key, attr::DELETING, s);
                Some(s.to_string())
            }
            None => item
                .contains_key(attr::DELETING)
                .then(|| "an unreadable time".to_string()),
        };

        let parent = self.opt_urn(key, item, attr::PARENT_URN);
        let ancestors = match item.get(attr::ANCESTORS) {
            None => None,
            Some(AttributeValue::L(list)) => {
                let mut out = Vec::new();
                for v in list {
                    match v {
                        AttributeValue::S(s) => {
                            if let Some(u) = self.urn(key, "an element of _ancestors", s) {
                                out.push(u);
                            }
                        }
                        other => {
                            self.layout(key, format!("_ancestors holds {}, not S", describe(other)))
                        }
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.layout(key, format!("_ancestors is {}, not L", describe(other)));
                None
            }
        };
        match (&parent, &ancestors) {
            (Some(_), None) => {
                self.push(
                    ParentRelationship,
                    "I2",
                    key,
                    "has _parentUrn but no _ancestors",
                );
            }
            (None, Some(_)) => {
                self.push(
                    ParentRelationship,
                    "I2",
                    key,
                    "has _ancestors but no _parentUrn",
                );
            }
            (Some(p), Some(a)) => {
                if a.last() != Some(p) {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        format!("_ancestors {} does not end with _parentUrn {p}", list(a)),
                    );
                }
                let distinct: BTreeSet<&AnyUrn> = a.iter().collect();
                if distinct.len() != a.len() {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        format!("_ancestors {} repeats a URN", list(a)),
                    );
                }
                if let Some(u) = &urn
                    && a.contains(u)
                {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        "_ancestors contains the resource itself",
                    );
                }
            }
            (None, None) => {}
        }
        let account = self.opt_urn(key, item, attr::ACCOUNT_URN);
        if account.is_some() && item.get(attr::PARENT_URN).is_none() {
            self.push(
                AccountMismatch,
                "I5",
                key,
                "has _accountUrn but no parent (an account-scoped type declares a parent)",
            );
        }
        if let (Some(a), Some(u)) = (&account, &urn)
            && a == u
        {
            self.push(
                AccountMismatch,
                "I5",
                key,
                "_accountUrn is the resource itself",
            );
        }
        let unique_keys: BTreeSet<String> =
            self.ss(key, item, attr::UNIQUE_KEYS).into_iter().collect();
        let member_of = self.urn_set(key, item, attr::MEMBER_OF);
        let conveying = self.urn_set(key, item, attr::CONVEYING_COLLECTIONS);
        let child_count = self.count(key, item, attr::CHILD_COUNT);
        let member_count = self.count(key, item, attr::MEMBER_COUNT);
        let Some(urn) = urn else { return };
        table.resources.insert(
            urn.clone(),
            Resource {
                key: key.to_string(),
                urn,
                parent,
                ancestors,
                account,
                unique_keys,
                member_of,
                conveying,
                child_count,
                member_count,
                deleting,
            },
        );
    }

    /// The common layout of both relationship records: `PK` = `from`, `SK` = `sk_prefix` + to,
    /// `GSI1PK` = to, `GSI1SK` = `gsi_prefix` + from, and the two URN attributes.
    fn relationship(
        &mut self,
        key: &str,
        item: &Item,
        sk_prefix: &str,
        gsi_prefix: &str,
        from_attr: &str,
        to_attr: &str,
    ) -> Option<(AnyUrn, AnyUrn)> {
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(
                FindingKind::AccountMismatch,
                "I5",
                key,
                "a relationship record carries _accountUrn",
            );
        }
        let from = self.urn(key, "PK", text(item, PK));
        let to = match text(item, SK).strip_prefix(sk_prefix) {
            Some(rest) => self.urn(key, &format!("SK after {sk_prefix}"), rest),
            None => {
                self.layout(key, format!("SK does not start with {sk_prefix}"));
                None
            }
        };
        let gsi1pk = self.req_s(key, item, GSI1PK);
        let gsi1sk = self.req_s(key, item, GSI1SK);
        let from_value = self.req_s(key, item, from_attr);
        let to_value = self.req_s(key, item, to_attr);
        let (from, to) = (from?, to?);
        if let Some(v) = gsi1pk
            && v != to.as_str()
        {
            self.layout(key, format!("GSI1PK is {v}, expected {to}"));
        }
        let want = format!("{gsi_prefix}{from}");
        if let Some(v) = gsi1sk
            && v != want
        {
            self.layout(key, format!("GSI1SK is {v}, expected {want}"));
        }
        if let Some(v) = from_value
            && v != from.as_str()
        {
            self.layout(key, format!("{from_attr} is {v}, expected {from} (PK)"));
        }
        if let Some(v) = to_value
            && v != to.as_str()
        {
            self.layout(key, format!("{to_attr} is {v}, expected {to} (from SK)"));
        }
        if from == to {
            self.layout(key, "a relationship from a resource to itself");
        }
        Some((from, to))
    }

    fn parent_child(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, PARENT_CHILD_ATTRS, false);
        if let Some((parent, child)) = self.relationship(
            key,
            item,
            CHILD_PREFIX,
            PARENT_PREFIX,
            attr::PARENT_URN,
            attr::CHILD_URN,
        ) {
            table.parent_child.push(ParentChild {
                key: key.to_string(),
                parent,
                child,
            });
        }
    }

    fn membership(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, MEMBERSHIP_ATTRS, false);
        let conveys = match item.get(attr::CONVEYS_AUTHORIZATION) {
            Some(AttributeValue::Bool(b)) => Some(*b),
            Some(other) => {
                self.layout(
                    key,
                    format!("_conveysAuthorization is {}, not BOOL", describe(other)),
                );
                None
            }
            None => {
                self.layout(key, "missing attribute _conveysAuthorization");
                None
            }
        };
        if let Some((collection, member)) = self.relationship(
            key,
            item,
            MEMBER_PREFIX,
            COLLECTION_PREFIX,
            attr::COLLECTION_URN,
            attr::MEMBER_URN,
        ) {
            table.memberships.push(Membership {
                key: key.to_string(),
                collection,
                member,
                conveys: conveys.unwrap_or(false),
            });
        }
    }

    fn marker(&mut self, key: &str, item: &Item, table: &mut Table) {
        use FindingKind::Schema;
        self.known_attributes(key, item, MARKER_ATTRS, false);
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(
                    Schema,
                    "I7",
                    key,
                    format!("a UniqueKeyValue record carries {name}"),
                );
            }
        }
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(
                FindingKind::AccountMismatch,
                "I5",
                key,
                "a UniqueKeyValue record carries _accountUrn",
            );
        }
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(
                Schema,
                "I8",
                key,
                "a UniqueKeyValue record has PK = SK = its marker key",
            );
        }
        if pk.len() > MAX_MARKER_KEY_BYTES {
            self.push(
                Schema,
                "I4",
                key,
                format!(
                    "marker key is {} bytes, over {MAX_MARKER_KEY_BYTES}",
                    pk.len()
                ),
            );
        }
        let owner = self.req_urn(key, item, attr::OWNER_URN);
        let constraint_attr = self.req_s(key, item, attr::CONSTRAINT);
        let Some((resource_type, constraint, scope)) = split_marker_key(pk) else {
            self.push(
                Schema,
                "I4",
                key,
                "marker key is not unique#{resourceType}#{constraint}#{scope}#{value}",
            );
            return;
        };
        let want = format!("{resource_type}.{constraint}");
        if let Some(c) = constraint_attr
            && c != want
        {
            self.push(
                Schema,
                "I4",
                key,
                format!("_constraint is {c}, the key says {want}"),
            );
        }
        if scope != "global" {
            self.urn(key, "the marker key's scope", scope);
        }
        let Some(owner) = owner else { return };
        table.markers.insert(
            pk.to_string(),
            Marker {
                key: key.to_string(),
                owner,
                resource_type: resource_type.to_string(),
                scope: scope.to_string(),
            },
        );
    }

    // --- pass 2: references between records ---

    fn cross_check(&mut self, t: &Table) {
        use FindingKind::{
            AccountMismatch, Ancestors, ContestedMarker, CountMismatch, DanglingMarker,
            MembershipMismatch, MissingMarker, OrphanedRelationship, ParentRelationship, Schema,
            UnfinishedCascade,
        };
        let fences = t.fences();
        // Resources with a fence at, above or beneath them: their counts are left alone.
        let mut near_fence: BTreeSet<&AnyUrn> = BTreeSet::new();
        for r in t.resources.values() {
            if fenced(r, &fences) {
                near_fence.insert(&r.urn);
            }
            if r.deleting.is_some() {
                near_fence.extend(r.ancestors().iter());
            }
        }
        let mut child_records: BTreeMap<&AnyUrn, Vec<&ParentChild>> = BTreeMap::new();
        let mut children_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for pc in &t.parent_child {
            child_records.entry(&pc.child).or_default().push(pc);
            *children_of.entry(&pc.parent).or_default() += 1;
        }
        let mut memberships_of: BTreeMap<&AnyUrn, Vec<&Membership>> = BTreeMap::new();
        let mut members_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for m in &t.memberships {
            memberships_of.entry(&m.member).or_default().push(m);
            *members_of.entry(&m.collection).or_default() += 1;
        }
        let mut listers: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in t.resources.values() {
            for k in &r.unique_keys {
                listers.entry(k.as_str()).or_default().push(r);
            }
        }
        // The fix for a marker key nobody rightly holds: hand it to its one lister, or
        // delete it when nobody lists it. `None` when it is not safe.
        let marker_fix = |key: &str, m: &Marker| -> Option<Action> {
            let claimants: Vec<&&Resource> = listers
                .get(key)
                .map(|v| v.iter().filter(|r| r.urn != m.owner).collect())
                .unwrap_or_default();
            match claimants.as_slice() {
                [] => Some(Action::DeleteMarker {
                    key: key.to_string(),
                    owner: m.owner.clone(),
                }),
                [one] if !fenced(one, &fences) && key_fits(key, one).is_some() => {
                    Some(Action::TransferMarker {
                        key: key.to_string(),
                        from: m.owner.clone(),
                        to: one.urn.clone(),
                    })
                }
                _ => None,
            }
        };

        for r in t.resources.values() {
            let exempt = fenced(r, &fences);
            let key = r.key.as_str();

            // The fence itself.
            if let Some(since) = &r.deleting {
                self.push_fix(
                    UnfinishedCascade,
                    "fence",
                    key,
                    format!(
                        "a cascading delete started at {since} has not finished (deleting it again finishes it)"
                    ),
                    vec![Action::FinishCascade {
                        depth: r.ancestors().len(),
                        root: r.urn.clone(),
                    }],
                );
            }

            // I2, I3, I5: the parent.
            if let Some(parent) = &r.parent {
                let records = child_records.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
                let under_parent = records.iter().filter(|pc| &pc.parent == parent).count();
                if under_parent == 0 && !exempt {
                    self.push(
                        ParentRelationship,
                        "I2",
                        key,
                        format!("no ParentChildRelationship record under its parent {parent}"),
                    );
                }
                for pc in records.iter().filter(|pc| &pc.parent != parent) {
                    self.push_fix(
                        ParentRelationship,
                        "I2",
                        key,
                        format!(
                            "ParentChildRelationship {} names it as a child of {}, but its _parentUrn is {parent}",
                            pc.key, pc.parent
                        ),
                        stray_record_fix(pc, t),
                    );
                }
                match t.resources.get(parent) {
                    None => {
                        if !exempt {
                            self.push(
                                ParentRelationship,
                                "I2",
                                key,
                                format!("its parent {parent} does not exist"),
                            );
                        }
                    }
                    Some(p) => {
                        let mut want: Vec<AnyUrn> = p.ancestors().to_vec();
                        want.push(parent.clone());
                        if r.ancestors.is_some() && r.ancestors() != want.as_slice() {
                            self.push(
                                Ancestors,
                                "I3",
                                key,
                                format!(
                                    "_ancestors is {}, the parent's _ancestors + parent is {}",
                                    list(r.ancestors()),
                                    list(&want)
                                ),
                            );
                        }
                        if let Some(account) = &r.account {
                            let want = p.account.as_ref().unwrap_or(parent);
                            if account != want {
                                self.push(
                                    AccountMismatch,
                                    "I5",
                                    key,
                                    format!(
                                        "_accountUrn is {account}, expected {want} (the parent's {})",
                                        if p.account.is_some() {
                                            "_accountUrn"
                                        } else {
                                            "URN"
                                        }
                                    ),
                                );
                            }
                        }
                    }
                }
            } else if let Some(pcs) = child_records.get(&r.urn) {
                for pc in pcs {
                    self.push_fix(
                        ParentRelationship,
                        "I2",
                        key,
                        format!(
                            "has no _parentUrn, but ParentChildRelationship {} names it as a child",
                            pc.key
                        ),
                        stray_record_fix(pc, t),
                    );
                }
            }
            if let Some(account) = &r.account
                && r.parent.is_some()
                && !r.ancestors().contains(account)
            {
                self.push(
                    AccountMismatch,
                    "I5",
                    key,
                    format!("_accountUrn {account} is not one of its _ancestors"),
                );
            }

            // I4: the markers it lists.
            if !exempt {
                for k in &r.unique_keys {
                    let others: Vec<&AnyUrn> = listers
                        .get(k.as_str())
                        .map(|v| v.iter().map(|o| &o.urn).filter(|u| **u != r.urn).collect())
                        .unwrap_or_default();
                    match t.markers.get(k) {
                        None if others.is_empty() => {
                            let fix = key_fits(k, r)
                                .map(|constraint| Action::RestoreMarker {
                                    key: k.clone(),
                                    owner: r.urn.clone(),
                                    constraint,
                                })
                                .into_iter()
                                .collect();
                            self.push_fix(
                                MissingMarker,
                                "I4",
                                key,
                                format!("_uniqueKeys lists {k}, but no such marker exists"),
                                fix,
                            );
                        }
                        None => self.push(
                            ContestedMarker,
                            "I4",
                            key,
                            format!(
                                "_uniqueKeys lists {k}, but no such marker exists, and {} list it too",
                                list(others)
                            ),
                        ),
                        Some(m) if m.owner != r.urn => {
                            let holder_claims = t
                                .resources
                                .get(&m.owner)
                                .is_some_and(|o| o.unique_keys.contains(k));
                            let message = format!(
                                "_uniqueKeys lists {k}, but that marker is owned by {}",
                                m.owner
                            );
                            if holder_claims {
                                self.push(ContestedMarker, "I4", key, message);
                            } else {
                                let fix = marker_fix(k, m).into_iter().collect();
                                self.push_fix(MissingMarker, "I4", key, message, fix);
                            }
                        }
                        Some(_) => {}
                    }
                }
            }

            // I6: memberships.
            let records = memberships_of.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
            let have: BTreeSet<&AnyUrn> = records.iter().map(|m| &m.collection).collect();
            let conveying: BTreeSet<&AnyUrn> = records
                .iter()
                .filter(|m| m.conveys)
                .map(|m| &m.collection)
                .collect();
            let listed: BTreeSet<&AnyUrn> = r.member_of.iter().collect();
            let listed_conveying: BTreeSet<&AnyUrn> = r.conveying.iter().collect();
            let fixes: Vec<Action> = if exempt {
                Vec::new()
            } else {
                membership_fixes(r, t, records, &listed, &listed_conveying)
            };
            let stray: Vec<&&AnyUrn> = listed_conveying.difference(&listed).collect();
            if !stray.is_empty() {
                self.push_fix(
                    MembershipMismatch,
                    "I6",
                    key,
                    format!("_conveyingCollections {} are not in _memberOf", list(stray)),
                    fixes.clone(),
                );
            }
            if !exempt {
                self.set_diff(
                    key,
                    "_memberOf",
                    "membership records",
                    &listed,
                    &have,
                    &fixes,
                );
                self.set_diff(
                    key,
                    "_conveyingCollections",
                    "memberships with _conveysAuthorization = true",
                    &listed_conveying,
                    &conveying,
                    &fixes,
                );
            }

            // Counts.
            for (name, count, records, what) in [
                (
                    attr::CHILD_COUNT,
                    r.child_count,
                    children_of.get(&r.urn).copied().unwrap_or(0),
                    "child#",
                ),
                (
                    attr::MEMBER_COUNT,
                    r.member_count,
                    members_of.get(&r.urn).copied().unwrap_or(0),
                    "member#",
                ),
            ] {
                let records = i128::try_from(records).unwrap_or(i128::MAX);
                if !count.readable {
                    continue; // reported as a layout problem
                }
                let fix: Vec<Action> = if near_fence.contains(&r.urn) {
                    Vec::new()
                } else {
                    vec![Action::SetCount {
                        urn: r.urn.clone(),
                        attribute: name,
                        read: count.present.then_some(count.value),
                        counted: records,
                    }]
                };
                let value = count.value;
                if value < records {
                    self.push_fix(
                        CountMismatch,
                        "counts",
                        key,
                        format!("{name} is {value}, below the {records} {what} records"),
                        fix,
                    );
                } else if value != records && !exempt {
                    self.push_fix(
                        CountMismatch,
                        "counts",
                        key,
                        format!("{name} is {value}, but there are {records} {what} records"),
                        fix,
                    );
                }
            }
        }

        // I1, I2: parent-child records.
        for pc in &t.parent_child {
            let parent = t.resources.get(&pc.parent);
            let child = t.resources.get(&pc.child);
            let exempt = match parent {
                Some(p) => fenced(p, &fences),
                // The parent is gone: the child's _ancestors include the parent's.
                None => child.is_some_and(|c| c.ancestors().iter().any(|a| fences.contains(a))),
            };
            let fix = stray_record_fix(pc, t);
            if parent.is_none() && !exempt {
                let orphan = child.is_some() && fix.is_empty();
                self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &pc.key,
                    if orphan {
                        format!(
                            "its parent {} does not exist (the child is an orphan; deleting it is left to a person)",
                            pc.parent
                        )
                    } else {
                        format!("its parent {} does not exist", pc.parent)
                    },
                    fix.clone(),
                );
            }
            match child {
                None if !exempt => self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &pc.key,
                    format!("its child {} does not exist", pc.child),
                    fix.clone(),
                ),
                None => {}
                Some(c) if c.parent.as_ref() != Some(&pc.parent) => self.push_fix(
                    ParentRelationship,
                    "I2",
                    &pc.key,
                    format!(
                        "the child's _parentUrn is {}, not this record's parent {}",
                        c.parent
                            .as_ref()
                            .map_or("absent".to_string(), |p| p.to_string()),
                        pc.parent
                    ),
                    fix.clone(),
                ),
                Some(_) => {}
            }
        }

        // I1: membership records.
        for m in &t.memberships {
            let exempt = t
                .resources
                .get(&m.collection)
                .is_some_and(|c| fenced(c, &fences));
            if exempt {
                continue;
            }
            let collection_exists = t.resources.contains_key(&m.collection);
            let member_exists = t.resources.contains_key(&m.member);
            let fix = vec![Action::DeleteMembership {
                collection: m.collection.clone(),
                member: m.member.clone(),
                collection_exists,
                member_exists,
            }];
            if !collection_exists {
                self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &m.key,
                    format!("its collection {} does not exist", m.collection),
                    fix.clone(),
                );
            }
            if !member_exists {
                self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &m.key,
                    format!("its member {} does not exist", m.member),
                    fix,
                );
            }
        }

        // I4: markers.
        for (k, m) in &t.markers {
            let Some(owner) = t.resources.get(&m.owner) else {
                self.push_fix(
                    DanglingMarker,
                    "I4",
                    &m.key,
                    format!("its owner {} does not exist", m.owner),
                    marker_fix(k, m).into_iter().collect(),
                );
                continue;
            };
            if !owner.unique_keys.contains(k) {
                self.push_fix(
                    DanglingMarker,
                    "I4",
                    &m.key,
                    format!("its owner {} does not list it in _uniqueKeys", m.owner),
                    marker_fix(k, m).into_iter().collect(),
                );
            }
            if m.resource_type != m.owner.resource_type() {
                self.push(
                    Schema,
                    "I4",
                    &m.key,
                    format!(
                        "the key is of type {}, its owner is a {}",
                        m.resource_type,
                        m.owner.resource_type()
                    ),
                );
            }
            let scope_ok = m.scope == "global"
                || owner
                    .account
                    .as_ref()
                    .is_some_and(|a| a.as_str() == m.scope)
                || owner.parent.as_ref().is_some_and(|p| p.as_str() == m.scope);
            if !scope_ok {
                self.push(
                    Schema,
                    "I4",
                    &m.key,
                    format!(
                        "scope {} is neither global nor the owner's _accountUrn or _parentUrn",
                        m.scope
                    ),
                );
            }
        }

        // One type, one declaration.
        self.type_consistency(t);
    }

    fn set_diff(
        &mut self,
        key: &str,
        attribute: &str,
        records: &str,
        listed: &BTreeSet<&AnyUrn>,
        actual: &BTreeSet<&AnyUrn>,
        fixes: &[Action],
    ) {
        let extra: Vec<&&AnyUrn> = listed.difference(actual).collect();
        let missing: Vec<&&AnyUrn> = actual.difference(listed).collect();
        if !extra.is_empty() {
            self.push_fix(
                FindingKind::MembershipMismatch,
                "I6",
                key,
                format!("{attribute} lists {} without {records}", list(extra)),
                fixes.to_vec(),
            );
        }
        if !missing.is_empty() {
            self.push_fix(
                FindingKind::MembershipMismatch,
                "I6",
                key,
                format!(
                    "{attribute} lacks {} although there are {records}",
                    list(missing)
                ),
                fixes.to_vec(),
            );
        }
    }

    fn type_consistency(&mut self, t: &Table) {
        #[derive(Default)]
        struct Seen<'a> {
            with_parent: Vec<&'a str>,
            without_parent: Vec<&'a str>,
            parent_types: BTreeMap<&'a str, &'a str>,
            with_account: Vec<&'a str>,
            without_account: Vec<&'a str>,
        }
        let mut types: BTreeMap<&str, Seen> = BTreeMap::new();
        for r in t.resources.values() {
            let seen = types.entry(r.urn.resource_type()).or_default();
            match &r.parent {
                Some(p) => {
                    seen.with_parent.push(&r.key);
                    seen.parent_types.entry(p.resource_type()).or_insert(&r.key);
                }
                None => seen.without_parent.push(&r.key),
            }
            if r.account.is_some() {
                seen.with_account.push(&r.key);
            } else {
                seen.without_account.push(&r.key);
            }
        }
        for (rt, seen) in types {
            let key = format!("type {rt}");
            if let (Some(a), Some(b)) = (seen.with_parent.first(), seen.without_parent.first()) {
                self.push(
                    FindingKind::ParentRelationship,
                    "I2",
                    &key,
                    format!("some resources have a parent ({a}), others none ({b})"),
                );
            }
            if seen.parent_types.len() > 1 {
                self.push(
                    FindingKind::ParentRelationship,
                    "I2",
                    &key,
                    format!(
                        "parents of several types: {}",
                        list(seen.parent_types.iter().map(|(t, k)| format!("{t} ({k})")))
                    ),
                );
            }
            if let (Some(a), Some(b)) = (seen.with_account.first(), seen.without_account.first()) {
                self.push(
                    FindingKind::AccountMismatch,
                    "I5",
                    &key,
                    format!("some resources have _accountUrn ({a}), others none ({b})"),
                );
            }
        }
    }
}

/// The fix for a parent-child record: deleting it is safe when its child is gone, or when the
/// child names neither this parent nor has it among its `_ancestors` (the record is stray).
/// Otherwise (the child names this parent) there is no safe fix.
fn stray_record_fix(pc: &ParentChild, t: &Table) -> Vec<Action> {
    let child = t.resources.get(&pc.child);
    let stray = match child {
        None => true,
        Some(c) => c.parent.as_ref() != Some(&pc.parent) && !c.ancestors().contains(&pc.parent),
    };
    if !stray {
        return Vec::new();
    }
    vec![Action::DeleteParentChild {
        parent: pc.parent.clone(),
        child: pc.child.clone(),
        parent_exists: t.resources.contains_key(&pc.parent),
        child_exists: child.is_some(),
    }]
}

/// The fixes that make a member's `_memberOf`/`_conveyingCollections` agree with its
/// membership records, one per collection that differs. A record whose collection is missing
/// is deleted instead (the orphan fix), which also removes the collection from the member's
/// sets.
fn membership_fixes(
    r: &Resource,
    t: &Table,
    records: &[&Membership],
    listed: &BTreeSet<&AnyUrn>,
    listed_conveying: &BTreeSet<&AnyUrn>,
) -> Vec<Action> {
    let by_collection: BTreeMap<&AnyUrn, bool> = records
        .iter()
        .filter(|m| t.resources.contains_key(&m.collection))
        .map(|m| (&m.collection, m.conveys))
        .collect();
    let orphaned: BTreeSet<&AnyUrn> = records
        .iter()
        .filter(|m| !t.resources.contains_key(&m.collection))
        .map(|m| &m.collection)
        .collect();
    let mut out: Vec<Action> = orphaned
        .iter()
        .map(|c| Action::DeleteMembership {
            collection: (*c).clone(),
            member: r.urn.clone(),
            collection_exists: false,
            member_exists: true,
        })
        .collect();
    let all: BTreeSet<&AnyUrn> = listed
        .iter()
        .chain(listed_conveying.iter())
        .chain(by_collection.keys())
        .copied()
        .collect();
    for c in all {
        if orphaned.contains(c) {
            continue;
        }
        let record = by_collection.get(c).copied();
        let want = (record.is_some(), record == Some(true));
        let is = (listed.contains(c), listed_conveying.contains(c));
        if want != is {
            out.push(Action::FixMembership {
                member: r.urn.clone(),
                collection: c.clone(),
                record,
            });
        }
    }
    out
}
