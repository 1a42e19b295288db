//! Records: each record type of SCHEMA.md §5 encoded beside its decoding, one file per
//! type, plus the attribute helpers, size checks and DynamoDB-JSON they share. Pure: no I/O.

pub mod any_resource;
pub mod attrs;
pub mod json;
pub mod marker;
pub mod membership;
pub mod parent_child;
pub mod resource;
pub mod size;
pub mod type_schema;
