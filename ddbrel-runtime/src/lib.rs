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
pub mod query;
pub mod records;
pub mod relationships;
pub mod schema;
pub mod store;
pub mod time;
pub mod tx;
pub mod unique;
pub mod urn;
pub mod wire;

pub use cascade::{DeleteOptions, DeleteReport, Progress};
pub use codec::ResourceMeta;
pub use ddbrel_derive::Entity;
pub use entity::{
    AccountScoped, Child, Collection, CollectionDescriptor, Entity, EntityDescriptor, MemberOf,
    Root, UniqueConstraint, UniqueScope,
};
pub use error::{Error, Result};
pub use metrics::{Capacity, CapacityMeter, RequestCounter};
pub use migrate::MigrationReport;
pub use query::{Order, Page, PageRequest};
pub use relationships::Membership;
pub use store::{Store, Stored};
pub use tx::RetryPolicy;
pub use unique::UniqueKeyPart;
pub use urn::{AnyUrn, Urn, UrnError, UrnPart};

/// A DynamoDB item: attribute name to value.
pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

#[doc(hidden)]
pub mod __private {
    //! Items generated code refers to; not part of the public API.
    pub use crate::entity::const_str_eq;
}
