//! # ddbrel-runtime
//!
//! Relational entities in a single DynamoDB table: typed URNs and keys, a store with
//! version-checked writes, parent-child trees with cascading delete, n:n collections,
//! uniqueness enforced in transactions, account-scoped queries and schema versioning.
//!
//! The data contract is `specs/SCHEMA.md` in the repository.

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
pub mod query;
pub mod relationships;
pub mod schema;
pub mod store;
pub mod time;
pub mod tx;
pub mod unique;
pub mod urn;

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
