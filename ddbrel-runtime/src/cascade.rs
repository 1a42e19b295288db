//! Deleting resources: re-exports kept at their first paths. The cascade lives in
//! `ops/cascade/` (closure discovery, the atomic path, the sweep); its module docs give the
//! safety argument.

pub use crate::ops::cascade::{DeleteOptions, DeleteReport, Progress};
