//! The wire: the [`Store`](store::Store) handle (client, table, retry policy), the transaction
//! builder, batches, and pages and cursors.

pub mod batch;
pub mod expr;
pub mod filter;
pub mod page;
pub mod pager;
pub mod retry;
pub mod store;
pub mod telemetry;
pub mod tx;
pub mod write;
