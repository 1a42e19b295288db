//! ddbrel's side of the encode and decode pair.
//!
//! [`encode`] performs the steps `Store::create_child` takes before sending, with the
//! runtime's public pieces, in the store's order: the clock
//! ([`ddbrel_runtime::time::now`]), the uniqueness markers with their normalization
//! ([`ddbrel_runtime::unique::markers_for`]), the [`ResourceMeta`] ([`ResourceMeta::created`]),
//! and the item ([`created_item`]: the entity's fields with the reserved-name check, the
//! reserved attributes, the write token, and the size and key-length checks). `tests/equivalence.rs` checks that the
//! result has exactly the attributes of the item the store writes.

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
    let meta = ResourceMeta::created(E::SCHEMA_VERSION, now, account, parent, ancestors, &markers);
    let item = created_item(urn, data, &meta)?;
    Ok(item)
}

/// The Resource item for an entity and its meta: the store's own builder.
pub use ddbrel_runtime::store::resource_item;

/// The item a create writes (with its `_writeToken`, checked against the limits): the store's
/// own builder.
pub use ddbrel_runtime::records::resource::created_item;

/// Decodes a Resource item as the store does on every read: [`Stored::from_item`].
pub fn decode<E: Entity>(item: Item) -> Result<Stored<E>> {
    Stored::from_item(item)
}
