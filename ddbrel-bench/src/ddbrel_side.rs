//! ddbrel's side of the encode and decode pair.
//!
//! [`encode`] performs the steps `Store::create_child` takes before sending, with the
//! runtime's public pieces, in the store's order: the clock
//! ([`ddbrel_runtime::time::now`]), the uniqueness markers with their normalization
//! ([`ddbrel_runtime::unique::markers_for`]), the [`ResourceMeta`], the entity's fields with
//! the reserved-name check ([`codec::encode_fields`]), the reserved attributes, and the size
//! and key-length checks ([`codec::check_limits`]). `tests/equivalence.rs` checks that the
//! result has exactly the attributes of the item the store writes.

use ddbrel_runtime::codec;
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
    let mut item = resource_item(urn, data, &meta)?;
    // The create's own `_writeToken` (SCHEMA.md §5.1), as the store adds it.
    item.insert(
        ddbrel_runtime::schema::attr::WRITE_TOKEN.into(),
        codec::s(uuid::Uuid::now_v7().to_string()),
    );
    codec::check_limits(&item)?;
    Ok(item)
}

/// The Resource item for an entity and its meta: the store's own builder.
pub use ddbrel_runtime::store::resource_item;

/// Decodes a Resource item as the store does on every read: [`Stored::from_item`].
pub fn decode<E: Entity>(item: Item) -> Result<Stored<E>> {
    Stored::from_item(item)
}
