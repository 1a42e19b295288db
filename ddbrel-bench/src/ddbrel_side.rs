//! ddbrel's side of the encode and decode pair.
//!
//! The store builds a Resource item in a crate-private function. [`encode`] performs the same
//! steps with the runtime's public pieces, in the store's order: the clock
//! ([`ddbrel_runtime::time::now`]), the uniqueness markers with their normalization
//! ([`ddbrel_runtime::unique::markers_for`]), the [`ResourceMeta`], the entity's fields with
//! the reserved-name check ([`codec::encode_fields`]), the reserved attributes, and the size
//! and key-length checks ([`codec::check_limits`]). `tests/equivalence.rs` checks that the
//! result has exactly the attributes of the item the store writes.

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::codec::{self, n, s};
use ddbrel_runtime::schema::{PK, RecordType, SK, attr};
use ddbrel_runtime::{AnyUrn, Entity, Item, ResourceMeta, Result, Stored, Urn, time, unique};

/// Encodes `data` as the Resource item the store writes when it creates a child with this
/// URN under a parent placed at `account` / `parent` / `parent_ancestors` (as
/// `Store::create_child` does: the account and ancestors are derived from the parent's).
pub fn encode<E: Entity>(
    urn: &Urn<E>,
    data: &E,
    account: Option<&AnyUrn>,
    parent: Option<&AnyUrn>,
    parent_ancestors: &[AnyUrn],
) -> Result<Item> {
    let account = account.cloned();
    let parent = parent.cloned();
    let mut ancestors = parent_ancestors.to_vec();
    if let Some(p) = &parent {
        ancestors.push(p.clone());
    }
    let now = time::now();
    let markers = unique::markers_for(data, account.as_ref(), parent.as_ref())?;
    let meta = ResourceMeta {
        version: 1,
        schema_version: E::SCHEMA_VERSION,
        created_at: now,
        updated_at: now,
        account,
        parent,
        ancestors,
        unique_keys: {
            let mut v: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
            v.sort();
            v
        },
        member_of: Vec::new(),
        conveying_collections: Vec::new(),
        child_count: 0,
        member_count: 0,
        deleting: None,
    };
    let item = resource_item(urn, data, &meta)?;
    codec::check_limits(&item)?;
    Ok(item)
}

/// The Resource item for an entity and its meta, attribute for attribute as the store's own
/// (crate-private) builder writes it.
pub fn resource_item<E: Entity>(urn: &Urn<E>, data: &E, meta: &ResourceMeta) -> Result<Item> {
    let mut item = codec::encode_fields(urn.as_str(), data)?;
    let u = urn.as_str();
    item.insert(PK.into(), s(u));
    item.insert(SK.into(), s(u));
    item.insert(attr::TYPE.into(), s(RecordType::Resource.as_str()));
    item.insert(attr::SCHEMA_VERSION.into(), n(meta.schema_version));
    item.insert(attr::CREATED_AT.into(), s(time::format(meta.created_at)));
    item.insert(attr::UPDATED_AT.into(), s(time::format(meta.updated_at)));
    item.insert(attr::RESOURCE_TYPE.into(), s(E::RESOURCE_TYPE));
    item.insert(attr::VERSION.into(), n(meta.version));
    if let Some(a) = &meta.account {
        item.insert(attr::ACCOUNT_URN.into(), s(a.as_str()));
    }
    if let Some(p) = &meta.parent {
        item.insert(attr::PARENT_URN.into(), s(p.as_str()));
        item.insert(
            attr::ANCESTORS.into(),
            AttributeValue::L(meta.ancestors.iter().map(|a| s(a.as_str())).collect()),
        );
    }
    if !meta.unique_keys.is_empty() {
        item.insert(
            attr::UNIQUE_KEYS.into(),
            AttributeValue::Ss(meta.unique_keys.clone()),
        );
    }
    Ok(item)
}

/// Decodes a Resource item as the store does on every read: [`Stored::from_item`].
pub fn decode<E: Entity>(item: Item) -> Result<Stored<E>> {
    Stored::from_item(item)
}
