//! A Resource record of a type known only at run time (a page of mixed types: ancestors,
//! collections, an account's resources): its URN and meta decoded, its fields kept raw until
//! the caller dispatches on the type with [`AnyStored::decode`].

use crate::Item;
use crate::entity::Entity;
use crate::error::Result;
use crate::records::resource::{ResourceMeta, Stored, decode_meta};
use crate::urn::AnyUrn;

/// A resource of any type: URN, meta, and the raw item.
///
/// ```
/// # use ddbrel_runtime::{AnyStored, Entity, Stored};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize, Entity)]
/// # #[urn(type = "Docs.Folder")]
/// # pub struct Folder { pub name: String }
/// # #[derive(Serialize, Deserialize, Entity)]
/// # #[urn(type = "Docs.Folder.Doc")]
/// # #[parent(Folder)]
/// # pub struct Doc { pub title: String }
/// fn describe(r: &AnyStored) -> ddbrel_runtime::Result<String> {
///     if let Some(folder) = r.decode::<Folder>() {
///         return Ok(format!("folder {}", folder?.data.name));
///     }
///     if let Some(doc) = r.decode::<Doc>() {
///         return Ok(format!("doc {}", doc?.data.title));
///     }
///     Ok(format!("a {}", r.resource_type()))
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AnyStored {
    /// The resource's URN.
    pub urn: AnyUrn,
    /// What the store keeps besides the entity's fields.
    pub meta: ResourceMeta,
    item: Item,
}

impl AnyStored {
    /// Decodes a Resource item's URN and meta; the fields stay raw.
    pub fn from_item(item: Item) -> Result<AnyStored> {
        let (urn, _, meta) = decode_meta(&item)?;
        Ok(AnyStored { urn, meta, item })
    }

    /// The URN's resource type.
    pub fn resource_type(&self) -> &str {
        self.urn.resource_type()
    }

    /// Whether the resource is an `E` (same domain and resource type).
    pub fn is<E: Entity>(&self) -> bool {
        self.urn.domain() == E::DOMAIN && self.urn.resource_type() == E::RESOURCE_TYPE
    }

    /// The resource as an `E` (migrated on read as [`Stored::from_item`] does), or `None` when
    /// it is of another type.
    pub fn decode<E: Entity>(&self) -> Option<Result<Stored<E>>> {
        self.is::<E>().then(|| Stored::from_item(self.item.clone()))
    }

    /// The raw item.
    pub fn item(&self) -> &Item {
        &self.item
    }

    /// The raw item, by value.
    pub fn into_item(self) -> Item {
        self.item
    }
}
