//! Unique constraints: re-exports of [`crate::records::marker`] (key-part values, their
//! normalization, the marker key encoding), kept at their first paths. Lookup by unique value is
//! in `ops/find_unique.rs`.

pub use crate::records::marker::{
    MAX_MARKER_KEY_BYTES, Marker, UniqueKeyPart, encode_value, marker_key, markers_for, normalize,
    scope_text,
};
