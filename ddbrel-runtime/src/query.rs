//! Pages and cursors: re-exports of [`crate::wire::page`], kept at their first paths.

pub use crate::wire::page::*;
