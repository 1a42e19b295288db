//! The one error type of ddbrel: a caller matches on [`Error`] or asks its predicates.

use ddbrel_grammar::UrnError;

/// A boxed error from the AWS SDK or the engine, kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a ddbrel operation can fail with.
///
/// Each variant names what is wrong and where: the URN, the constraint, the attribute.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No resource with this URN exists.
    #[error("not found: {urn}")]
    NotFound {
        /// The URN that was looked up.
        urn: String,
    },
    /// A resource with this URN exists already.
    #[error("already exists: {urn}")]
    AlreadyExists {
        /// The URN that was to be created.
        urn: String,
    },
    /// The resource changed since it was read: the write was conditioned on `expected` but the
    /// table holds `current` (`None` when the resource is gone).
    #[error("conflict on {urn}: expected _version {expected}, table has {}", fmt_version(*.current))]
    Conflict {
        /// The resource written.
        urn: String,
        /// The `_version` the write expected.
        expected: u64,
        /// The `_version` in the table, if the resource still exists.
        current: Option<u64>,
    },
    /// A URN did not parse or was of the wrong resource type.
    #[error(transparent)]
    InvalidUrn(#[from] UrnError),
    /// An item read from the table does not follow SCHEMA.md or does not decode as its type.
    #[error("invalid item {key}: {reason}")]
    InvalidItem {
        /// The item's key (`PK`, and `SK` when it differs).
        key: String,
        /// What is wrong, naming the attribute.
        reason: String,
    },
    /// A DynamoDB Streams record that is not one `stream::decode` can read: JSON that is not
    /// the Streams record form, an attribute value that is not DynamoDB-JSON, an image missing
    /// for its event (the stream must carry `NEW_AND_OLD_IMAGES`), or an image whose key is not
    /// the record's.
    #[error("invalid stream record {record}: {reason}")]
    InvalidStreamRecord {
        /// The record's key (`PK`, and `SK` when it differs), or its `eventID` when its keys
        /// do not parse.
        record: String,
        /// What is wrong, naming the JSON path or attribute.
        reason: String,
    },
    /// An item read from the table was written by newer code than this.
    #[error(
        "item {key} has _schemaVersion {found}, newer than the {supported} this code supports: upgrade the code before reading it"
    )]
    SchemaTooNew {
        /// The item's key.
        key: String,
        /// The `_schemaVersion` in the table.
        found: u32,
        /// The newest version this code knows.
        supported: u32,
    },
    /// The table has deletion protection on: DeleteTable was refused and nothing was deleted.
    #[error(
        "table {table} has deletion protection on: turn it off first (`ddbrel table delete --unprotect`, or UpdateTable)"
    )]
    DeletionProtected {
        /// The table.
        table: String,
    },
    /// An item would exceed DynamoDB's 400 KB item limit; nothing was sent.
    #[error("item {key} is {size} bytes, over DynamoDB's limit of {limit} bytes; nothing was sent")]
    ItemTooLarge {
        /// The item's key.
        key: String,
        /// The item's size as DynamoDB counts it.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A key attribute would exceed its DynamoDB limit (PK 2048 bytes, SK 1024 bytes, and a
    /// uniqueness marker's key 1024 bytes); nothing was sent.
    #[error("key attribute {attribute} is {size} bytes, over its limit of {limit} bytes: {key}")]
    KeyTooLong {
        /// `PK`, `SK`, or the marker's constraint.
        attribute: String,
        /// The key (cut to a readable length).
        key: String,
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A unique constraint is held by another resource.
    #[error("unique constraint {resource_type}.{constraint} violated: value {written:?} is held by {}", holder.as_deref().unwrap_or("another resource"))]
    UniqueViolation {
        /// The constrained resource type.
        resource_type: String,
        /// The constraint's name.
        constraint: String,
        /// The normalized value that is taken, as its marker key encodes it.
        value: String,
        /// The value as the caller wrote it (the fields' values joined by `", "`).
        written: String,
        /// The URN of the resource that holds it, when DynamoDB returned it.
        holder: Option<String>,
    },
    /// The parent named for a new child or membership does not exist (or is of another type).
    #[error("parent missing: {parent}")]
    ParentMissing {
        /// The parent URN.
        parent: String,
    },
    /// A resource named by the operation does not exist (a collection or member).
    #[error("related resource missing: {urn}")]
    RelatedMissing {
        /// The missing resource.
        urn: String,
    },
    /// The resource is being deleted by a cascade: it accepts no new children, memberships or
    /// updates. Calling delete on it finishes the cascade.
    #[error("{urn} is being deleted")]
    BeingDeleted {
        /// The fenced resource.
        urn: String,
    },
    /// The delete of `urn` was refused and nothing was deleted: `held` (`urn` itself or a
    /// resource its cascade would delete) still has `by` as a child whose type declares
    /// `#[parent(.., on_delete = restrict)]`, or as a member of a collection type declared
    /// `on_delete = restrict` (`relationship` says which: `"child"` or `"member"`). Delete or
    /// move out `by` first (SCHEMA.md §7, "Restrict").
    #[error(
        "{urn} cannot be deleted: {held} still has the {relationship} {by}, and that relationship is declared on_delete = restrict"
    )]
    Restricted {
        /// The resource whose delete was refused.
        urn: String,
        /// The resource of the closure that holds the restricting record.
        held: String,
        /// The child or member that restricts the delete.
        by: String,
        /// `"child"` or `"member"`.
        relationship: &'static str,
    },
    /// A condition of the caller's, in a composed transaction, did not hold; nothing was
    /// applied.
    #[error("condition on {urn} does not hold: {condition}")]
    ConditionFailed {
        /// The resource the condition is on.
        urn: String,
        /// The condition, as the caller described it.
        condition: String,
    },
    /// A write would exceed DynamoDB's transaction limits; nothing was sent.
    #[error(
        "transaction for {urn} needs {actions} actions and {bytes} bytes, over DynamoDB's limits of 100 actions and 4 MB; nothing was sent"
    )]
    TransactionTooLarge {
        /// The resource written.
        urn: String,
        /// Actions needed.
        actions: usize,
        /// Bytes needed.
        bytes: usize,
    },
    /// A cursor does not belong to this query, or does not decode.
    #[error("invalid cursor: {reason}")]
    InvalidCursor {
        /// Why it was refused.
        reason: String,
    },
    /// The table exists with a definition other than ddbrel's.
    #[error("table {table} does not match ddbrel's definition: {reason}")]
    TableMismatch {
        /// The table name.
        table: String,
        /// What differs.
        reason: String,
    },
    /// The table does not exist.
    #[error("table {table} does not exist (create it with `ddbrel table create`)")]
    TableNotFound {
        /// The table name.
        table: String,
    },
    /// DynamoDB throttled the request and the retry budget ran out.
    #[error("{operation} throttled by DynamoDB; retries exhausted")]
    Throttled {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The last error.
        #[source]
        source: BoxError,
    },
    /// A write was sent but its outcome is unknown (the connection failed or the response was
    /// lost) and retrying with the same ClientRequestToken did not settle it within the retry
    /// budget. A transaction is applied entirely or not at all; reading `urn` tells which (for
    /// a create, `urn` is the URN the store generated: read it rather than create again).
    #[error(
        "{operation} of {urn}: outcome unknown after {attempts} attempts (applied entirely or not at all; read {urn} to find out)"
    )]
    OutcomeUnknown {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The resource the write was for; for a create, the URN the store generated.
        urn: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: BoxError,
    },
    /// A bulk operation stopped part way; `applied` writes landed, `remaining` did not.
    #[error("{operation} stopped part way: {applied} applied, {remaining} not applied")]
    Incomplete {
        /// What was being done.
        operation: &'static str,
        /// Writes that landed.
        applied: usize,
        /// Writes that did not.
        remaining: usize,
        /// The error that stopped it.
        #[source]
        source: Box<Error>,
    },
    /// A single-item write kept colliding with transactions in flight on the same item
    /// (`TransactionConflictException`) and the retry budget ran out; nothing was applied.
    /// The item is busy: retry later, or spread the writes.
    #[error(
        "{operation} on {key} collided with concurrent transactions {attempts} times; nothing was applied"
    )]
    Contended {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The item's partition key.
        key: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The resource, or a record the operation depends on, changed while the operation ran,
    /// so the write it planned no longer applies (nothing was applied). Reading again and
    /// retrying is safe.
    #[error(
        "{urn} changed while the operation ran ({what}); nothing was applied, read it again and retry"
    )]
    ChangedMeanwhile {
        /// The resource (or collection) whose state moved.
        urn: String,
        /// What the operation was doing.
        what: String,
    },
    /// The caller passed something the operation cannot take (an unknown constraint, the
    /// wrong number of values, a missing scope, a malformed type prefix, a zero page size).
    #[error("invalid argument to {what}: {reason}")]
    InvalidArgument {
        /// The operation and the argument.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request could not be built (a field the SDK requires is missing): a defect in ddbrel,
    /// please report it. Nothing was sent.
    #[error("cannot build the {what} request: {reason}")]
    InvalidRequest {
        /// The request.
        what: String,
        /// What the SDK said.
        reason: String,
    },
    /// An entity could not be encoded (serde failed, or a field uses a reserved name).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// Why.
        reason: String,
    },
    /// The SQL integrity checks (`integrity::sql`) failed on the embedded SQL engine: the
    /// scratch database could not be created or written, or a statement of `specs/checks/`
    /// failed or returned a row that is not a finding.
    #[error("SQL check: {what}: {reason}")]
    SqlCheck {
        /// The step, naming the check file or the database file.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// Setting up the client or the embedded engine failed.
    #[error("configuration: {0}")]
    Config(String),
    /// Any other error from DynamoDB or the network.
    #[error("{operation} failed: {message}")]
    Service {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The error with its whole chain of causes.
        message: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
}

/// An error and its sources, each by its Display, joined with `: ` (repeats dropped).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn fmt_version(v: Option<u64>) -> String {
    v.map_or_else(|| "no item".to_string(), |v| v.to_string())
}

impl Error {
    /// The variant's name (`"UniqueViolation"`, `"Conflict"`, …): a stable, low-cardinality
    /// label for metrics and the `error.type` attribute of spans.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "NotFound",
            Error::AlreadyExists { .. } => "AlreadyExists",
            Error::Conflict { .. } => "Conflict",
            Error::InvalidUrn { .. } => "InvalidUrn",
            Error::InvalidItem { .. } => "InvalidItem",
            Error::InvalidStreamRecord { .. } => "InvalidStreamRecord",
            Error::SchemaTooNew { .. } => "SchemaTooNew",
            Error::ItemTooLarge { .. } => "ItemTooLarge",
            Error::KeyTooLong { .. } => "KeyTooLong",
            Error::UniqueViolation { .. } => "UniqueViolation",
            Error::ParentMissing { .. } => "ParentMissing",
            Error::RelatedMissing { .. } => "RelatedMissing",
            Error::BeingDeleted { .. } => "BeingDeleted",
            Error::Restricted { .. } => "Restricted",
            Error::ConditionFailed { .. } => "ConditionFailed",
            Error::TransactionTooLarge { .. } => "TransactionTooLarge",
            Error::InvalidCursor { .. } => "InvalidCursor",
            Error::TableMismatch { .. } => "TableMismatch",
            Error::TableNotFound { .. } => "TableNotFound",
            Error::DeletionProtected { .. } => "DeletionProtected",
            Error::Throttled { .. } => "Throttled",
            Error::OutcomeUnknown { .. } => "OutcomeUnknown",
            Error::Incomplete { .. } => "Incomplete",
            Error::Contended { .. } => "Contended",
            Error::ChangedMeanwhile { .. } => "ChangedMeanwhile",
            Error::InvalidArgument { .. } => "InvalidArgument",
            Error::InvalidRequest { .. } => "InvalidRequest",
            Error::Encode { .. } => "Encode",
            Error::SqlCheck { .. } => "SqlCheck",
            Error::Config { .. } => "Config",
            Error::Service { .. } => "Service",
        }
    }

    /// The resource or one it depends on does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. } | Error::ParentMissing { .. } | Error::RelatedMissing { .. }
        )
    }
    /// Another writer got there first: a version conflict, a change while the operation ran,
    /// an existing URN, a held unique value or a resource being deleted.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Error::Conflict { .. }
                | Error::ChangedMeanwhile { .. }
                | Error::AlreadyExists { .. }
                | Error::UniqueViolation { .. }
                | Error::BeingDeleted { .. }
        )
    }
    /// A unique constraint was violated.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::UniqueViolation { .. })
    }
    /// The request may succeed if retried later (throttling, contention, a change while the
    /// operation ran, or a bulk operation cut short).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Throttled { .. }
                | Error::Contended { .. }
                | Error::ChangedMeanwhile { .. }
                | Error::Incomplete { .. }
                | Error::OutcomeUnknown { .. }
        )
    }
    /// The caller passed an argument the operation cannot take.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self, Error::InvalidArgument { .. })
    }

    pub(crate) fn service<E>(operation: &'static str, e: E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::Service {
            operation,
            message: error_chain(&e),
            source: Box::new(e),
        }
    }

    pub(crate) fn invalid_item(key: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidItem {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// `Result<T, ddbrel_runtime::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
