//! # ddbrel-runtime
//!
//! Relational entities in a single DynamoDB table: typed URNs and keys, a store with
//! version-checked writes, parent-child trees with cascading delete, n:n collections,
//! uniqueness enforced in transactions, account-scoped queries and schema versioning.
//!
//! The data contract is `specs/SCHEMA.md` in the repository.
//!
//! ```
//! use ddbrel_runtime::{Entity, Error, PageRequest};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
//! #[urn(type = "Docs.Org")]
//! struct Org {
//!     #[unique(case_insensitive)]
//!     slug: String,
//! }
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
//! #[urn(type = "Docs.Org.Project")]
//! #[parent(Org)]
//! #[account_scoped]
//! struct Project {
//!     #[unique(scope = parent)]
//!     name: String,
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // An in-process engine and a table (tests and the CLI use the same).
//! let engine = ddbrel_runtime::embedded::Engine::memory().await?;
//! let store = engine.store("docs").await?;
//!
//! let org = store.create(Org { slug: "acme".into() }).await?;
//! let web = store.create_child(&org, Project { name: "web".into() }).await?;
//! assert_eq!(web.meta.account.as_ref(), Some(org.urn.as_any()));
//!
//! // Uniqueness is enforced in the same transaction, and names what failed.
//! let dup = store.create(Org { slug: "ACME".into() }).await;
//! assert!(matches!(dup, Err(Error::UniqueViolation { .. })));
//! assert!(Org::find_by_slug(&store, "Acme").await?.is_some());
//!
//! let children = store.children::<Project>(&org.urn, PageRequest::all()).await?;
//! assert_eq!(children.items, vec![web.urn.clone()]);
//!
//! // Deleting the org deletes the project, the relationship and both markers.
//! let org = store.get(&org.urn).await?;
//! store.delete(&org).await?;
//! assert!(store.try_get(&web.urn).await?.is_none());
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```
//!
//! # Where things live
//!
//! Five layers; a module imports only from layers above it in this list.
//!
//! | Layer | Modules | What |
//! |---|---|---|
//! | vocabulary | [`time`], [`schema`], [`urn`], [`error`], [`entity`] | timestamps; attribute and index names, every key format ([`schema::keys`]), limits, the table definition; the URN grammar; the one error type; the entity traits. No I/O. |
//! | records | [`records`], [`stream`] | one file per record type of SCHEMA.md §5, encoding beside decoding ([`records::resource`], [`records::parent_child`], [`records::membership`], [`records::marker`]), attribute getters, sizes and limits, DynamoDB-JSON; DynamoDB Streams records decoded into typed changes ([`stream::decode`]). No I/O. |
//! | the wire | [`wire`] | the [`Store`] handle ([`wire::store`]), expressions that carry their names and values ([`wire::expr`]), a write as a value ([`wire::write`], with the contract's recurring writes in [`wire::write::writes`]), the transaction builder ([`wire::tx`]), batches, pages and cursors, the one pager. |
//! | operations | `ops/` (private; each file an `impl Store` block) | `create`, `read`, `update`, `upsert` (update with retry, get-or-create, upsert), `find_unique`, `tree`, `members`, `scope`, `account`, `roots` (listing root types), `related`, `registry`, `table`, `migrate`, and `cascade/` (closure discovery, the atomic path, the sweep), named after the rows of SCHEMA.md §10. |
//! | whole-table tools | [`integrity`], [`metrics`], `embedded` | the integrity audit and repair; request and capacity meters; the in-process engine. |
//!
//! The modules [`codec`], [`store`], [`tx`], [`batch`], [`query`], [`unique`],
//! [`relationships`], [`cascade`] and [`migrate`] keep the paths of earlier releases; they
//! only re-export.

#![warn(missing_docs)]

pub mod batch;
pub mod cascade;
pub mod codec;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod entity;
pub mod error;
pub mod integrity;
pub mod metrics;
pub mod migrate;
mod ops;
pub mod parent;
pub mod query;
pub mod records;
pub mod relationships;
pub mod schema;
pub mod store;
pub mod stream;
mod string_set;
pub mod time;
pub mod tx;
pub mod unique;
pub mod urn;
pub mod wire;

pub use cascade::{DeleteOptions, DeleteReport, Progress};
pub use codec::ResourceMeta;
pub use ddbrel_derive::Entity;
pub use entity::{
    AccountParent, AccountScoped, Collection, CollectionDescriptor, Entity, EntityDescriptor,
    Field, MemberOf, Numeric, OnDelete, Root, UniqueConstraint, UniqueScope,
};
pub use error::{Error, Result};
pub use metrics::{Capacity, CapacityMeter, RequestCounter};
pub use migrate::MigrationReport;
pub use ops::{
    CommitError, Committed, GetOrCreated, Operand, Patch, Pending, Recovery, Registration,
    TableSetup, Transaction, UpdateWithError, Upserted,
};
pub use parent::{Child, ChildOf, ParentOf, ParentUrn};
pub use query::{Order, Page, PageRequest};
pub use records::any_resource::AnyStored;
pub use records::type_schema::{CollectionSchema, ConstraintSchema, TypeSchema};
pub use relationships::Membership;
pub use schema::TableOptions;
pub use store::{Store, Stored};
pub use string_set::StringSet;
pub use time::Timestamp;
pub use tx::RetryPolicy;
pub use unique::UniqueKeyPart;
pub use urn::{AnyUrn, Urn, UrnError, UrnPart};
pub use wire::filter::{Filter, Text};

/// A DynamoDB item: attribute name to value.
pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

#[doc(hidden)]
pub mod __private {
    //! Items generated code refers to; not part of the public API.
    pub use crate::entity::{SameAccount, UrnTypeIs, const_str_eq, urn_type_hash};
    pub use crate::parent::{not_a_parent, type_of, typed_parent};
}
