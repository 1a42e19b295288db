//! Eager schema migration: re-exports kept at their first paths (the operation is in
//! `ops/migrate.rs`).

pub use crate::ops::migrate::MigrationReport;
