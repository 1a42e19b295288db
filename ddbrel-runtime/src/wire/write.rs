//! A write as a value: a Put, Update, Delete or ConditionCheck of one item, with its condition,
//! that is either sent alone ([`Write::send`]) or pushed into a transaction
//! ([`crate::wire::tx::Tx::push`]).
//!
//! ```
//! use ddbrel_runtime::wire::expr::Expr;
//! use ddbrel_runtime::wire::write::{Write, writes};
//!
//! // "Add one to the parent's _childCount, if it exists and is not being deleted."
//! let parent = "urn:pp:Docs.Org::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
//! let w = writes::count(parent, "_childCount", 1).when(writes::live());
//! assert_eq!(
//!     w.condition().map(Expr::text),
//!     Some("attribute_exists(#pk) AND attribute_not_exists(#del)")
//! );
//! ```

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::size::item_size;
use crate::schema::{PK, SK};
use crate::wire::batch;
use crate::wire::expr::{Expr, shared_maps};
use crate::wire::store::{ProvideCode, Store};

/// What a [`Write`] does to its item.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Put (create or replace) this item.
    Put(Item),
    /// Apply this update expression to the item at the key.
    Update {
        /// `PK` and `SK`.
        key: (String, String),
        /// The update expression (`SET … ADD … DELETE … REMOVE …`).
        update: Expr,
    },
    /// Delete the item at the key.
    Delete {
        /// `PK` and `SK`.
        key: (String, String),
    },
    /// Only check the condition on the item at the key.
    Check {
        /// `PK` and `SK`.
        key: (String, String),
    },
}

/// One write of one item, with the condition it is applied under.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    action: Action,
    condition: Option<Expr>,
    return_new: bool,
}

/// Request overhead per action counted towards the 4 MB transaction limit (table name,
/// operation and option fields), on top of the item, key and expressions.
const ACTION_OVERHEAD: usize = 64;

impl Write {
    /// Puts `item`.
    pub fn put(item: Item) -> Write {
        Write {
            action: Action::Put(item),
            condition: None,
            return_new: false,
        }
    }

    /// Updates the item at `(pk, sk)` with `update`.
    pub fn update(pk: &str, sk: &str, update: Expr) -> Write {
        Write {
            action: Action::Update {
                key: (pk.to_string(), sk.to_string()),
                update,
            },
            condition: None,
            return_new: false,
        }
    }

    /// Deletes the item at `(pk, sk)`.
    pub fn delete(pk: &str, sk: &str) -> Write {
        Write {
            action: Action::Delete {
                key: (pk.to_string(), sk.to_string()),
            },
            condition: None,
            return_new: false,
        }
    }

    /// Checks `condition` on the item at `(pk, sk)` (transactions only).
    pub fn check(pk: &str, sk: &str, condition: Expr) -> Write {
        Write {
            action: Action::Check {
                key: (pk.to_string(), sk.to_string()),
            },
            condition: Some(condition),
            return_new: false,
        }
    }

    /// Adds a condition; with one already there, both must hold.
    pub fn when(mut self, condition: Expr) -> Write {
        self.condition = Some(match self.condition.take() {
            Some(c) => c.and(condition),
            None => condition,
        });
        self
    }

    /// Sent alone, an update returns the item as it is afterwards (ALL_NEW).
    pub fn returning_new(mut self) -> Write {
        self.return_new = true;
        self
    }

    /// What the write does.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// The condition, if any.
    pub fn condition(&self) -> Option<&Expr> {
        self.condition.as_ref()
    }

    /// The `(PK, SK)` of the item written.
    pub fn key(&self) -> (String, String) {
        match &self.action {
            Action::Put(item) => (text(item, PK), text(item, SK)),
            Action::Update { key, .. } | Action::Delete { key } | Action::Check { key } => {
                key.clone()
            }
        }
    }

    /// The bytes this write adds to a TransactWriteItems request.
    pub fn size(&self) -> usize {
        let body = match &self.action {
            Action::Put(item) => item_size(item),
            Action::Update { key, update } => key.0.len() + key.1.len() + update.size(),
            Action::Delete { key } | Action::Check { key } => key.0.len() + key.1.len(),
        };
        body + self.condition.as_ref().map_or(0, Expr::size) + ACTION_OVERHEAD
    }

    /// The transaction action for `table`. Every action returns the item as it was when its
    /// condition fails (ALL_OLD), so a cancellation can name what it found.
    pub(crate) fn into_transact_item(self, table: &str) -> Result<TransactWriteItem> {
        let update_expr = match &self.action {
            Action::Update { update, .. } => Some(update.clone()),
            _ => None,
        };
        let (names, values) = shared_maps(update_expr.iter().chain(self.condition.iter()));
        let condition = self
            .condition
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|c| c.text().to_string());
        // Every action: this table, the condition with the shared maps, ALL_OLD on failure.
        macro_rules! conditioned {
            ($builder:expr) => {
                $builder
                    .table_name(table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build_err)?
            };
        }
        let item = match self.action {
            Action::Put(item) => {
                TransactWriteItem::builder().put(conditioned!(Put::builder().set_item(Some(item))))
            }
            Action::Update { key, update } => TransactWriteItem::builder().update(conditioned!(
                Update::builder()
                    .set_key(Some(batch::key(&key.0, &key.1)))
                    .update_expression(update.text())
            )),
            Action::Delete { key } => TransactWriteItem::builder().delete(conditioned!(
                Delete::builder().set_key(Some(batch::key(&key.0, &key.1)))
            )),
            Action::Check { key } => TransactWriteItem::builder().condition_check(conditioned!(
                ConditionCheck::builder().set_key(Some(batch::key(&key.0, &key.1)))
            )),
        };
        Ok(item.build())
    }
}

/// What a write sent alone came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// Applied; with [`Write::returning_new`], the item as it is now.
    Applied(Option<Item>),
    /// The condition failed; the item as it was (`None` when there was none).
    ConditionFailed(Option<Item>),
}

impl Write {
    /// Sends the write alone: PutItem, UpdateItem or DeleteItem (a ConditionCheck alone is a
    /// GetItem's job and is refused). A failed condition is [`Sent::ConditionFailed`] with the
    /// item as it was. A write that collides with a transaction in flight on the same item
    /// (`TransactionConflictException`) is retried with backoff under the store's retry policy,
    /// then reported as [`Error::Contended`]; the SDK retries throttling and 5xx itself.
    pub async fn send(self, store: &Store) -> Result<Sent> {
        let policy = store.retry_policy();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.send_once(store).await {
                Err(Error::Contended { operation, key, .. }) if attempt >= policy.max_attempts => {
                    return Err(Error::Contended {
                        operation,
                        key,
                        attempts: attempt,
                    });
                }
                Err(Error::Contended { .. }) => {}
                other => return other,
            }
            tracing::debug!(attempt, "retrying a write that collided with a transaction");
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }

    async fn send_once(&self, store: &Store) -> Result<Sent> {
        let update_expr = match &self.action {
            Action::Update { update, .. } => Some(update),
            _ => None,
        };
        let (names, values) = shared_maps(update_expr.into_iter().chain(self.condition.iter()));
        let condition = self
            .condition
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|c| c.text().to_string());
        let old = ReturnValuesOnConditionCheckFailure::AllOld;
        let table = store.table();
        macro_rules! failed {
            ($e:expr, $op:literal, $ccf:path) => {{
                let e = $e;
                if let Some($ccf(c)) = e.as_service_error() {
                    return Ok(Sent::ConditionFailed(c.item().cloned()));
                }
                if matches!(e, SdkError::TimeoutError(_) | SdkError::ResponseError(_)) {
                    // Sent, and the SDK's own retries did not settle it.
                    return Err(Error::OutcomeUnknown {
                        operation: $op,
                        urn: self.key().0,
                        attempts: 1,
                        source: Box::new(e),
                    });
                }
                if e.code() == Some("TransactionConflictException") {
                    return Err(Error::Contended {
                        operation: $op,
                        key: self.key().0,
                        attempts: 1,
                    });
                }
                return Err(store.map_sdk_error($op, e));
            }};
        }
        // Every request: this table, the condition with the shared maps, ALL_OLD on failure.
        macro_rules! conditioned {
            ($builder:expr) => {
                $builder
                    .table_name(table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(old)
                    .send()
                    .await
            };
        }
        match &self.action {
            Action::Put(item) => {
                match conditioned!(store.client().put_item().set_item(Some(item.clone()))) {
                    Ok(_) => Ok(Sent::Applied(None)),
                    Err(e) => failed!(e, "PutItem", PutItemError::ConditionalCheckFailedException),
                }
            }
            Action::Update { key, update } => {
                let returning = self.return_new.then_some(ReturnValue::AllNew);
                match conditioned!(
                    store
                        .client()
                        .update_item()
                        .set_key(Some(batch::key(&key.0, &key.1)))
                        .update_expression(update.text())
                        .set_return_values(returning)
                ) {
                    Ok(out) => Ok(Sent::Applied(out.attributes)),
                    Err(e) => {
                        failed!(
                            e,
                            "UpdateItem",
                            UpdateItemError::ConditionalCheckFailedException
                        )
                    }
                }
            }
            Action::Delete { key } => {
                match conditioned!(
                    store
                        .client()
                        .delete_item()
                        .set_key(Some(batch::key(&key.0, &key.1)))
                ) {
                    Ok(_) => Ok(Sent::Applied(None)),
                    Err(e) => {
                        failed!(
                            e,
                            "DeleteItem",
                            DeleteItemError::ConditionalCheckFailedException
                        )
                    }
                }
            }
            Action::Check { key } => Err(Error::InvalidRequest {
                what: format!("ConditionCheck of {}", key.0),
                reason: "a condition check can only be part of a transaction".into(),
            }),
        }
    }
}

fn text(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

fn build_err(e: impl std::fmt::Display) -> Error {
    Error::InvalidRequest {
        what: "transaction action".into(),
        reason: e.to_string(),
    }
}

/// The contract's recurring conditions and writes (SCHEMA.md §5, §7), one spelling each.
pub mod writes {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::Write;
    use crate::Item;
    use crate::records::attrs::{n, s};
    use crate::records::resource::ResourceMeta;
    use crate::schema::{PK, attr};
    use crate::wire::expr::Expr;

    /// The item exists: `attribute_exists(PK)`.
    pub fn exists() -> Expr {
        Expr::new("attribute_exists(#pk)").name("#pk", PK)
    }

    /// The item does not exist: `attribute_not_exists(PK)`.
    pub fn absent() -> Expr {
        Expr::new("attribute_not_exists(#pk)").name("#pk", PK)
    }

    /// Not fenced by a cascade: `attribute_not_exists(_deleting)` (SCHEMA.md §7).
    pub fn not_fenced() -> Expr {
        Expr::new("attribute_not_exists(#del)").name("#del", attr::DELETING)
    }

    /// Fenced by a cascade: `attribute_exists(_deleting)`.
    pub fn fenced() -> Expr {
        Expr::new("attribute_exists(#del)").name("#del", attr::DELETING)
    }

    /// Exists and is not fenced (written as one condition, not two joined).
    pub fn live() -> Expr {
        Expr::new("attribute_exists(#pk) AND attribute_not_exists(#del)")
            .name("#pk", PK)
            .name("#del", attr::DELETING)
    }

    /// The resource exactly as read, for a delete that trusts what it read (SCHEMA.md §10
    /// "Delete leaf"): the version and incarnation, no fence, both counts, the collections holding it (the
    /// membership records this delete removes; one moved since with the same count must cancel
    /// it) and how many markers it holds.
    pub fn as_read(meta: &ResourceMeta) -> Expr {
        unchanged(meta).and(not_fenced())
    }

    /// The resource as read, fenced or not: [`as_read`] without its fence clause. A cascade
    /// deletes a leaf of its closure with it (a leaf it fenced and emptied, or one no cascade
    /// fenced: either way, a child, membership or unique value added since cancels the delete).
    pub fn unchanged(meta: &ResourceMeta) -> Expr {
        let mut cond = vec!["#v = :v", "#ca = :ca"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let mut e = Expr::default()
            .name("#v", attr::VERSION)
            .name("#cc", attr::CHILD_COUNT)
            .name("#mc", attr::MEMBER_COUNT)
            .name("#mo", attr::MEMBER_OF)
            .name("#uk", attr::UNIQUE_KEYS)
            .name("#ca", attr::CREATED_AT)
            .value(":v", n(meta.version))
            .value(":ca", s(crate::time::format(meta.created_at)));
        let mut zero = false;
        for (ph, count, v) in [
            ("#cc", meta.child_count, ":cc"),
            ("#mc", meta.member_count, ":mc"),
        ] {
            if count == 0 {
                cond.push(format!("(attribute_not_exists({ph}) OR {ph} = :zero)"));
                zero = true;
            } else {
                cond.push(format!("{ph} = {v}"));
                e = e.value(v, n(count));
            }
        }
        if zero {
            e = e.value(":zero", n(0));
        }
        if meta.member_of.is_empty() {
            cond.push("attribute_not_exists(#mo)".into());
        } else {
            cond.push("size(#mo) = :mo".into());
            e = e.value(":mo", n(meta.member_of.len()));
            for (i, c) in meta.member_of.iter().enumerate() {
                cond.push(format!("contains(#mo, :mo{i})"));
                e = e.value(&format!(":mo{i}"), s(c.as_str()));
            }
        }
        if meta.unique_keys.is_empty() {
            cond.push("attribute_not_exists(#uk)".into());
        } else {
            cond.push("size(#uk) = :uk".into());
            e = e.value(":uk", n(meta.unique_keys.len()));
        }
        e.with_text(cond.join(" AND "))
    }

    /// A fenced resource whose cascade has emptied it: fenced, no child or member counted, in
    /// no collection. The last write of a cascade's root is conditioned on it.
    pub fn emptied() -> Expr {
        Expr::new(
            "attribute_exists(#del) AND (attribute_not_exists(#cc) OR #cc = :zero) \
             AND (attribute_not_exists(#mc) OR #mc = :zero) AND attribute_not_exists(#mo)",
        )
        .name("#del", attr::DELETING)
        .name("#cc", attr::CHILD_COUNT)
        .name("#mc", attr::MEMBER_COUNT)
        .name("#mo", attr::MEMBER_OF)
        .value(":zero", n(0))
    }

    /// The same incarnation as read: `_createdAt = :created`. A URN deleted and created again
    /// (the `*_with_urn` creates) starts again at version 1; its creation time tells the two
    /// incarnations apart (SCHEMA.md §10, write protocol defect 6).
    pub fn incarnation(created_at: crate::time::Timestamp) -> Expr {
        Expr::new("#ca = :ca")
            .name("#ca", attr::CREATED_AT)
            .value(":ca", s(crate::time::format(created_at)))
    }

    /// At the version read: `_version = :v`.
    pub fn at_version(version: u64) -> Expr {
        Expr::new("#v = :v")
            .name("#v", attr::VERSION)
            .value(":v", n(version))
    }

    /// Of the given resource type: `_resourceType = :rt`.
    pub fn of_type(resource_type: &str) -> Expr {
        Expr::new("#rt = :rt")
            .name("#rt", attr::RESOURCE_TYPE)
            .value(":rt", s(resource_type))
    }

    /// A count changes by `delta`: `ADD {count} :delta` on the resource `urn` (a count is
    /// `_childCount` or `_memberCount`; SCHEMA.md §5.1 "Counts").
    pub fn count(urn: &str, count: &str, delta: i64) -> Write {
        Write::update(urn, urn, add_count(count, delta))
    }

    /// The update clause `ADD {count} :delta`.
    pub fn add_count(count: &str, delta: i64) -> Expr {
        let (ph, v) = if count == attr::CHILD_COUNT {
            ("#cc", ":cd")
        } else {
            ("#mc", ":md")
        };
        Expr::new(format!("ADD {ph} {v}"))
            .name(ph, count)
            .value(v, n(delta))
    }

    /// The update clause by which a member leaves `collections`: `DELETE _memberOf :set,
    /// _conveyingCollections :set`.
    pub fn leave_collections(collections: Vec<String>) -> Expr {
        Expr::new("DELETE #mo :set, #conv :set")
            .name("#mo", attr::MEMBER_OF)
            .name("#conv", attr::CONVEYING_COLLECTIONS)
            .value(":set", AttributeValue::Ss(collections))
    }

    /// The update clause by which a member joins `collection`: `ADD _memberOf :c` and, when the
    /// membership conveys authorization, `_conveyingCollections :c`.
    pub fn join_collection(collection: &str, conveys: bool) -> Expr {
        let set = AttributeValue::Ss(vec![collection.to_string()]);
        if conveys {
            Expr::new("ADD #mo :c, #conv :c")
                .name("#mo", attr::MEMBER_OF)
                .name("#conv", attr::CONVEYING_COLLECTIONS)
                .value(":c", set)
        } else {
            Expr::new("ADD #mo :c")
                .name("#mo", attr::MEMBER_OF)
                .value(":c", set)
        }
    }

    /// Puts a uniqueness marker, if the value is free.
    pub fn put_marker(marker: Item) -> Write {
        Write::put(marker).when(absent())
    }

    /// Deletes the marker `key` if `owner` holds it (or it is already gone).
    pub fn delete_marker_if_owned(key: &str, owner: &str) -> Write {
        Write::delete(key, key).when(
            Expr::new("attribute_not_exists(#pk) OR #o = :me")
                .name("#pk", PK)
                .name("#o", attr::OWNER_URN)
                .value(":me", s(owner)),
        )
    }
}
