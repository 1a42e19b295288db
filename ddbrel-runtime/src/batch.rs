//! Batches: re-exports of [`crate::wire::batch`], kept at their first paths.

pub use crate::wire::batch::*;
