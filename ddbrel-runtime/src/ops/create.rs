//! Creating resources (SCHEMA.md §10 "Create root", "Create child"): a lone root is one
//! PutItem; anything with a parent or unique values is one TransactWriteItems.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tracing::instrument;

use crate::Item;
use crate::codec::{self, ResourceMeta, n, s};
use crate::entity::{Child, Entity, Root};
use crate::error::{Error, Result};
use crate::records::marker::marker_item;
use crate::records::parent_child::parent_child_item;
use crate::records::resource::{Stored, resource_item, write_token};
use crate::schema::attr;
use crate::store::{Store, names};
use crate::time;
use crate::tx::{Cancelled, Tx, TxOutcome};
use crate::unique::{self, Marker};
use crate::urn::{AnyUrn, Urn};

use super::update::unique_violation;

impl Store {
    /// Creates a root resource with a new URN. One request: a PutItem, or a TransactWriteItems
    /// when the entity holds unique values. Fails with [`Error::AlreadyExists`] if the URN
    /// exists and [`Error::UniqueViolation`] if a unique value is held.
    pub async fn create<E: Root>(&self, data: E) -> Result<Stored<E>> {
        self.create_with_urn(Urn::new(), data).await
    }

    /// Creates a root resource with the given URN.
    #[instrument(name = "ddbrel.create", skip_all, fields(urn = %urn))]
    pub async fn create_with_urn<E: Root>(&self, urn: Urn<E>, data: E) -> Result<Stored<E>> {
        // An account-scoped root is its own account.
        let account = E::ACCOUNT_SCOPED.then(|| urn.as_any().clone());
        self.insert(urn, data, account, None, Vec::new()).await
    }

    /// Creates a child resource under `parent` with a new URN, in one TransactWriteItems: the
    /// child, its ParentChildRelationship, a check that the parent exists, is of the declared
    /// type and is not being deleted (nor any ancestor), the parent's child count, and the
    /// child's uniqueness markers. Fails with [`Error::ParentMissing`] or
    /// [`Error::BeingDeleted`].
    pub async fn create_child<E: Child>(
        &self,
        parent: &Stored<E::Parent>,
        data: E,
    ) -> Result<Stored<E>> {
        self.create_child_with_urn(parent, Urn::new(), data).await
    }

    /// Creates a child resource with the given URN.
    #[instrument(name = "ddbrel.create_child", skip_all, fields(urn = %urn, parent = %parent.urn))]
    pub async fn create_child_with_urn<E: Child>(
        &self,
        parent: &Stored<E::Parent>,
        urn: Urn<E>,
        data: E,
    ) -> Result<Stored<E>> {
        let account = if E::ACCOUNT_SCOPED {
            Some(
                parent
                    .meta
                    .account
                    .clone()
                    .unwrap_or_else(|| parent.urn.as_any().clone()),
            )
        } else {
            None
        };
        let mut ancestors = parent.meta.ancestors.clone();
        ancestors.push(parent.urn.as_any().clone());
        self.insert(
            urn,
            data,
            account,
            Some(parent.urn.as_any().clone()),
            ancestors,
        )
        .await
    }

    /// Creates a child under the parent with this URN: reads the parent first (2 requests).
    pub async fn create_child_of<E: Child>(
        &self,
        parent: &Urn<E::Parent>,
        data: E,
    ) -> Result<Stored<E>> {
        let parent = self.get(parent).await.map_err(|e| match e {
            Error::NotFound { urn } => Error::ParentMissing { parent: urn },
            e => e,
        })?;
        self.create_child(&parent, data).await
    }

    async fn insert<E: Entity>(
        &self,
        urn: Urn<E>,
        data: E,
        account: Option<AnyUrn>,
        parent: Option<AnyUrn>,
        ancestors: Vec<AnyUrn>,
    ) -> Result<Stored<E>> {
        let now = time::now();
        let markers = unique::markers_for(&data, account.as_ref(), parent.as_ref())?;
        let meta = ResourceMeta {
            version: 1,
            schema_version: E::SCHEMA_VERSION,
            created_at: now,
            updated_at: now,
            account,
            parent,
            ancestors,
            unique_keys: {
                let mut v: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
                v.sort();
                v
            },
            member_of: Vec::new(),
            conveying_collections: Vec::new(),
            child_count: 0,
            member_count: 0,
            deleting: None,
        };
        let mut item = resource_item(&urn, &data, &meta)?;
        // Only this create writes this token: an earlier attempt of it that landed is
        // recognized by it, never by time (a concurrent writer can share the millisecond).
        item.insert(attr::WRITE_TOKEN.into(), s(write_token()));
        codec::check_limits(&item)?;
        let urn_s = urn.as_str();

        if meta.parent.is_none() && markers.is_empty() {
            // A lone root: one PutItem.
            let sent = item.clone();
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await;
            return match res {
                Ok(_) => Ok(Stored {
                    urn: urn.clone(),
                    data,
                    meta: meta.clone(),
                    pre_migration: Vec::new(),
                }),
                Err(e) => {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception())
                    {
                        // The SDK retries a request whose response was lost; if an earlier
                        // attempt of this very create landed, the item is ours: the same
                        // fields and the `_writeToken` only this create wrote.
                        if let Some(existing) = self.get_item(urn_s, urn_s).await?
                            && same_item(&existing, &sent)
                        {
                            return Ok(Stored {
                                urn: urn.clone(),
                                data,
                                meta: meta.clone(),
                                pre_migration: Vec::new(),
                            });
                        }
                        Err(Error::AlreadyExists {
                            urn: urn_s.to_string(),
                        })
                    } else {
                        Err(self.map_sdk_error("PutItem", e))
                    }
                }
            };
        }

        let mut tx = Tx::new();
        tx.put(self, item, Some("attribute_not_exists(PK)"), None, None)?;
        let mut parent_actions = 0;
        if let Some(parent) = &meta.parent {
            tx.put(
                self,
                parent_child_item(parent, urn.as_any(), &now),
                Some("attribute_not_exists(PK)"),
                None,
                None,
            )?;
            // The parent: exists, is of the declared type, is not fenced; count the child.
            let parent_type = parent.resource_type().to_string();
            tx.update(
                self,
                parent.as_str(),
                parent.as_str(),
                "ADD #cc :one".into(),
                Some("attribute_exists(PK) AND #rt = :pt AND attribute_not_exists(#del)"),
                Some(names(&[
                    ("#cc", attr::CHILD_COUNT),
                    ("#rt", attr::RESOURCE_TYPE),
                    ("#del", attr::DELETING),
                ])),
                Some(HashMap::from([
                    (":one".to_string(), n(1)),
                    (":pt".to_string(), s(parent_type)),
                ])),
            )?;
            parent_actions = 2;
            // Every other ancestor: exists and is not fenced (a cascade above the parent).
            for ancestor in &meta.ancestors[..meta.ancestors.len() - 1] {
                tx.check(
                    self,
                    ancestor.as_str(),
                    ancestor.as_str(),
                    "attribute_exists(PK) AND attribute_not_exists(#del)",
                    Some(names(&[("#del", attr::DELETING)])),
                    None,
                )?;
                parent_actions += 1;
            }
        }
        for m in &markers {
            tx.put(
                self,
                marker_item::<E>(m, urn_s, &now),
                Some("attribute_not_exists(PK)"),
                None,
                None,
            )?;
        }
        match tx.send(self, urn_s).await? {
            TxOutcome::Applied => Ok(Stored {
                urn: urn.clone(),
                data,
                meta: meta.clone(),
                pre_migration: Vec::new(),
            }),
            TxOutcome::Cancelled(reasons) => {
                let first_marker = 1 + parent_actions;
                Err(decode_insert_failure::<E>(
                    &reasons,
                    urn_s,
                    &meta,
                    &markers,
                    first_marker,
                ))
            }
        }
    }
}
/// Whether two items are equal, sets compared as sets.
fn same_item(a: &Item, b: &Item) -> bool {
    fn norm(v: &AttributeValue) -> AttributeValue {
        match v {
            AttributeValue::Ss(s) => {
                let mut s = s.clone();
                s.sort();
                AttributeValue::Ss(s)
            }
            other => other.clone(),
        }
    }
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| norm(v) == norm(w)))
}

fn decode_insert_failure<E: Entity>(
    reasons: &[Cancelled],
    urn: &str,
    meta: &ResourceMeta,
    markers: &[Marker],
    first_marker: usize,
) -> Error {
    let failed = |i: usize| reasons.get(i).is_some_and(Cancelled::condition_failed);
    if failed(0) || (meta.parent.is_some() && failed(1)) {
        return Error::AlreadyExists {
            urn: urn.to_string(),
        };
    }
    if let Some(parent) = &meta.parent {
        if failed(2) {
            let old = reasons.get(2).and_then(|r| r.item.as_ref());
            return match old {
                Some(old) if old.contains_key(attr::DELETING) => Error::BeingDeleted {
                    urn: parent.to_string(),
                },
                _ => Error::ParentMissing {
                    parent: parent.to_string(),
                },
            };
        }
        let others = &meta.ancestors[..meta.ancestors.len() - 1];
        for (i, ancestor) in others.iter().enumerate() {
            if failed(3 + i) {
                let old = reasons.get(3 + i).and_then(|r| r.item.as_ref());
                return match old {
                    Some(_) => Error::BeingDeleted {
                        urn: ancestor.to_string(),
                    },
                    None => Error::ParentMissing {
                        parent: ancestor.to_string(),
                    },
                };
            }
        }
    }
    for (i, m) in markers.iter().enumerate() {
        if let Some(r) = reasons
            .get(first_marker + i)
            .filter(|r| r.condition_failed())
        {
            return unique_violation::<E>(m, r);
        }
    }
    Error::Conflict {
        urn: urn.to_string(),
        expected: 0,
        current: None,
    }
}
