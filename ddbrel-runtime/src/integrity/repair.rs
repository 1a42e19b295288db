//! Repair actions: what [`super::repair()`] can do, planned by the checker from what it read,
//! and one function per action building the conditioned transaction that carries it out.
//!
//! Every transaction is built with a [`Fix`], which pairs each condition with a label saying
//! what its failing means ("the record is gone", …): a cancelled fix is reported with the
//! labels of the conditions that failed, and is skipped, never forced.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::codec::{n, s};
use crate::error::Result;
use crate::schema::{
    CHILD_PREFIX, MEMBER_PREFIX, PK, RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, attr,
};
use crate::store::{Store, names};
use crate::urn::AnyUrn;

use super::fix::{ABSENT, Fix, NOT_A_CHILD_OF, values};

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
}

impl Action {
    pub(super) fn describe(&self) -> String {
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
            counted,
        } => set_count(store, urn, attribute, *read, *counted, applied).await,
    }
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
    let sk = format!("{CHILD_PREFIX}{child}");
    let mut fix = Fix::new(store);
    fix.delete_existing(parent.as_str(), &sk, "the record is gone")?;
    if child_exists {
        fix.tx.check(
            store,
            child.as_str(),
            child.as_str(),
            NOT_A_CHILD_OF,
            Some(names(&[
                ("#pk", PK),
                ("#p", attr::PARENT_URN),
                ("#anc", attr::ANCESTORS),
            ])),
            Some(values(&[(":parent", s(parent.as_str()))])),
        )?;
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
    let sk = format!("{MEMBER_PREFIX}{member}");
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
            collection,
            "DELETE #mo :c, #conv :c",
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
    fix.tx.delete(
        store,
        key,
        key,
        Some("#o = :owner"),
        Some(names(&[("#o", attr::OWNER_URN)])),
        Some(values(&[(":owner", s(owner.as_str()))])),
    )?;
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
    fix.tx.update(
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
    let mut fix = Fix::new(store);
    fix.tx
        .put(store, item, Some(ABSENT), Some(names(&[("#pk", PK)])), None)?;
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
    let sk = format!("{MEMBER_PREFIX}{member}");
    let mut fix = Fix::new(store);
    match record {
        Some(conveys) => {
            fix.tx.check(
                store,
                collection.as_str(),
                &sk,
                "attribute_exists(#pk) AND #cv = :cv",
                Some(names(&[("#pk", PK), ("#cv", attr::CONVEYS_AUTHORIZATION)])),
                Some(values(&[(":cv", AttributeValue::Bool(conveys))])),
            )?;
            fix.labels.push("the membership record changed");
        }
        None => fix.check_absent(collection.as_str(), &sk, "the membership record changed")?,
    }
    let (mo, conv) = (attr::MEMBER_OF, attr::CONVEYING_COLLECTIONS);
    let (expr, done) = match record {
        Some(true) => (
            "ADD #mo :c, #conv :c",
            format!("added {collection} to {mo} and {conv}"),
        ),
        Some(false) => (
            "ADD #mo :c DELETE #conv :c",
            format!("added {collection} to {mo} and removed it from {conv}"),
        ),
        None => (
            "DELETE #mo :c, #conv :c",
            format!("removed {collection} from {mo} and {conv}"),
        ),
    };
    fix.update_sets(
        member,
        collection,
        expr,
        true,
        "the member is gone or being deleted",
    )?;
    Ok(fix
        .send(member.as_str())
        .await?
        .map(|()| format!("{done} of {member}, as its membership records say")))
}

/// [`Action::SetCount`]: sets a count to the number of records, less the decrements this run
/// already applied, conditioned on the value read (less the same decrements).
async fn set_count(
    store: &Store,
    urn: &AnyUrn,
    attribute: &'static str,
    read: Option<i128>,
    counted: i128,
    applied: &Applied,
) -> Outcome {
    let d = applied.get(&(urn.clone(), attribute)).copied().unwrap_or(0);
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
    let mut fix = Fix::new(store);
    fix.tx.update(
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
    fix.labels
        .push("the count changed, the resource is gone, or it is being deleted");
    let from = match read {
        None if d == 0 => "absent".to_string(),
        r => r.unwrap_or(0).saturating_sub(d).to_string(),
    };
    Ok(fix.send(urn.as_str()).await?.map(|()| {
        format!("set {attribute} of {urn} from {from} to {target}, the number of records")
    }))
}
