//! Transactions: re-exports of [`crate::wire::tx`], kept at their first paths.

pub use crate::wire::retry::RetryPolicy;
pub use crate::wire::tx::*;
