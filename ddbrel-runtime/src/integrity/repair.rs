//! Repair actions: what [`super::repair`] can do, planned by the checker from what it read, and
//! the conditioned transactions that carry them out.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::codec::{n, s};
use crate::error::Result;
use crate::schema::{
    CHILD_PREFIX, MEMBER_PREFIX, PK, RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, attr,
};
use crate::store::{Store, names};
use crate::tx::{Tx, TxOutcome};
use crate::urn::AnyUrn;

/// A fix, planned by the checker from what it read. The variants are declared in the order
/// [`repair`] applies them (the derived `Ord` sorts by variant first).
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

/// Sends a transaction; `Ok(Err(why))` when it was cancelled, `why` naming the conditions that
/// failed (`labels[i]` for action `i`).
pub(super) async fn send(
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

pub(super) fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Applies one fix. `Ok(Ok(line))`: done, `line` says what; `Ok(Err(why))`: skipped.
pub(super) async fn apply(
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
