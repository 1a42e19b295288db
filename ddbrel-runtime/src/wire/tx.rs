//! Transactions: a builder that counts actions and bytes against DynamoDB's limits, sends with
//! a ClientRequestToken (so a retried ambiguous attempt is never applied twice), retries
//! TransactionConflict with jittered backoff, and hands back the cancellation reasons by index
//! so each operation can name what failed.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::Item;
use crate::codec::{item_size, value_size};
use crate::error::{Error, Result};
use crate::schema::{PK, SK, limits};
use crate::store::Store;

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

/// A TransactWriteItems under construction.
#[derive(Default)]
pub struct Tx {
    items: Vec<TransactWriteItem>,
    bytes: usize,
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk.to_string())),
        (SK.to_string(), AttributeValue::S(sk.to_string())),
    ])
}

fn build_err(e: impl std::fmt::Display) -> Error {
    Error::Encode {
        what: "transaction action".into(),
        reason: e.to_string(),
    }
}

fn values_size(v: &Option<Values>) -> usize {
    v.as_ref()
        .map(|v| v.iter().map(|(k, v)| k.len() + value_size(v)).sum())
        .unwrap_or(0)
}

impl Tx {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of actions so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a Put.
    pub fn put(
        &mut self,
        store: &Store,
        item: Item,
        condition: Option<&str>,
        names: Option<Names>,
        values: Option<Values>,
    ) -> Result<()> {
        self.bytes += item_size(&item) + values_size(&values) + 64;
        let put = Put::builder()
            .table_name(store.table())
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err)?;
        self.items
            .push(TransactWriteItem::builder().put(put).build());
        Ok(())
    }

    /// Adds a Delete.
    pub fn delete(
        &mut self,
        store: &Store,
        pk: &str,
        sk: &str,
        condition: Option<&str>,
        names: Option<Names>,
        values: Option<Values>,
    ) -> Result<()> {
        self.bytes += pk.len() + sk.len() + values_size(&values) + 64;
        let delete = Delete::builder()
            .table_name(store.table())
            .set_key(Some(key(pk, sk)))
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err)?;
        self.items
            .push(TransactWriteItem::builder().delete(delete).build());
        Ok(())
    }

    /// Adds an Update.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        store: &Store,
        pk: &str,
        sk: &str,
        update: String,
        condition: Option<&str>,
        names: Option<Names>,
        values: Option<Values>,
    ) -> Result<()> {
        self.bytes += pk.len() + sk.len() + update.len() + values_size(&values) + 64;
        let u = Update::builder()
            .table_name(store.table())
            .set_key(Some(key(pk, sk)))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err)?;
        self.items
            .push(TransactWriteItem::builder().update(u).build());
        Ok(())
    }

    /// Adds a ConditionCheck.
    pub fn check(
        &mut self,
        store: &Store,
        pk: &str,
        sk: &str,
        condition: &str,
        names: Option<Names>,
        values: Option<Values>,
    ) -> Result<()> {
        self.bytes += pk.len() + sk.len() + condition.len() + values_size(&values) + 64;
        let c = ConditionCheck::builder()
            .table_name(store.table())
            .set_key(Some(key(pk, sk)))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err)?;
        self.items
            .push(TransactWriteItem::builder().condition_check(c).build());
        Ok(())
    }

    /// Refuses a transaction over 100 actions or 4 MB before anything is sent.
    pub fn check_limits(&self, urn: &str) -> Result<()> {
        if self.items.len() > limits::MAX_TRANSACT_ACTIONS
            || self.bytes > limits::MAX_TRANSACT_BYTES
        {
            return Err(Error::TransactionTooLarge {
                urn: urn.to_string(),
                actions: self.items.len(),
                bytes: self.bytes,
            });
        }
        Ok(())
    }

    /// Sends the transaction. Conflicts with other transactions and throttling are retried
    /// with the same ClientRequestToken under the store's retry budget; a cancellation for
    /// conditions is returned for the caller to decode.
    pub async fn send(self, store: &Store, urn: &str) -> Result<TxOutcome> {
        self.check_limits(urn)?;
        let token = uuid::Uuid::new_v4().to_string();
        let policy = store.retry_policy();
        let mut attempt = 0u32;
        loop {
            let res = store
                .client()
                .transact_write_items()
                .set_transact_items(Some(self.items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let err = match res {
                Ok(_) => return Ok(TxOutcome::Applied),
                Err(e) => e,
            };
            // Not sent at all: nothing to retry.
            if matches!(
                err,
                aws_sdk_dynamodb::error::SdkError::ConstructionFailure(_)
            ) {
                return Err(Error::service("TransactWriteItems", err));
            }
            // Sent, but the outcome is unknown (timeout, connection lost, unreadable response):
            // retrying with the same ClientRequestToken is safe, DynamoDB applies it once.
            let ambiguous = err.as_service_error().is_none();
            let retry = ambiguous
                || match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(ex)) => {
                        let reasons: Vec<Cancelled> = ex
                            .cancellation_reasons()
                            .iter()
                            .map(|r| Cancelled {
                                code: r.code().filter(|c| *c != "None").map(str::to_string),
                                item: r.item().cloned(),
                            })
                            .collect();
                        let conflict = reasons.iter().any(|r| {
                            matches!(
                                r.code.as_deref(),
                                Some("TransactionConflict")
                                    | Some("ThrottlingError")
                                    | Some("ProvisionedThroughputExceeded")
                            )
                        });
                        let condition = reasons.iter().any(Cancelled::condition_failed);
                        if condition || !conflict {
                            if condition {
                                return Ok(TxOutcome::Cancelled(reasons));
                            }
                            return Err(Error::service("TransactWriteItems", err));
                        }
                        true
                    }
                    Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
                    Some(TransactWriteItemsError::ProvisionedThroughputExceededException(_))
                    | Some(TransactWriteItemsError::RequestLimitExceeded(_)) => true,
                    Some(TransactWriteItemsError::ResourceNotFoundException(_)) => {
                        return Err(Error::TableNotFound {
                            table: store.table().to_string(),
                        });
                    }
                    _ => false,
                };
            attempt += 1;
            if !retry || attempt >= policy.max_attempts {
                if ambiguous {
                    return Err(Error::OutcomeUnknown {
                        operation: "TransactWriteItems",
                        attempts: attempt,
                        source: Box::new(err),
                    });
                }
                if retry {
                    return Err(Error::Throttled {
                        operation: "TransactWriteItems",
                        source: Box::new(err),
                    });
                }
                return Err(Error::service("TransactWriteItems", err));
            }
            tracing::debug!(
                attempt,
                ambiguous,
                "retrying TransactWriteItems with the same token"
            );
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }
}
