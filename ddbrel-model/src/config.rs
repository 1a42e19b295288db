//! The model's parameters and statistics.

use std::time::Duration;

/// The model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// How long (model time) a TransactWriteItems holds its items: its prepare and commit
    /// phases. Default 10 ms.
    pub hold: Duration,
    /// How long (model time) after a successful TransactWriteItems its ClientRequestToken
    /// stays recorded. DynamoDB: 10 minutes.
    pub idempotency_window: Duration,
    /// The table's key attributes, taken from a Put's item to name the item it writes.
    /// Default `PK`, `SK` (ddbrel's table).
    pub key_attributes: Vec<String>,
    /// The commit phase that follows a TransactWriteItems' hold (model time), or `None` (the
    /// default) for none. With a window `w`, the transaction's distinct items become
    /// visible one at a time, in action order: the `k`-th of `n` at arrival + `hold` +
    /// `w`·k/`n`; its response returns when the last is visible. Until an item is visible it
    /// stays held (a write to it conflicts as during the hold), and a GetItem, BatchGetItem or
    /// table Query touching it waits in the connector until it is visible; see the crate
    /// documentation for what this does not model.
    pub commit_window: Option<Duration>,
    /// With a commit window: apply a transaction's writes one at a time over the window, so a
    /// read in the window sees DynamoDB's read-committed partial state (some of the
    /// transaction's items new, the others old) instead of waiting. The conditions are
    /// evaluated at once, at arrival, as a transaction of ConditionChecks on the engine
    /// ([`staged`]). Default `false`.
    pub read_committed: bool,
    /// With a commit window: make a transaction's items visible in the reverse of their action
    /// order (DynamoDB promises no order; ddbrel writes a parent's count last, so this is the
    /// order in which a reader can see a count before the record it counts). Default `false`.
    pub reverse_visibility: bool,
    /// Per-partition throughput limits, or `None` (the default) for none. See [`Throughput`].
    pub throughput: Option<Throughput>,
}

/// Throughput limits, as token buckets refilled in model time, one for writes and one for
/// reads per meter: per partition key value of the table (table and `PK` value), per item,
/// and per partition key value of each global secondary index (learned from the table's
/// CreateTable). A request that any of its buckets cannot afford is refused before reaching
/// the engine (`ProvisionedThroughputExceededException`; in a transaction,
/// `TransactionCanceledException` with `ThrottlingError` at the actions that are short); a
/// write whose index writes an index partition cannot afford is refused the same way, as
/// DynamoDB throttles the base-table writes of an index that cannot keep up.
///
/// Costs: a write 1 WCU per KB (1,024 bytes) written, rounded up (estimated from the request:
/// [`crate::shape::write_size`]), twice that in a TransactWriteItems (a ConditionCheck counts
/// as a write of its key); its index writes 1 WCU per KB of each index entry written or
/// deleted ([`crate::index`]), not doubled (an index is updated after the transaction, outside
/// it); a read 1 RCU per item read strongly consistently and 0.5 eventually consistently, as
/// though every item were at most 4 KB (the request does not carry the size of what it reads),
/// a Query 1 (or 0.5) RCU, an index Query 0.5, a TransactGetItems 2 per item.
///
/// A bucket affords a request that any one of its charges fits in, then takes them all and
/// may go into debt, which its refill pays off before it affords more; with a short
/// [`Throughput::burst`] this is a partition's rate limit, under which a 100-action
/// transaction is admitted as each of its writes would be, and pays for all of them
/// afterwards.
///
/// A partition bucket models a partition before DynamoDB splits it for heat; with the
/// partition rates infinite, the table's partitions are modelled as split as far as they go,
/// and only the item and index limits remain.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    /// Write capacity units per second per partition. DynamoDB: 1,000.
    pub write_units_per_s: f64,
    /// Read capacity units per second per partition. DynamoDB: 3,000.
    pub read_units_per_s: f64,
    /// Write capacity units per second per item. DynamoDB: 1,000.
    pub item_write_units_per_s: f64,
    /// Read capacity units per second per item. DynamoDB: 3,000.
    pub item_read_units_per_s: f64,
    /// Write capacity units per second per index partition key value. DynamoDB: 1,000.
    pub index_write_units_per_s: f64,
    /// Read capacity units per second per index partition key value. DynamoDB: 3,000.
    pub index_read_units_per_s: f64,
    /// How much unused capacity a bucket keeps: a bucket holds at most this long's worth of
    /// units, and starts full. Default 1 s.
    pub burst: Duration,
}

impl Default for Throughput {
    fn default() -> Self {
        Throughput {
            write_units_per_s: 1000.0,
            read_units_per_s: 3000.0,
            item_write_units_per_s: 1000.0,
            item_read_units_per_s: 3000.0,
            index_write_units_per_s: 1000.0,
            index_read_units_per_s: 3000.0,
            burst: Duration::from_secs(1),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            hold: Duration::from_millis(10),
            idempotency_window: Duration::from_secs(600),
            key_attributes: vec!["PK".to_string(), "SK".to_string()],
            commit_window: None,
            read_committed: false,
            reverse_visibility: false,
            throughput: None,
        }
    }
}

/// What the model has seen and done since it was made (or since [`Model::reset_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests that reached the model.
    pub requests: u64,
    /// Requests the model passed on to the engine.
    pub forwarded: u64,
    /// TransactWriteItems passed on to the engine.
    pub transactions: u64,
    /// TransactWriteItems refused with a `TransactionConflict` cancellation.
    pub transaction_conflicts: u64,
    /// PutItem, UpdateItem and DeleteItem refused with `TransactionConflictException`.
    pub single_write_conflicts: u64,
    /// TransactWriteItems answered from the idempotency record, not applied again.
    pub replays: u64,
    /// TransactWriteItems refused with `IdempotentParameterMismatchException`.
    pub mismatches: u64,
    /// TransactWriteItems refused with `TransactionInProgressException`.
    pub in_progress: u64,
    /// Reads that waited for a committing transaction's item to become visible (with
    /// [`ModelConfig::commit_window`]).
    pub delayed_reads: u64,
    /// Single requests refused with `ProvisionedThroughputExceededException`.
    pub throttled: u64,
    /// TransactWriteItems refused with a `ThrottlingError` cancellation.
    pub transaction_throttles: u64,
    /// TransactGetItems refused with a `TransactionConflict` cancellation (an item it reads is
    /// held by a TransactWriteItems).
    pub read_transaction_conflicts: u64,
    /// Single writes of a read-committed commit ([`ModelConfig::read_committed`]) the engine
    /// refused (a model defect if ever not 0: their conditions were checked already).
    pub staged_write_failures: u64,
}

impl Stats {
    /// Every conflict refusal: write transactions, single writes and read transactions.
    pub fn conflicts(&self) -> u64 {
        self.transaction_conflicts + self.single_write_conflicts + self.read_transaction_conflicts
    }
}
