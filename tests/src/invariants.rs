//! The invariants of SCHEMA.md, checked over the raw table (filled in with the relationship
//! operations).
