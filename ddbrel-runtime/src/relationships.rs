//! Relationships: re-exports kept at their first paths. The operations live in `ops/`
//! (`tree.rs`, `members.rs`, `scope.rs`, `account.rs`) and the membership record in
//! `records/membership.rs`.
//!
//! Consistency: everything read from the base table is strongly consistent. Two reads go
//! through a global secondary index and are **eventually consistent** (DynamoDB offers nothing
//! else on a GSI): [`Store::collections_of`](crate::Store::collections_of) (InvertedIndex) and
//! [`Store::account_resources`](crate::Store::account_resources) (ResourcesByAccountIndex). A
//! membership or resource written a moment ago may be missing from them; nothing in ddbrel
//! that must be exact (cascade, authorization scope) uses them.

pub use crate::records::membership::Membership;
