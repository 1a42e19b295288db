//! Repair actions: what [`super::repair()`] can do, planned by the checker from what it read,
//! and one function per action building the conditioned transaction that carries it out.
//!
//! Every transaction is built with a [`Fix`], which pairs each condition with a label saying
//! what its failing means ("the record is gone", …): a cancelled fix is reported with the
//! labels of the conditions that failed, and is skipped, never forced.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::Result;
use crate::records::attrs::{n, s};
use crate::records::marker::marker_record;
use crate::schema::{CHILD_PREFIX, GSI1PK, GSI1SK, MEMBER_PREFIX, PK, SK, attr, keys};
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::pager::{KeyQuery, Source};
use crate::wire::store::Store;
use crate::wire::write::{Write, writes};

use super::fix::{Fix, not_a_child_of};

/// A fix, planned by the checker from what it read. The variants are declared in the order
/// [`super::repair()`] applies them (the derived `Ord` sorts by variant first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Action {
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
    /// List a root resource in its type's shard of the InvertedIndex (I11).
    ListRoot { urn: AnyUrn },
}

impl Action {
    pub(super) fn describe(&self) -> String {
        match self {
            Action::FinishCascade { root, .. } => format!("finish the cascading delete of {root}"),
            Action::DeleteParentChild { parent, child, .. } => {
                format!(
                    "delete ParentChildRelationship {parent} / {}",
                    keys::child_sk(child.as_str())
                )
            }
            Action::DeleteMembership {
                collection, member, ..
            } => format!(
                "delete CollectionMembershipRelationship {collection} / {}",
                keys::member_sk(member.as_str())
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
            Action::ListRoot { urn } => format!("list root {urn} in its type's shard"),
        }
    }
}

/// Decrements this repair run applied, by (resource, count attribute): a later count fix
/// expects the audit's value less these.
pub(super) type Applied = HashMap<(AnyUrn, &'static str), i128>;

/// What applying one fix came to: `Ok(Ok(line))`: done, `line` says what; `Ok(Err(why))`:
/// skipped, `why` says why; `Err`: the request failed.
pub(super) type Outcome = Result<std::result::Result<String, String>>;

/// Applies one fix (any but [`Action::FinishCascade`], which [`super::repair()`] runs first).
pub(super) async fn apply(store: &Store, action: &Action, applied: &mut Applied) -> Outcome {
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
            delete_parent_child(store, parent, child, *parent_exists, *child_exists, applied).await
        }
        Action::DeleteMembership {
            collection,
            member,
            collection_exists,
            member_exists,
        } => {
            delete_membership(
                store,
                collection,
                member,
                *collection_exists,
                *member_exists,
                applied,
            )
            .await
        }
        Action::DeleteMarker { key, owner } => delete_marker(store, key, owner).await,
        Action::TransferMarker { key, from, to } => transfer_marker(store, key, from, to).await,
        Action::RestoreMarker {
            key,
            owner,
            constraint,
        } => restore_marker(store, key, owner, constraint).await,
        Action::FixMembership {
            member,
            collection,
            record,
        } => fix_membership(store, member, collection, *record).await,
        Action::SetCount {
            urn,
            attribute,
            read,
            ..
        } => {
            let d = applied
                .get(&(urn.clone(), *attribute))
                .copied()
                .unwrap_or(0);
            let expected = match (read, d) {
                (None, 0) => None,
                (read, d) => Some(read.unwrap_or(0).saturating_sub(d)),
            };
            set_count(store, urn, attribute, expected).await
        }
        Action::ListRoot { urn } => list_root(store, urn).await,
    }
}

/// [`Action::ListRoot`]: sets the root's listing keys, on the resource as long as it exists
/// and has no parent. Idempotent, and no other write sets or reads these attributes, so no
/// condition on their values is needed.
async fn list_root(store: &Store, urn: &AnyUrn) -> Outcome {
    let set = Expr::new("SET #lp = :lp, #ls = :ls")
        .name("#lp", GSI1PK)
        .name("#ls", GSI1SK)
        .value(
            ":lp",
            s(keys::root_listing_pk(urn.type_prefix(), urn.as_str())),
        )
        .value(":ls", s(urn.as_str()));
    let root = Expr::new("attribute_exists(#pk) AND attribute_not_exists(#parent)")
        .name("#pk", PK)
        .name("#parent", attr::PARENT_URN);
    let mut fix = Fix::new(store);
    fix.tx
        .push(Write::update(urn.as_str(), urn.as_str(), set).when(root));
    fix.labels.push("the resource is gone");
    Ok(fix
        .send(urn.as_str())
        .await?
        .map(|()| format!("listed root {urn} in its type's shard")))
}

/// [`Action::DeleteParentChild`]: deletes the record, conditioned on the child still being
/// gone (or not naming the parent), and decrements the parent's `_childCount` when it exists.
async fn delete_parent_child(
    store: &Store,
    parent: &AnyUrn,
    child: &AnyUrn,
    parent_exists: bool,
    child_exists: bool,
    applied: &mut Applied,
) -> Outcome {
    let sk = keys::child_sk(child.as_str());
    let mut fix = Fix::new(store);
    fix.delete_existing(parent.as_str(), &sk, "the record is gone")?;
    if child_exists {
        fix.tx.push(Write::check(
            child.as_str(),
            child.as_str(),
            not_a_child_of(parent),
        ));
        fix.labels
            .push("the child is gone or names this parent now");
    } else {
        fix.check_absent(child.as_str(), child.as_str(), "the child exists again")?;
    }
    if parent_exists {
        fix.decrement(parent, attr::CHILD_COUNT, "the parent is gone")?;
    } else {
        fix.check_absent(parent.as_str(), parent.as_str(), "the parent exists again")?;
    }
    Ok(fix.send(parent.as_str()).await?.map(|()| {
        let why = if child_exists {
            format!("the child {child} names another parent")
        } else {
            format!("the child {child} is missing")
        };
        if parent_exists {
            *applied
                .entry((parent.clone(), attr::CHILD_COUNT))
                .or_default() += 1;
            format!(
                "deleted ParentChildRelationship {parent} / {sk} ({why}) and decremented the parent's {}",
                attr::CHILD_COUNT
            )
        } else {
            format!("deleted ParentChildRelationship {parent} / {sk} ({why}, the parent is missing)")
        }
    }))
}

/// [`Action::DeleteMembership`]: deletes the record, conditioned on the missing ends still
/// being missing, decrementing the collection's `_memberCount` and removing the collection
/// from the member's sets for the ends that exist.
async fn delete_membership(
    store: &Store,
    collection: &AnyUrn,
    member: &AnyUrn,
    collection_exists: bool,
    member_exists: bool,
    applied: &mut Applied,
) -> Outcome {
    let sk = keys::member_sk(member.as_str());
    let mut fix = Fix::new(store);
    fix.delete_existing(collection.as_str(), &sk, "the record is gone")?;
    let mut did = Vec::new();
    if collection_exists {
        fix.decrement(collection, attr::MEMBER_COUNT, "the collection is gone")?;
        did.push(format!(
            "decremented the collection's {}",
            attr::MEMBER_COUNT
        ));
    } else {
        fix.check_absent(
            collection.as_str(),
            collection.as_str(),
            "the collection exists again",
        )?;
    }
    if member_exists {
        fix.update_sets(
            member,
            writes::leave_collections(vec![collection.to_string()]),
            false,
            "the member is gone",
        )?;
        did.push(format!(
            "removed the collection from the member's {} and {}",
            attr::MEMBER_OF,
            attr::CONVEYING_COLLECTIONS
        ));
    } else {
        fix.check_absent(member.as_str(), member.as_str(), "the member exists again")?;
    }
    let missing = match (collection_exists, member_exists) {
        (true, false) => format!("the member {member} is missing"),
        (false, true) => format!("the collection {collection} is missing"),
        _ => "both ends are missing".to_string(),
    };
    Ok(fix.send(collection.as_str()).await?.map(|()| {
        if collection_exists {
            *applied
                .entry((collection.clone(), attr::MEMBER_COUNT))
                .or_default() += 1;
        }
        let mut line =
            format!("deleted CollectionMembershipRelationship {collection} / {sk} ({missing})");
        if !did.is_empty() {
            line.push_str(" and ");
            line.push_str(&did.join(" and "));
        }
        line
    }))
}

/// [`Action::DeleteMarker`]: deletes the marker, conditioned on its owner being as read and
/// still not listing it.
async fn delete_marker(store: &Store, key: &str, owner: &AnyUrn) -> Outcome {
    let mut fix = Fix::new(store);
    fix.tx.push(Write::delete(key, key).when(owned_by(owner)));
    fix.labels.push("the marker is gone or has another owner");
    fix.check_not_listing(owner, key, "its owner holds it now")?;
    Ok(fix.send(key).await?.map(|()| {
        format!("deleted uniqueness marker {key} (held by nobody; its _ownerUrn was {owner})")
    }))
}

/// [`Action::TransferMarker`]: sets the marker's `_ownerUrn` to the one resource listing it,
/// conditioned on the old owner as read still not listing it.
async fn transfer_marker(store: &Store, key: &str, from: &AnyUrn, to: &AnyUrn) -> Outcome {
    let mut fix = Fix::new(store);
    let set = Expr::new("SET #o = :to")
        .name("#o", attr::OWNER_URN)
        .value(":to", s(to.as_str()));
    fix.tx
        .push(Write::update(key, key, set).when(owned_by(from)));
    fix.labels.push("the marker is gone or has another owner");
    fix.check_listing(
        to,
        key,
        "the new owner no longer lists it, or is being deleted",
    )?;
    fix.check_not_listing(from, key, "the old owner holds it now")?;
    Ok(fix.send(key).await?.map(|()| {
        format!(
            "gave uniqueness marker {key} to {to}, which lists it (its _ownerUrn was {from}, which does not)"
        )
    }))
}

/// [`Action::RestoreMarker`]: puts the marker back for the resource listing it.
async fn restore_marker(store: &Store, key: &str, owner: &AnyUrn, constraint: &str) -> Outcome {
    let item = marker_record(key, owner.as_str(), constraint, &crate::time::now());
    let mut fix = Fix::new(store);
    fix.tx.push(writes::put_marker(item));
    fix.labels.push("the marker exists now");
    fix.check_listing(
        owner,
        key,
        "the owner no longer lists it, or is being deleted",
    )?;
    Ok(fix
        .send(key)
        .await?
        .map(|()| format!("re-created uniqueness marker {key} for {owner}, which lists it")))
}

/// [`Action::FixMembership`]: makes the member's sets agree with the membership record for one
/// collection (`record`: its `_conveysAuthorization`, `None` for no record), conditioned on
/// the record being as read.
async fn fix_membership(
    store: &Store,
    member: &AnyUrn,
    collection: &AnyUrn,
    record: Option<bool>,
) -> Outcome {
    let sk = keys::member_sk(member.as_str());
    let mut fix = Fix::new(store);
    match record {
        Some(conveys) => {
            let same = Expr::new("#cv = :cv")
                .name("#cv", attr::CONVEYS_AUTHORIZATION)
                .value(":cv", AttributeValue::Bool(conveys));
            fix.tx.push(Write::check(
                collection.as_str(),
                &sk,
                writes::exists().and(same),
            ));
            fix.labels.push("the membership record changed");
        }
        None => fix.check_absent(collection.as_str(), &sk, "the membership record changed")?,
    }
    let (mo, conv) = (attr::MEMBER_OF, attr::CONVEYING_COLLECTIONS);
    let c = collection.as_str();
    let (update, done) = match record {
        Some(true) => (
            writes::join_collection(c, true),
            format!("added {collection} to {mo} and {conv}"),
        ),
        Some(false) => (
            writes::join_collection(c, false)
                .merge(Expr::new("DELETE #conv :c").name("#conv", attr::CONVEYING_COLLECTIONS)),
            format!("added {collection} to {mo} and removed it from {conv}"),
        ),
        None => (
            writes::leave_collections(vec![c.to_string()]),
            format!("removed {collection} from {mo} and {conv}"),
        ),
    };
    fix.update_sets(member, update, true, "the member is gone or being deleted")?;
    Ok(fix
        .send(member.as_str())
        .await?
        .map(|()| format!("{done} of {member}, as its membership records say")))
}

/// [`Action::SetCount`]: sets a count to the number of its records, counted afresh, when it
/// is still what the audit read (`expected`: less this run's own decrements).
///
/// The audit's numbers cannot be trusted for this: its Scan may read a partition's records
/// before a create adds one and the resource after (a correct count looks too high), and
/// lowering it to the audit's number would leave it below the truth (write protocol defect
/// 3). So the repair reads the count (strongly consistent), then Queries the records
/// (strongly consistent, the `child#` or `member#` range only, counted page by page), and sets the count to the number found, conditioned on the count it
/// read. Every write that adds or removes a record moves the count in the same transaction,
/// so if the condition holds, no record came or went between the two reads. The audit's
/// `read` and `counted` only say why the repair was planned.
async fn set_count(
    store: &Store,
    urn: &AnyUrn,
    attribute: &'static str,
    expected: Option<i128>,
) -> Outcome {
    let Some(item) = store.get_item(urn.as_str(), urn.as_str()).await? else {
        return Ok(Err("the resource is gone".to_string()));
    };
    let now = item.get(attribute).and_then(|v| v.as_n().ok()).cloned();
    // A count that moved since the audit (less this run's own decrements) is left alone: the
    // fix was planned for another state.
    if now.as_deref().and_then(|v| v.parse::<i128>().ok()) != expected {
        return Ok(Err(format!(
            "changed since the audit: {attribute} is {}",
            now.as_deref().unwrap_or("absent")
        )));
    }
    let prefix = if attribute == attr::CHILD_COUNT {
        CHILD_PREFIX
    } else {
        MEMBER_PREFIX
    };
    // Page by page, keeping only the number: a partition can hold millions of records.
    let mut pages = store.pages(Source::Query(KeyQuery {
        index: None,
        hash: (PK, urn.as_str()),
        prefix: Some((SK, prefix)),
        filter: None,
    }));
    let mut records = 0usize;
    while let Some(page) = pages.next().await? {
        records += page.len();
    }
    if now.as_deref() == Some(records.to_string().as_str()) {
        return Ok(Ok(format!(
            "left {attribute} of {urn} at {records}: it matches its records now"
        )));
    }
    let set = Expr::new("SET #c = :target")
        .name("#c", attribute)
        .value(":target", n(records));
    let expected = match &now {
        None => Expr::new("attribute_not_exists(#c)").name("#c", attribute),
        Some(v) => Expr::new("#c = :expected")
            .name("#c", attribute)
            .value(":expected", AttributeValue::N(v.clone())),
    };
    let mut fix = Fix::new(store);
    fix.tx
        .push(Write::update(urn.as_str(), urn.as_str(), set).when(writes::live().and(expected)));
    fix.labels
        .push("the count changed, the resource is gone, or it is being deleted");
    let from = now.unwrap_or_else(|| "absent".to_string());
    Ok(fix.send(urn.as_str()).await?.map(|()| {
        format!("set {attribute} of {urn} from {from} to {records}, the number of records")
    }))
}

/// The marker is held by `owner`: `_ownerUrn = :owner`.
fn owned_by(owner: &AnyUrn) -> Expr {
    Expr::new("#o = :owner")
        .name("#o", attr::OWNER_URN)
        .value(":owner", s(owner.as_str()))
}
