//! The output of [`super::decode`]: what one stream record says happened, in the contract's
//! terms (SCHEMA.md §5): a resource, a parent-child edge, a membership, a uniqueness marker,
//! a type registration, or an item ddbrel did not write.

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::any_resource::AnyStored;
use crate::records::attrs::key_of;
use crate::records::marker::decode_value;
use crate::records::resource::{ResourceMeta, Stored, is_reserved};
use crate::records::type_schema::TypeSchema;
use crate::schema::attr;
use crate::stream::record::StreamEvent;
use crate::urn::AnyUrn;

/// The attributes of a Resource record whose changes are bookkeeping (SCHEMA.md §5.1): they
/// never increment `_version`.
pub const BOOKKEEPING_ATTRIBUTES: [&str; 6] = [
    attr::MEMBER_OF,
    attr::CONVEYING_COLLECTIONS,
    attr::CHILD_COUNT,
    attr::MEMBER_COUNT,
    attr::DELETING,
    attr::DELETE_CHECKED,
];

/// What one stream record says happened. See [`super::decode`].
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A Resource record (§5.1) was created, changed or deleted (boxed: the two images make
    /// it the largest variant by far).
    Resource(Box<ResourceChange>),
    /// A ParentChildRelationship record (§5.2) was written or deleted: a child was created
    /// or deleted under its parent.
    ParentChild(ParentChildChange),
    /// A CollectionMembershipRelationship record (§5.3) was added, changed or removed.
    Membership(MembershipChange),
    /// A UniqueKeyValue marker (§5.4) was claimed, released or handed to another owner.
    Marker(MarkerChange),
    /// An EntitySchema record (§5.5) of the type registry was written or deleted.
    TypeSchema(TypeSchemaChange),
    /// An item ddbrel did not write: no `_type`, or a `_type` this code does not know (a
    /// newer contract's record type). Not an error; [`Change::known`] makes it one.
    Foreign(ForeignChange),
}

impl Change {
    /// The change, or [`Error::InvalidItem`] naming the key and `_type` when it is a
    /// [`Change::Foreign`] (for consumers that expect only ddbrel's records in the table).
    pub fn known(self) -> Result<Change> {
        match self {
            Change::Foreign(f) => Err(Error::InvalidItem {
                key: key_of(&f.keys),
                reason: match f.record_type {
                    Some(t) => format!("unknown record type _type = {t:?}"),
                    None => format!("missing attribute {}: not a ddbrel record", attr::TYPE),
                },
            }),
            known => Ok(known),
        }
    }

    /// The resource change as entity `E`, old and new image decoded as
    /// [`Stored::from_item`] decodes them: an image written at an older `_schemaVersion` goes
    /// through `E::migrate` first, one at a newer version is [`Error::SchemaTooNew`], one
    /// that does not decode is [`Error::InvalidItem`]. `Ok(None)` when the change is not of
    /// a Resource of type `E`.
    pub fn resource<E: Entity>(&self) -> Result<Option<ResourceChange<Stored<E>>>> {
        match self {
            Change::Resource(r) => r.typed::<E>(),
            _ => Ok(None),
        }
    }
}

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceChangeKind {
    /// The resource was created (`INSERT`).
    Created,
    /// The entity changed (`MODIFY`): `_version` went up, as every update, patch and
    /// eager-migration rewrite does (§5.1). A write that changed an entity field, the
    /// `_schemaVersion` or `_createdAt` without moving `_version` (another writer than the
    /// store, e.g. an import) is classified here too, so that an entity change is never
    /// mistaken for bookkeeping.
    Updated,
    /// Only bookkeeping changed (`MODIFY` with `_version`, `_schemaVersion`, `_createdAt`
    /// and every entity field unchanged): counts, `_memberOf`, `_conveyingCollections`, the
    /// deletion fence `_deleting` (see [`BOOKKEEPING_ATTRIBUTES`] and
    /// [`ResourceChange::changed`]). A write that changed nothing at all, which DynamoDB
    /// does not stream but other engines may, lands here with `changed` empty.
    Bookkeeping,
    /// The resource was deleted (`REMOVE`).
    Deleted,
}

/// A change of a Resource record. `R` is how the images are decoded: [`AnyStored`] (URN
/// and meta decoded, fields raw) from [`super::decode`], [`Stored<E>`] from
/// [`Change::resource`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange<R = AnyStored> {
    /// The resource.
    pub urn: AnyUrn,
    /// What happened.
    pub kind: ResourceChangeKind,
    /// The resource before (`Updated`, `Bookkeeping`, `Deleted`).
    pub old: Option<R>,
    /// The resource after (`Created`, `Updated`, `Bookkeeping`).
    pub new: Option<R>,
    /// For a `MODIFY`, the attributes (entity fields and reserved ones) whose values differ
    /// between the images, sorted; sets are compared as sets. Empty for `Created` and
    /// `Deleted`.
    pub changed: Vec<String>,
}

impl<R> ResourceChange<R> {
    /// Whether the entity changed: created, updated or deleted, as opposed to bookkeeping.
    pub fn entity_changed(&self) -> bool {
        self.kind != ResourceChangeKind::Bookkeeping
    }

    /// The entity fields (non-reserved attributes) whose values differ between the images.
    pub fn fields_changed(&self) -> impl Iterator<Item = &str> {
        self.changed
            .iter()
            .map(String::as_str)
            .filter(|a| !is_reserved(a))
    }

    /// The bookkeeping attributes ([`BOOKKEEPING_ATTRIBUTES`]) whose values differ between
    /// the images.
    pub fn bookkeeping_changed(&self) -> impl Iterator<Item = &str> {
        self.changed
            .iter()
            .map(String::as_str)
            .filter(|a| BOOKKEEPING_ATTRIBUTES.contains(a))
    }
}

impl ResourceChange {
    /// The change as entity `E` (see [`Change::resource`]); `Ok(None)` when the resource is
    /// of another type.
    pub fn typed<E: Entity>(&self) -> Result<Option<ResourceChange<Stored<E>>>> {
        let image = self.new.as_ref().or(self.old.as_ref());
        if !image.is_some_and(AnyStored::is::<E>) {
            return Ok(None);
        }
        let decode = |image: &Option<AnyStored>| -> Result<Option<Stored<E>>> {
            image.as_ref().and_then(AnyStored::decode::<E>).transpose()
        };
        Ok(Some(ResourceChange {
            urn: self.urn.clone(),
            kind: self.kind,
            old: decode(&self.old)?,
            new: decode(&self.new)?,
            changed: self.changed.clone(),
        }))
    }
}

impl<R: ResourceImage> ResourceChange<R> {
    /// Whether this write set the deletion fence (`_deleting`, §7): a cascading delete has
    /// reached the resource. A bookkeeping change.
    pub fn fence_set(&self) -> bool {
        self.fence_before() == Some(false) && self.fence_after() == Some(true)
    }

    /// Whether this write removed the deletion fence from a resource that still exists (the
    /// store's operations never do; a restore or a hand-made repair can).
    pub fn fence_cleared(&self) -> bool {
        self.fence_before() == Some(true) && self.fence_after() == Some(false)
    }

    fn fence_before(&self) -> Option<bool> {
        self.old.as_ref().map(|r| r.meta().deleting.is_some())
    }

    fn fence_after(&self) -> Option<bool> {
        self.new.as_ref().map(|r| r.meta().deleting.is_some())
    }
}

/// An image of a resource as a [`ResourceChange`] holds it: [`AnyStored`] or [`Stored<E>`].
pub trait ResourceImage {
    /// The reserved attributes as read.
    fn meta(&self) -> &ResourceMeta;
}

impl ResourceImage for AnyStored {
    fn meta(&self) -> &ResourceMeta {
        &self.meta
    }
}

impl<E> ResourceImage for Stored<E> {
    fn meta(&self) -> &ResourceMeta {
        &self.meta
    }
}

/// What happened to a ParentChildRelationship record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeChangeKind {
    /// Written (`INSERT`): the child was created.
    Added,
    /// Deleted (`REMOVE`): the child was deleted.
    Removed,
    /// Written over itself (`MODIFY`). The store never updates these records (§5.2); an
    /// import or another writer did.
    Rewritten,
}

/// A change of a ParentChildRelationship record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentChildChange {
    /// The parent.
    pub parent: AnyUrn,
    /// The child.
    pub child: AnyUrn,
    /// What happened.
    pub kind: EdgeChangeKind,
}

/// What happened to a CollectionMembershipRelationship record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipChangeKind {
    /// The member was added to the collection (`INSERT`).
    Added,
    /// The member was removed from the collection (`REMOVE`).
    Removed,
    /// The membership was written again (`MODIFY`): re-adding with another choice of
    /// whether it conveys authorization changes `_conveysAuthorization` in place.
    Changed {
        /// `_conveysAuthorization` before.
        conveyed_before: bool,
    },
}

/// A change of a CollectionMembershipRelationship record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipChange {
    /// The collection.
    pub collection: AnyUrn,
    /// The member.
    pub member: AnyUrn,
    /// `_conveysAuthorization`: whether grants on the collection apply to the member (§8);
    /// after the write, or as it was for `Removed`.
    pub conveys_authorization: bool,
    /// What happened.
    pub kind: MembershipChangeKind,
}

/// What happened to a UniqueKeyValue marker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MarkerChangeKind {
    /// The value was claimed (`INSERT`): a create, or an update that changed a unique value.
    Claimed,
    /// The value was released (`REMOVE`): a delete, or an update that changed the value.
    Released,
    /// The marker was written over (`MODIFY`). The store's operations never do this (a claim
    /// requires the marker to be absent, §5.4, so a value moving between resources is a
    /// `Released` and a `Claimed`); `ddbrel check --repair` does when it hands a marker to
    /// the one resource that lists it, and so can an import. `previous_owner` may equal
    /// the owner.
    Moved {
        /// `_ownerUrn` before.
        previous_owner: AnyUrn,
    },
}

/// A change of a UniqueKeyValue marker, its key split as SCHEMA.md §6 builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerChange {
    /// The marker's key (`PK` = `SK`).
    pub key: String,
    /// The constrained resource type.
    pub resource_type: String,
    /// The constraint's name.
    pub constraint: String,
    /// `global`, or the URN of the account or parent the value is unique within.
    pub scope: String,
    /// The value as the key encodes it (normalized, escaped, parts joined with `#`).
    pub value: String,
    /// `_ownerUrn`: the resource holding the value (after the write, or as it was for
    /// `Released`).
    pub owner: AnyUrn,
    /// What happened.
    pub kind: MarkerChangeKind,
}

impl MarkerChange {
    /// The value's parts, unescaped (as normalized: lowercased for a case-insensitive
    /// constraint).
    pub fn parts(&self) -> Vec<String> {
        decode_value(&self.value)
    }
}

/// A change of an EntitySchema record: a type registered (`old` is `None`), its declaration
/// replaced, or the record deleted (`new` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSchemaChange {
    /// The declaration before.
    pub old: Option<TypeSchema>,
    /// The declaration after.
    pub new: Option<TypeSchema>,
}

/// A change of an item ddbrel did not write.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignChange {
    /// What happened to the item.
    pub event: StreamEvent,
    /// The item's key.
    pub keys: Item,
    /// `_type`, when the item has one this code does not know.
    pub record_type: Option<String>,
}
