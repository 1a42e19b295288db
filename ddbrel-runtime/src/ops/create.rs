//! Creating resources (SCHEMA.md §10 "Create root", "Create child"): a lone root is one
//! PutItem; anything with a parent or unique values is one TransactWriteItems.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::entity::{Entity, Root};
use crate::error::{Error, Result};
use crate::parent::ChildOf;
use crate::records::attrs;
use crate::records::marker::marker_item;
use crate::records::marker::{Marker, markers_for};
use crate::records::parent_child::parent_child_item;
use crate::records::resource::ResourceMeta;
use crate::records::resource::{Stored, created_item};
use crate::schema::attr;
use crate::time;
use crate::urn::{AnyUrn, Urn};
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::tx::{Cancelled, Tx, TxOutcome};
use crate::wire::write::{Sent, Write, writes};

use super::update::unique_violation;

/// Where a new resource goes: its account, its parent (with the creation time of the
/// incarnation read), its ancestors.
struct Placement {
    account: Option<AnyUrn>,
    parent: Option<(AnyUrn, crate::time::Timestamp)>,
    ancestors: Vec<AnyUrn>,
}

/// What the transaction of a create needs besides the item.
struct TxContext<'a> {
    meta: &'a ResourceMeta,
    markers: &'a [Marker],
    parent_created: Option<crate::time::Timestamp>,
    now: &'a crate::time::Timestamp,
}

impl Store {
    /// Creates a root resource with a new URN. One request: a PutItem, or a TransactWriteItems
    /// when the entity holds unique values. Fails with [`Error::AlreadyExists`] if the URN
    /// exists and [`Error::UniqueViolation`] if a unique value is held.
    pub async fn create<E: Root>(&self, data: E) -> Result<Stored<E>> {
        self.create_with_urn(Urn::new(), data).await
    }

    /// Creates a root resource with the given URN.
    pub async fn create_with_urn<E: Root>(&self, urn: Urn<E>, data: E) -> Result<Stored<E>> {
        let span = op_span!(self, "create", ddbrel.urn = %urn);
        traced(span, async {
            // An account-scoped root is its own account.
            let account = E::ACCOUNT_SCOPED.then(|| urn.as_any().clone());
            let place = Placement {
                account,
                parent: None,
                ancestors: Vec::new(),
            };
            self.insert(urn, data, place).await
        })
        .await
    }

    /// Creates a child resource under `parent` with a new URN, in one TransactWriteItems: the
    /// child, its ParentChildRelationship, the parent's child count (conditioned on the parent
    /// existing, being the incarnation read, of the declared type and not being deleted), and
    /// the child's uniqueness markers. No other ancestor is read or checked. Fails with [`Error::ParentMissing`] or
    /// [`Error::BeingDeleted`].
    pub async fn create_child<E: ChildOf<P>, P: Entity>(
        &self,
        parent: &Stored<P>,
        data: E,
    ) -> Result<Stored<E>> {
        self.create_child_with_urn(parent, Urn::new(), data).await
    }

    /// Creates a child resource with the given URN.
    pub async fn create_child_with_urn<E: ChildOf<P>, P: Entity>(
        &self,
        parent: &Stored<P>,
        urn: Urn<E>,
        data: E,
    ) -> Result<Stored<E>> {
        let span = op_span!(self, "create_child", ddbrel.urn = %urn, ddbrel.parent = %parent.urn);
        traced(span, async {
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
            let place = Placement {
                account,
                parent: Some((parent.urn.as_any().clone(), parent.meta.created_at)),
                ancestors,
            };
            self.insert(urn, data, place).await
        })
        .await
    }

    /// Creates a child under the parent with this URN: reads the parent first (2 requests).
    pub async fn create_child_of<E: ChildOf<P>, P: Entity>(
        &self,
        parent: &Urn<P>,
        data: E,
    ) -> Result<Stored<E>> {
        let parent = self.get(parent).await.map_err(|e| match e {
            Error::NotFound { urn } => Error::ParentMissing { parent: urn },
            e => e,
        })?;
        self.create_child(&parent, data).await
    }

    async fn insert<E: Entity>(&self, urn: Urn<E>, data: E, place: Placement) -> Result<Stored<E>> {
        let now = time::now();
        let parent_created = place.parent.as_ref().map(|(_, created)| *created);
        let parent = place.parent.map(|(urn, _)| urn);
        let account = place.account;
        let ancestors = place.ancestors;
        let markers = markers_for(&data, account.as_ref(), parent.as_ref())?;
        let meta =
            ResourceMeta::created(E::SCHEMA_VERSION, now, account, parent, ancestors, &markers);
        let item = created_item(&urn, &data, &meta)?;
        if meta.parent.is_none() && markers.is_empty() {
            self.put_lone_root(urn.as_str(), item).await?;
        } else {
            let ctx = TxContext {
                meta: &meta,
                markers: &markers,
                parent_created,
                now: &now,
            };
            self.insert_in_tx::<E>(urn.as_any(), item, ctx).await?;
        }
        Ok(Stored {
            urn,
            data,
            meta,
            pre_migration: Vec::new(),
        })
    }

    /// A lone root: one PutItem, if the URN is free.
    async fn put_lone_root(&self, urn: &str, item: Item) -> Result<()> {
        let sent = item.clone();
        match Write::put(item).when(writes::absent()).send(self).await? {
            Sent::Applied(_) => Ok(()),
            Sent::ConditionFailed(existing) => {
                // The SDK retries a request whose response was lost; if an earlier attempt of
                // this very create landed, the item is ours: the same fields and the
                // `_writeToken` only this create wrote.
                let existing = match existing {
                    Some(item) => Some(item),
                    None => self.get_item(urn, urn).await?,
                };
                if existing.is_some_and(|e| same_item(&e, &sent)) {
                    return Ok(());
                }
                Err(Error::AlreadyExists {
                    urn: urn.to_string(),
                })
            }
        }
    }

    /// Anything with a parent or unique values: one TransactWriteItems of the resource, its
    /// ParentChildRelationship and the parent's count (which also checks the parent), and its
    /// markers.
    async fn insert_in_tx<E: Entity>(
        &self,
        child: &AnyUrn,
        item: Item,
        ctx: TxContext<'_>,
    ) -> Result<()> {
        let TxContext {
            meta,
            markers,
            parent_created,
            now,
        } = ctx;
        let urn = child.as_str();
        let mut tx = Tx::new();
        tx.push(Write::put(item).when(writes::absent()));
        let parent_actions = if meta.parent.is_some() { 2 } else { 0 };
        if let Some(parent) = &meta.parent {
            let rule = E::descriptor().on_delete;
            tx.push(Write::put(parent_child_item(parent, child, now, rule)).when(writes::absent()));
            // The parent: exists, is the incarnation read, is of the declared type, is not
            // fenced; count the child.
            let mut check = writes::live().and(writes::of_type(parent.resource_type()));
            if let Some(created) = parent_created {
                check = check.and(writes::incarnation(created));
            }
            tx.push(writes::count(parent.as_str(), attr::CHILD_COUNT, 1).when(check));
            // No other ancestor is checked (SCHEMA.md §7), but by a restricting child (below):
            // a cascade above fences the parent before it reads the parent's partition, or
            // deletes the parent as a leaf conditioned on its count, so this create either
            // lands before and is found, or is refused.
        }
        for m in markers {
            tx.push(writes::put_marker(marker_item::<E>(m, urn, now)));
        }
        // A restricting child (SCHEMA.md §7, "Restrict") also checks that no ancestor above
        // its parent is fenced: a cascade that passed over its parent while it was a leaf is
        // under way above, and its verdict must hold until it ends.
        let guarded = restricting_guard::<E>(meta);
        for ancestor in guarded {
            tx.push(Write::check(
                ancestor.as_str(),
                ancestor.as_str(),
                writes::not_fenced(),
            ));
        }
        match tx.send(self, urn).await? {
            TxOutcome::Applied => Ok(()),
            TxOutcome::Cancelled(reasons) => {
                let first_guard = 1 + parent_actions + markers.len();
                if let Some(fenced) = guarded
                    .iter()
                    .enumerate()
                    .find(|(i, _)| {
                        reasons
                            .get(first_guard + i)
                            .is_some_and(Cancelled::condition_failed)
                    })
                    .map(|(_, a)| a)
                {
                    return Err(Error::BeingDeleted {
                        urn: fenced.to_string(),
                    });
                }
                Err(decode_insert_failure::<E>(
                    &reasons,
                    urn,
                    meta,
                    markers,
                    1 + parent_actions,
                ))
            }
        }
    }
}
/// The ancestors above the parent that a create of an `E` checks for a fence: all of them
/// when `E` restricts its parent's delete (`#[parent(.., on_delete = restrict)]`), none
/// otherwise (SCHEMA.md §7, "Restrict").
pub(crate) fn restricting_guard<E: Entity>(meta: &ResourceMeta) -> &[AnyUrn] {
    match (E::descriptor().on_delete, meta.ancestors.split_last()) {
        (crate::entity::OnDelete::Restrict, Some((_parent, above))) => above,
        _ => &[],
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
    if let Some(parent) = &meta.parent
        && failed(2)
    {
        let old = reasons.get(2).and_then(|r| r.item.as_ref());
        return match old {
            Some(old) if old.contains_key(attr::DELETING) => Error::BeingDeleted {
                urn: parent.to_string(),
            },
            Some(old)
                if attrs::get_s(old, attr::RESOURCE_TYPE).ok() == Some(parent.resource_type()) =>
            {
                Error::ChangedMeanwhile {
                    urn: parent.to_string(),
                    what: "the parent was deleted and created again since it was read".into(),
                }
            }
            _ => Error::ParentMissing {
                parent: parent.to_string(),
            },
        };
    }
    for (i, m) in markers.iter().enumerate() {
        if let Some(r) = reasons
            .get(first_marker + i)
            .filter(|r| r.condition_failed())
        {
            return unique_violation::<E>(m, r);
        }
    }
    Error::ChangedMeanwhile {
        urn: urn.to_string(),
        what: "creating it".into(),
    }
}
