//! From a [`StreamRecord`] to a [`Change`]: which record type the images hold, each image
//! decoded by its record's own decoder (`records/`), and a resource write classified by what
//! changed between the images.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::error::{Error, Result};
use crate::records::any_resource::AnyStored;
use crate::records::attrs::{get_s, get_ts, get_u64, get_urn, key_of};
use crate::records::marker::split_key;
use crate::records::membership::{Membership, membership_of};
use crate::records::resource::is_reserved;
use crate::records::type_schema::{TYPE_SCHEMA_VERSION, decode_type_schema};
use crate::schema::{PK, RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, attr, keys};
use crate::stream::change::{
    Change, EdgeChangeKind, ForeignChange, MarkerChange, MarkerChangeKind, MembershipChange,
    MembershipChangeKind, ParentChildChange, ResourceChange, ResourceChangeKind, TypeSchemaChange,
};
use crate::stream::record::{StreamEvent, StreamRecord, invalid};
use crate::urn::AnyUrn;

/// The images of a record as its event requires them, checked against its key.
pub(super) struct Images<'a> {
    pub(super) event: StreamEvent,
    pub(super) old: Option<&'a Item>,
    pub(super) new: Option<&'a Item>,
    /// The new image, or the old one for a `REMOVE`.
    current: &'a Item,
}

impl<'a> Images<'a> {
    pub(super) fn of(record: &'a StreamRecord) -> Result<Images<'a>> {
        let at = record.key_text();
        for name in [PK, SK] {
            if !matches!(record.keys.get(name), Some(AttributeValue::S(_))) {
                return Err(invalid(&at, format!("Keys lacks {name} (S)")));
            }
        }
        let (old, new) = (record.old_image.as_ref(), record.new_image.as_ref());
        let (needs_old, needs_new) = match record.event {
            StreamEvent::Insert => (false, true),
            StreamEvent::Modify => (true, true),
            StreamEvent::Remove => (true, false),
        };
        for (name, needed, image) in [("OldImage", needs_old, old), ("NewImage", needs_new, new)] {
            match (needed, image) {
                (true, None) => {
                    return Err(invalid(
                        &at,
                        format!(
                            "{} without {name}: decoding needs the stream view type NEW_AND_OLD_IMAGES",
                            record.event.as_str()
                        ),
                    ));
                }
                (false, Some(_)) => {
                    return Err(invalid(
                        &at,
                        format!("{} with {name}", record.event.as_str()),
                    ));
                }
                (_, Some(item)) => {
                    for key in [PK, SK] {
                        if item.get(key) != record.keys.get(key) {
                            return Err(invalid(&at, format!("{name}'s {key} differs from Keys")));
                        }
                    }
                }
                (false, None) => {}
            }
        }
        let Some(current) = new.or(old) else {
            return Err(invalid(&at, "a record without images"));
        };
        Ok(Images {
            event: record.event,
            old,
            new,
            current,
        })
    }
}

/// What the images hold: a ddbrel record type, or a foreign item.
#[derive(Debug, PartialEq)]
enum Kind {
    Known(RecordType),
    Foreign(Option<String>),
}

fn kind_of(item: &Item) -> Result<Kind> {
    match item.get(attr::TYPE) {
        None => Ok(Kind::Foreign(None)),
        Some(AttributeValue::S(t)) => Ok(RecordType::parse(t)
            .map(Kind::Known)
            .unwrap_or_else(|| Kind::Foreign(Some(t.clone())))),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {} is not a string (S)", attr::TYPE),
        )),
    }
}

pub(super) fn decode(record: &StreamRecord) -> Result<Change> {
    let images = Images::of(record)?;
    let kind = kind_of(images.current)?;
    if let Some(old) = images.old {
        let before = kind_of(old)?;
        let both_foreign = matches!((&before, &kind), (Kind::Foreign(_), Kind::Foreign(_)));
        if before != kind && !both_foreign {
            return Err(Error::invalid_item(
                key_of(old),
                format!(
                    "{} changed from {} to {}",
                    attr::TYPE,
                    describe(&before),
                    describe(&kind)
                ),
            ));
        }
    }
    Ok(match kind {
        Kind::Foreign(record_type) => Change::Foreign(ForeignChange {
            event: images.event,
            keys: record.keys.clone(),
            record_type,
        }),
        Kind::Known(RecordType::Resource) => Change::Resource(Box::new(resource(&images)?)),
        Kind::Known(RecordType::ParentChildRelationship) => {
            Change::ParentChild(parent_child(&images)?)
        }
        Kind::Known(RecordType::CollectionMembershipRelationship) => {
            Change::Membership(membership(&images)?)
        }
        Kind::Known(RecordType::UniqueKeyValue) => Change::Marker(marker(&images)?),
        Kind::Known(RecordType::EntitySchema) => Change::TypeSchema(type_schema(&images)?),
    })
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Known(t) => t.as_str().to_string(),
        Kind::Foreign(Some(t)) => format!("{t:?}"),
        Kind::Foreign(None) => "absent".to_string(),
    }
}

/// Each image, decoded by `f`.
fn both<T>(images: &Images, f: impl Fn(&Item) -> Result<T>) -> Result<(Option<T>, Option<T>)> {
    Ok((
        images.old.map(&f).transpose()?,
        images.new.map(&f).transpose()?,
    ))
}

fn resource(images: &Images) -> Result<ResourceChange> {
    let (old, new) = both(images, |item| AnyStored::from_item(item.clone()))?;
    let (kind, changed) = match (&old, &new) {
        (Some(old), Some(new)) => {
            let changed = changed_attributes(old.item(), new.item());
            let entity = changed.iter().any(|a| {
                !is_reserved(a)
                    || [attr::VERSION, attr::SCHEMA_VERSION, attr::CREATED_AT].contains(&a.as_str())
            });
            let kind = if entity {
                ResourceChangeKind::Updated
            } else {
                ResourceChangeKind::Bookkeeping
            };
            (kind, changed)
        }
        (None, _) => (ResourceChangeKind::Created, Vec::new()),
        (_, None) => (ResourceChangeKind::Deleted, Vec::new()),
    };
    let urn = match new.as_ref().or(old.as_ref()) {
        Some(r) => r.urn.clone(),
        None => unreachable_image(images)?,
    };
    Ok(ResourceChange {
        urn,
        kind,
        old,
        new,
        changed,
    })
}

/// `Images::of` guarantees an image; an error rather than a panic all the same.
fn unreachable_image<T>(images: &Images) -> Result<T> {
    Err(invalid(&key_of(images.current), "a record without images"))
}

/// The attributes whose values differ between two items, sorted.
fn changed_attributes(old: &Item, new: &Item) -> Vec<String> {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .filter(|name| match (old.get(*name), new.get(*name)) {
            (Some(a), Some(b)) => !same_value(a, b),
            _ => true,
        })
        .cloned()
        .collect()
}

/// Value equality with sets compared as sets (a stream may list a set's elements in another
/// order than the item held them).
fn same_value(a: &AttributeValue, b: &AttributeValue) -> bool {
    fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
        let mut v = v.to_vec();
        v.sort();
        v
    }
    fn blobs(v: &[aws_sdk_dynamodb::primitives::Blob]) -> Vec<&[u8]> {
        let mut v: Vec<&[u8]> = v.iter().map(|b| b.as_ref()).collect();
        v.sort();
        v
    }
    match (a, b) {
        (AttributeValue::Ss(x), AttributeValue::Ss(y))
        | (AttributeValue::Ns(x), AttributeValue::Ns(y)) => sorted(x) == sorted(y),
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => blobs(x) == blobs(y),
        (AttributeValue::L(x), AttributeValue::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (AttributeValue::M(x), AttributeValue::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// The common attributes of a record other than a Resource (§4): `_createdAt`, and a
/// `_schemaVersion` from 1 to the version this code reads (newer is `SchemaTooNew`, §12).
fn common(item: &Item, supported: u32) -> Result<()> {
    get_ts(item, attr::CREATED_AT)?;
    let found = get_u64(item, attr::SCHEMA_VERSION)?;
    if found == 0 {
        return Err(Error::invalid_item(
            key_of(item),
            "_schemaVersion is 0; versions start at 1",
        ));
    }
    if found > u64::from(supported) {
        return Err(Error::SchemaTooNew {
            key: key_of(item),
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported,
        });
    }
    Ok(())
}

/// Checks that `PK` and `SK` are the ones the record's attributes imply.
fn keyed_as(item: &Item, pk: &str, sk: &str, rule: &str) -> Result<()> {
    if get_s(item, PK)? != pk || get_s(item, SK)? != sk {
        return Err(Error::invalid_item(key_of(item), rule.to_string()));
    }
    Ok(())
}

fn parent_child(images: &Images) -> Result<ParentChildChange> {
    let edge = |item: &Item| -> Result<(AnyUrn, AnyUrn)> {
        common(item, RELATIONSHIP_SCHEMA_VERSION)?;
        let parent = get_urn(item, attr::PARENT_URN)?;
        let child = get_urn(item, attr::CHILD_URN)?;
        keyed_as(
            item,
            parent.as_str(),
            &keys::child_sk(child.as_str()),
            "a ParentChildRelationship has PK = _parentUrn and SK = child#{_childUrn}",
        )?;
        Ok((parent, child))
    };
    let (old, new) = both(images, edge)?;
    let Some((parent, child)) = new.or(old) else {
        return unreachable_image(images);
    };
    Ok(ParentChildChange {
        parent,
        child,
        kind: match images.event {
            StreamEvent::Insert => EdgeChangeKind::Added,
            StreamEvent::Modify => EdgeChangeKind::Rewritten,
            StreamEvent::Remove => EdgeChangeKind::Removed,
        },
    })
}

fn membership(images: &Images) -> Result<MembershipChange> {
    let decode = |item: &Item| -> Result<Membership> {
        common(item, RELATIONSHIP_SCHEMA_VERSION)?;
        let m = membership_of(item)?;
        keyed_as(
            item,
            m.collection.as_str(),
            &keys::member_sk(m.member.as_str()),
            "a CollectionMembershipRelationship has PK = _collectionUrn and SK = member#{_memberUrn}",
        )?;
        Ok(m)
    };
    let (old, new) = both(images, decode)?;
    let kind = match (&old, &new) {
        (Some(old), Some(_)) => MembershipChangeKind::Changed {
            conveyed_before: old.conveys_authorization,
        },
        (None, _) => MembershipChangeKind::Added,
        (_, None) => MembershipChangeKind::Removed,
    };
    let m = match new.or(old) {
        Some(m) => m,
        None => unreachable_image(images)?,
    };
    Ok(MembershipChange {
        collection: m.collection,
        member: m.member,
        conveys_authorization: m.conveys_authorization,
        kind,
    })
}

fn marker(images: &Images) -> Result<MarkerChange> {
    let decode = |item: &Item| -> Result<MarkerChange> {
        common(item, RELATIONSHIP_SCHEMA_VERSION)?;
        let key = get_s(item, PK)?;
        keyed_as(
            item,
            key,
            key,
            "a UniqueKeyValue record has PK = SK = its key",
        )?;
        let Some((resource_type, constraint, scope, value)) = split_key(key) else {
            return Err(Error::invalid_item(
                key,
                "PK is not a marker key unique#{resourceType}#{constraint}#{scope}#{value}",
            ));
        };
        let stated = get_s(item, attr::CONSTRAINT)?;
        if stated != format!("{resource_type}.{constraint}") {
            return Err(Error::invalid_item(
                key,
                format!(
                    "{} is {stated:?}, but the key is of {resource_type}.{constraint}",
                    attr::CONSTRAINT
                ),
            ));
        }
        Ok(MarkerChange {
            key: key.to_string(),
            resource_type: resource_type.to_string(),
            constraint: constraint.to_string(),
            scope: scope.to_string(),
            value: value.to_string(),
            owner: get_urn(item, attr::OWNER_URN)?,
            kind: MarkerChangeKind::Claimed,
        })
    };
    let (old, new) = both(images, decode)?;
    match (old, new) {
        (Some(old), Some(new)) => Ok(MarkerChange {
            kind: MarkerChangeKind::Moved {
                previous_owner: old.owner,
            },
            ..new
        }),
        (None, Some(new)) => Ok(new),
        (Some(old), None) => Ok(MarkerChange {
            kind: MarkerChangeKind::Released,
            ..old
        }),
        (None, None) => unreachable_image(images),
    }
}

fn type_schema(images: &Images) -> Result<TypeSchemaChange> {
    let (old, new) = both(images, |item| {
        common(item, TYPE_SCHEMA_VERSION)?;
        decode_type_schema(item)
    })?;
    Ok(TypeSchemaChange { old, new })
}
