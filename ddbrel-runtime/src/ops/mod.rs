//! Operations: `impl Store` blocks, one access-pattern family of SCHEMA.md §10 per file.

mod account;
pub(crate) mod cascade;
mod compose;
mod create;
mod find_unique;
mod members;
pub(crate) mod migrate;
mod patch;
mod read;
mod registry;
mod related;
mod roots;
mod scope;
mod table;
mod tree;
mod update;
mod upsert;

pub use compose::{CommitError, Committed, Operand, Pending, Transaction};
pub use patch::Patch;
pub use registry::Registration;
pub use table::{Recovery, TableSetup};
pub use upsert::{GetOrCreated, UpdateWithError, Upserted};
