//! Operations: `impl Store` blocks, one access-pattern family of SCHEMA.md §10 per file.

mod create;
mod read;
mod table;
mod update;
