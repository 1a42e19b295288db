//! The Resource record (SCHEMA.md §5.1): an entity's own item. Encoding and decoding side by
//! side; nothing here panics on what the table holds.

use std::ops::{Deref, DerefMut};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::time::Timestamp;

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::attrs::*;
use crate::records::marker::Marker;
use crate::schema::{GSI1PK, GSI1SK, PK, RecordType, SK, attr, keys};
use crate::time;
use crate::urn::{AnyUrn, Urn};

/// What the store keeps about a resource besides the entity's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMeta {
    /// `_version`: 1 at creation, +1 per update.
    pub version: u64,
    /// `_schemaVersion` as read (before any migration on read).
    pub schema_version: u32,
    /// `_createdAt`.
    pub created_at: Timestamp,
    /// `_updatedAt`.
    pub updated_at: Timestamp,
    /// `_accountUrn`, for account-scoped types.
    pub account: Option<AnyUrn>,
    /// `_parentUrn`, for types with a parent.
    pub parent: Option<AnyUrn>,
    /// `_ancestors`: root first, parent last; empty for roots.
    pub ancestors: Vec<AnyUrn>,
    /// `_uniqueKeys`: the uniqueness markers this resource holds.
    pub unique_keys: Vec<String>,
    /// `_memberOf`: collections holding this resource.
    pub member_of: Vec<AnyUrn>,
    /// `_conveyingCollections`: those whose membership conveys authorization.
    pub conveying_collections: Vec<AnyUrn>,
    /// `_childCount`.
    pub child_count: u64,
    /// `_memberCount`.
    pub member_count: u64,
    /// `_deleting`: set while a cascading delete is under way.
    pub deleting: Option<Timestamp>,
}
/// Decodes the reserved attributes of a Resource item.
pub fn decode_meta(item: &Item) -> Result<(AnyUrn, String, ResourceMeta)> {
    let t = record_type(item)?;
    if t != RecordType::Resource {
        return Err(Error::invalid_item(
            key_of(item),
            format!("_type is {}, not Resource", t.as_str()),
        ));
    }
    let pk = get_s(item, PK)?;
    let sk = get_s(item, SK)?;
    if pk != sk {
        return Err(Error::invalid_item(
            key_of(item),
            "a Resource record has PK = SK = its URN",
        ));
    }
    let urn = AnyUrn::parse(pk)
        .map_err(|e| Error::invalid_item(key_of(item), format!("PK is not a URN: {e}")))?;
    let resource_type = get_s(item, attr::RESOURCE_TYPE)?.to_string();
    if resource_type != urn.resource_type() {
        return Err(Error::invalid_item(
            key_of(item),
            format!("_resourceType {resource_type} differs from the URN's type"),
        ));
    }
    let schema_version = get_u64(item, attr::SCHEMA_VERSION)?;
    let schema_version = u32::try_from(schema_version)
        .map_err(|_| Error::invalid_item(key_of(item), "_schemaVersion is out of range"))?;
    let version = get_u64(item, attr::VERSION)?;
    if version == 0 {
        return Err(Error::invalid_item(
            key_of(item),
            "_version is 0; versions start at 1",
        ));
    }
    let meta = ResourceMeta {
        version,
        schema_version,
        created_at: get_ts(item, attr::CREATED_AT)?,
        updated_at: get_ts(item, attr::UPDATED_AT)?,
        account: get_opt_urn(item, attr::ACCOUNT_URN)?,
        parent: get_opt_urn(item, attr::PARENT_URN)?,
        ancestors: get_urn_list(item, attr::ANCESTORS)?,
        unique_keys: {
            let mut v = get_ss(item, attr::UNIQUE_KEYS)?;
            v.sort();
            v
        },
        member_of: get_urn_set(item, attr::MEMBER_OF)?,
        conveying_collections: get_urn_set(item, attr::CONVEYING_COLLECTIONS)?,
        child_count: get_opt_u64(item, attr::CHILD_COUNT)?,
        member_count: get_opt_u64(item, attr::MEMBER_COUNT)?,
        deleting: match item.get(attr::DELETING) {
            None => None,
            Some(_) => Some(get_ts(item, attr::DELETING)?),
        },
    };
    if meta.parent.is_none() && item.contains_key(attr::ANCESTORS) {
        return Err(Error::invalid_item(
            key_of(item),
            "_ancestors is present on a resource without _parentUrn",
        ));
    }
    if meta.parent.is_some() == meta.ancestors.is_empty()
        || meta.ancestors.last() != meta.parent.as_ref()
    {
        return Err(Error::invalid_item(
            key_of(item),
            "_ancestors must end with _parentUrn (and be absent exactly when _parentUrn is)",
        ));
    }
    Ok((urn, resource_type, meta))
}

/// Whether an attribute name belongs to the store (reserved) rather than to the entity.
pub fn is_reserved(name: &str) -> bool {
    name.starts_with('_') || matches!(name, "PK" | "SK" | "GSI1PK" | "GSI1SK")
}

/// Decodes a Resource item into entity `E`: checks the type, refuses newer schema versions,
/// migrates older ones, then decodes the entity's own fields.
pub fn decode<E: Entity>(item: Item) -> Result<(Urn<E>, E, ResourceMeta)> {
    decode_migrating(item).map(|(u, e, m, _)| (u, e, m))
}

/// [`decode`], also returning the entity attributes the item held before an on-read
/// migration (empty when it was current), so that the next write can drop what the migration
/// removed.
pub(crate) fn decode_migrating<E: Entity>(
    mut item: Item,
) -> Result<(Urn<E>, E, ResourceMeta, Vec<String>)> {
    let (any, _, meta) = decode_meta(&item)?;
    let urn: Urn<E> = any.typed().map_err(|e| {
        Error::invalid_item(
            key_of(&item),
            format!("expected a {} resource: {e}", E::RESOURCE_TYPE),
        )
    })?;
    // A Resource's key is its URN (`decode_meta` checked `PK = SK`); errors name it, and only
    // errors pay for the string.
    let key = || urn.to_string();
    if meta.schema_version > E::SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            key: key(),
            found: meta.schema_version,
            supported: E::SCHEMA_VERSION,
        });
    }
    if meta.schema_version == 0 {
        return Err(Error::invalid_item(
            key(),
            "_schemaVersion is 0; versions start at 1",
        ));
    }
    let mut before = Vec::new();
    if meta.schema_version < E::SCHEMA_VERSION {
        before = item.keys().filter(|k| !is_reserved(k)).cloned().collect();
        E::migrate(meta.schema_version, &mut item)?;
    }
    item.retain(|k, _| !is_reserved(k));
    // Through serde_path_to_error, so that the message names the field (and the element or
    // key inside it) that does not decode.
    let item: serde_dynamo::Item = item.into();
    let deserializer = serde_dynamo::Deserializer::from_attribute_value(
        serde_dynamo::AttributeValue::M(item.into()),
    );
    let data: E = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at field `{path}`")
        };
        Error::invalid_item(
            key(),
            format!("does not decode as {}{at}: {inner}", E::RESOURCE_TYPE),
        )
    })?;
    Ok((urn, data, meta, before))
}

/// Encodes an entity's own fields, refusing reserved attribute names.
pub fn encode_fields<E: Entity>(urn: &str, data: &E) -> Result<Item> {
    let item: Item = serde_dynamo::to_item(data).map_err(|e| Error::Encode {
        what: urn.to_string(),
        reason: e.to_string(),
    })?;
    if let Some(name) = item.keys().find(|k| is_reserved(k)) {
        return Err(Error::Encode {
            what: urn.to_string(),
            reason: format!(
                "field {name:?} uses a reserved attribute name (names starting with `_`, PK, SK, GSI1PK, GSI1SK)"
            ),
        });
    }
    Ok(item)
}

impl ResourceMeta {
    /// The meta of a resource created at `now`: version 1 at `schema_version`, placed under
    /// `account`, `parent` and `ancestors`, holding `markers` (as `Store::create_child` builds
    /// it; for tools that write items themselves).
    pub fn created(
        schema_version: u32,
        now: Timestamp,
        account: Option<AnyUrn>,
        parent: Option<AnyUrn>,
        ancestors: Vec<AnyUrn>,
        markers: &[Marker],
    ) -> ResourceMeta {
        let mut unique_keys: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
        unique_keys.sort();
        ResourceMeta {
            version: 1,
            schema_version,
            created_at: now,
            updated_at: now,
            account,
            parent,
            ancestors,
            unique_keys,
            member_of: Vec::new(),
            conveying_collections: Vec::new(),
            child_count: 0,
            member_count: 0,
            deleting: None,
        }
    }
}

/// The item a create writes: [`resource_item`] with a fresh `_writeToken` (only this create
/// writes it, so an earlier attempt of it that landed is recognized by it), checked against
/// DynamoDB's item size limit. Its key attributes (`PK`, `SK`, `_accountUrn`) are URNs, at
/// most 1013 bytes by their grammar, within the key limits.
pub fn created_item<E: Entity>(urn: &Urn<E>, data: &E, meta: &ResourceMeta) -> Result<Item> {
    let mut item = resource_item(urn, data, meta)?;
    item.insert(attr::WRITE_TOKEN.into(), s(write_token()));
    crate::records::size::check_size(&item)?;
    Ok(item)
}

/// The Resource item for an entity: reserved attributes per SCHEMA.md plus its fields, as the
/// store writes it (for tools that write items themselves, such as imports and benchmarks),
/// with the bookkeeping `meta` carries (`_memberOf`, `_conveyingCollections`, the counts, the
/// fence), so that the size checked before an update is the size the item will have.
pub fn resource_item<E: Entity>(urn: &Urn<E>, data: &E, meta: &ResourceMeta) -> Result<Item> {
    let mut item = encode_fields(urn.as_str(), data)?;
    let u = urn.as_str();
    item.insert(PK.into(), s(u));
    item.insert(SK.into(), s(u));
    item.insert(attr::TYPE.into(), s(RecordType::Resource.as_str()));
    item.insert(attr::SCHEMA_VERSION.into(), n(meta.schema_version));
    let created = time::format(meta.created_at);
    let updated = if meta.updated_at == meta.created_at {
        created.clone()
    } else {
        time::format(meta.updated_at)
    };
    item.insert(attr::CREATED_AT.into(), s(created));
    item.insert(attr::UPDATED_AT.into(), s(updated));
    item.insert(attr::RESOURCE_TYPE.into(), s(E::RESOURCE_TYPE));
    item.insert(attr::VERSION.into(), n(meta.version));
    if let Some(a) = &meta.account {
        item.insert(attr::ACCOUNT_URN.into(), s(a.as_str()));
    }
    if meta.parent.is_none() {
        // A root is listed in the InvertedIndex, in its type's shard (section 5.1).
        let listing = keys::root_listing_pk(urn.as_any().type_prefix(), u);
        item.insert(GSI1PK.into(), s(listing));
        item.insert(GSI1SK.into(), s(u));
    }
    if let Some(p) = &meta.parent {
        item.insert(attr::PARENT_URN.into(), s(p.as_str()));
        item.insert(
            attr::ANCESTORS.into(),
            AttributeValue::L(meta.ancestors.iter().map(|a| s(a.as_str())).collect()),
        );
    }
    for (name, set) in [
        (attr::UNIQUE_KEYS, meta.unique_keys.clone()),
        (attr::MEMBER_OF, urn_texts(&meta.member_of)),
        (
            attr::CONVEYING_COLLECTIONS,
            urn_texts(&meta.conveying_collections),
        ),
    ] {
        if !set.is_empty() {
            item.insert(name.into(), AttributeValue::Ss(set));
        }
    }
    for (name, count) in [
        (attr::CHILD_COUNT, meta.child_count),
        (attr::MEMBER_COUNT, meta.member_count),
    ] {
        if count > 0 {
            item.insert(name.into(), n(count));
        }
    }
    if let Some(at) = meta.deleting {
        item.insert(attr::DELETING.into(), s(time::format(at)));
    }
    Ok(item)
}

fn urn_texts(urns: &[AnyUrn]) -> Vec<String> {
    urns.iter().map(|u| u.to_string()).collect()
}

/// A resource as stored: its URN, its data and the reserved attributes the store maintains.
/// Derefs to the data, so `job.name` reads a field; change fields through `job.data` (or
/// `DerefMut`) and pass the whole to [`Store::update`](crate::Store::update).
#[derive(Debug, Clone)]
pub struct Stored<E> {
    /// The resource's URN.
    pub urn: Urn<E>,
    /// The entity's own fields.
    pub data: E,
    /// What the store keeps besides: version, timestamps, account, parent, ancestors, ...
    pub meta: ResourceMeta,
    /// Entity attributes the item held before it was migrated on read (empty when it was
    /// current); the next update removes those the migration dropped.
    pub(crate) pre_migration: Vec<String>,
}

impl<E: Entity> Stored<E> {
    /// Decodes a Resource item (see [`crate::records::resource::decode`]).
    pub fn from_item(item: Item) -> Result<Self> {
        let (urn, data, meta, pre_migration) = decode_migrating::<E>(item)?;
        Ok(Stored {
            urn,
            data,
            meta,
            pre_migration,
        })
    }
}

impl<E> Stored<E> {
    /// `_version`.
    pub fn version(&self) -> u64 {
        self.meta.version
    }
}

impl<E> Deref for Stored<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.data
    }
}

impl<E> DerefMut for Stored<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.data
    }
}

/// A fresh `_writeToken`: UUIDv7 carries 74 random bits and, within a process, a counter, so
/// no two writes share one.
pub(crate) fn write_token() -> String {
    uuid::Uuid::now_v7().to_string()
}
