//! The store handle and the resource as stored: re-exports of [`crate::wire::store`] and
//! [`crate::records::resource`], kept at their first paths. The operations are `impl Store`
//! blocks in `ops/`.

pub use crate::records::resource::{Stored, resource_item};
pub use crate::wire::store::{DEFAULT_TABLE, Store, local_config_builder};
