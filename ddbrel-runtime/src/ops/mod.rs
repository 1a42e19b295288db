//! Operations: `impl Store` blocks, one access-pattern family of SCHEMA.md §10 per file.

mod account;
mod create;
mod find_unique;
mod members;
mod read;
mod scope;
mod table;
mod tree;
mod update;
