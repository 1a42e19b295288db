//! Transactions: a builder that counts actions and bytes against DynamoDB's limits, sends with
//! a ClientRequestToken (so a retried ambiguous attempt is never applied twice), retries
//! TransactionConflict with jittered backoff, and hands back the cancellation reasons by index
//! so each operation can name what failed.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::error::{Error, Result};
use crate::schema::limits;
use crate::wire::store::Store;
use crate::wire::write::Write;

/// Why one action of a cancelled transaction failed.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// The reason code, e.g. `ConditionalCheckFailed`, `None` when this action was fine.
    pub code: Option<String>,
    /// The item as it was (ALL_OLD), when DynamoDB returned it.
    pub item: Option<Item>,
}

impl Cancelled {
    /// Whether this action's condition failed.
    pub fn condition_failed(&self) -> bool {
        self.code.as_deref() == Some("ConditionalCheckFailed")
    }
}

/// The outcome of sending a transaction.
pub enum TxOutcome {
    /// Every action was applied.
    Applied,
    /// The transaction was cancelled because of conditions; one entry per action, in order.
    Cancelled(Vec<Cancelled>),
}

/// Expression values shorthand.
pub type Values = HashMap<String, AttributeValue>;
/// Expression names shorthand.
pub type Names = HashMap<String, String>;

/// A TransactWriteItems under construction: [`Write`] values in order, counted against
/// DynamoDB's limits (100 actions, 4 MB) before anything is sent.
#[derive(Debug, Default)]
pub struct Tx {
    writes: Vec<Write>,
    bytes: usize,
}

impl Tx {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of actions so far.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds a write; its index is the index of its cancellation reason.
    pub fn push(&mut self, write: Write) -> &mut Self {
        self.bytes += write.size();
        self.writes.push(write);
        self
    }

    /// The writes so far.
    pub fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// Refuses a transaction over 100 actions or 4 MB before anything is sent.
    pub fn check_limits(&self, urn: &str) -> Result<()> {
        if self.writes.len() > limits::MAX_TRANSACT_ACTIONS
            || self.bytes > limits::MAX_TRANSACT_BYTES
        {
            return Err(Error::TransactionTooLarge {
                urn: urn.to_string(),
                actions: self.writes.len(),
                bytes: self.bytes,
            });
        }
        Ok(())
    }

    /// Sends the transaction. Conflicts with other transactions and throttling are retried
    /// under the store's retry budget; a cancellation for conditions is returned for the caller
    /// to decode.
    ///
    /// The ClientRequestToken: an attempt whose outcome is unknown (timeout, lost response) is
    /// retried with the **same** token, which DynamoDB applies at most once. After a *definite*
    /// cancellation (nothing applied) and no earlier unknown outcome, the next attempt takes a
    /// fresh token, so it is a new request rather than a replay of the cancelled one.
    /// `urn` names the resource the transaction is for, in errors.
    pub async fn send(self, store: &Store, urn: &str) -> Result<TxOutcome> {
        self.check_limits(urn)?;
        let table = store.table();
        let items = self
            .writes
            .into_iter()
            .map(|w| w.into_transact_item(table))
            .collect::<Result<Vec<_>>>()?;
        let mut token = uuid::Uuid::new_v4().to_string();
        let mut maybe_applied = false;
        let policy = store.retry_policy();
        let mut attempt = 0u32;
        loop {
            let res = store
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            attempt += 1;
            let err = match res {
                Ok(_) => return Ok(TxOutcome::Applied),
                Err(e) => e,
            };
            let step = classify(&err);
            let step = match step {
                Step::Fail => {
                    return Err(match err.as_service_error() {
                        Some(TransactWriteItemsError::ResourceNotFoundException(_)) => {
                            Error::TableNotFound {
                                table: table.to_string(),
                            }
                        }
                        _ => Error::service("TransactWriteItems", err),
                    });
                }
                Step::Conditions(reasons) => return Ok(TxOutcome::Cancelled(reasons)),
                other => other,
            };
            maybe_applied |= matches!(step, Step::Unknown);
            if attempt >= policy.max_attempts {
                return Err(match step {
                    Step::Unknown | Step::InProgress if maybe_applied => Error::OutcomeUnknown {
                        operation: "TransactWriteItems",
                        urn: urn.to_string(),
                        attempts: attempt,
                        source: Box::new(err),
                    },
                    Step::Conflict => Error::Contended {
                        operation: "TransactWriteItems",
                        key: urn.to_string(),
                        attempts: attempt,
                    },
                    _ => Error::Throttled {
                        operation: "TransactWriteItems",
                        source: Box::new(err),
                    },
                });
            }
            if matches!(step, Step::Conflict | Step::Throttled) && !maybe_applied {
                token = uuid::Uuid::new_v4().to_string();
            }
            tracing::debug!(attempt, maybe_applied, "retrying TransactWriteItems");
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }
}

/// What a failed TransactWriteItems attempt calls for.
enum Step {
    /// Not retryable.
    Fail,
    /// Cancelled because of conditions: the caller decodes the reasons.
    Conditions(Vec<Cancelled>),
    /// Cancelled by a conflict with another transaction: nothing applied.
    Conflict,
    /// Throttled (the request, or an action of it): nothing applied.
    Throttled,
    /// A request with this token is still in progress: retry with the same token.
    InProgress,
    /// Sent, but the outcome is unknown: it may have been applied.
    Unknown,
}

fn classify(
    err: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Step {
    if matches!(
        err,
        aws_sdk_dynamodb::error::SdkError::ConstructionFailure(_)
    ) {
        return Step::Fail; // never sent
    }
    match err.as_service_error() {
        None => Step::Unknown,
        Some(TransactWriteItemsError::TransactionCanceledException(ex)) => {
            let reasons: Vec<Cancelled> = ex
                .cancellation_reasons()
                .iter()
                .map(|r| Cancelled {
                    code: r.code().filter(|c| *c != "None").map(str::to_string),
                    item: r.item().cloned(),
                })
                .collect();
            if reasons.iter().any(Cancelled::condition_failed) {
                return Step::Conditions(reasons);
            }
            let code = |c: &str| reasons.iter().any(|r| r.code.as_deref() == Some(c));
            if code("TransactionConflict") {
                Step::Conflict
            } else if code("ThrottlingError") || code("ProvisionedThroughputExceeded") {
                Step::Throttled
            } else {
                Step::Fail
            }
        }
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => Step::InProgress,
        // A 500 that outlived the SDK's own retries: the transaction may have been applied.
        Some(TransactWriteItemsError::InternalServerError(_)) => Step::Unknown,
        Some(TransactWriteItemsError::ProvisionedThroughputExceededException(_))
        | Some(TransactWriteItemsError::RequestLimitExceeded(_)) => Step::Throttled,
        Some(_) => Step::Fail,
    }
}
