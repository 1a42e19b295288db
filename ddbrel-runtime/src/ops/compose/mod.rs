//! Composed transactions (SCHEMA.md §10 "Composed transaction"): typed steps (create,
//! create a child, also of a parent created in the same transaction, update, add and remove
//! a member, delete a leaf, a caller's condition) committed as one TransactWriteItems, with the writes of
//! each item merged ([`plan`]) and a cancellation named after the step that caused it.

mod blame;
mod operand;
mod plan;

use crate::entity::{Collection, Entity, MemberOf, Root};
use crate::error::{Error, Result};
use crate::parent::ChildOf;
use crate::records::marker::{marker_item, markers_for};
use crate::records::membership::{Membership, collection_rule, membership_item};
use crate::records::parent_child::parent_child_item;
use crate::records::resource::{ResourceMeta, Stored, created_item};
use crate::schema::{attr, keys};
use crate::time;
use crate::urn::{AnyUrn, Urn};
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::tx::{Tx, TxOutcome};
use crate::wire::write::{Write, writes};

use blame::blame;
pub use operand::{CommitError, Committed, Operand, Pending};
use plan::{Blame, Plan};

/// A transaction under construction: see [`Store::transaction`].
#[derive(Debug)]
pub struct Transaction<'s> {
    store: &'s Store,
    id: u64,
    plan: Plan,
    steps: usize,
    now: crate::time::Timestamp,
    /// The first error a step met, and the step: the commit reports it and sends nothing.
    refused: Option<(usize, Error)>,
}

impl Store {
    /// Starts a composed transaction: steps added to it are committed together, as one
    /// TransactWriteItems, or not at all.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use ddbrel_runtime::Entity;
    /// # #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org")]
    /// # pub struct Org { name: String }
    /// # #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org.Folder")]
    /// # #[parent(Org)]
    /// # pub struct Folder { name: String }
    /// # async fn f(store: &ddbrel_runtime::Store, org: ddbrel_runtime::Stored<Org>) -> Result<(), ddbrel_runtime::Error> {
    /// let mut t = store.transaction();
    /// let a = t.create_child(&org, Folder { name: "a".into() });
    /// let b = t.create_child(&org, Folder { name: "b".into() }); // one count update on org
    /// let done = t.commit().await?;
    /// let a = done.stored(&a).expect("a step of this transaction");
    /// # Ok(()) }
    /// ```
    pub fn transaction(&self) -> Transaction<'_> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Transaction {
            store: self,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            plan: Plan::default(),
            steps: 0,
            now: time::now(),
            refused: None,
        }
    }
}

impl Transaction<'_> {
    fn step(&mut self) -> usize {
        self.steps += 1;
        self.steps - 1
    }

    /// Records a step's error: the first one is what the commit reports.
    fn refuse(&mut self, step: usize, e: Error) {
        if self.refused.is_none() {
            self.refused = Some((step, e));
        }
    }

    /// Creates a root resource (with a new URN).
    pub fn create<E: Root>(&mut self, data: E) -> Pending<E> {
        let account = E::ACCOUNT_SCOPED.then_some(());
        let urn = Urn::<E>::new();
        let account = account.map(|_| urn.as_any().clone());
        self.insert(urn, data, account, None)
    }

    /// Creates a child of `parent`: a resource read earlier, or one an earlier step of this
    /// transaction creates (whose Put then carries the child count).
    pub fn create_child<E: ChildOf<P>, P: Entity>(
        &mut self,
        parent: &impl Operand<P>,
        data: E,
    ) -> Pending<E> {
        let p = parent.resource();
        let account = E::ACCOUNT_SCOPED.then(|| {
            p.meta
                .account
                .clone()
                .unwrap_or_else(|| p.urn.as_any().clone())
        });
        let new = parent.created_in(self.id);
        self.insert(
            Urn::new(),
            data,
            account,
            Some((p.urn.as_any(), &p.meta, new)),
        )
    }

    fn insert<E: Entity>(
        &mut self,
        urn: Urn<E>,
        data: E,
        account: Option<AnyUrn>,
        parent: Option<(&AnyUrn, &ResourceMeta, bool)>,
    ) -> Pending<E> {
        let step = self.step();
        let now = self.now;
        let parent_urn = parent.map(|(u, _, _)| u.clone());
        let mut ancestors = parent
            .map(|(_, m, _)| m.ancestors.clone())
            .unwrap_or_default();
        ancestors.extend(parent_urn.clone());
        let markers = match markers_for(&data, account.as_ref(), parent_urn.as_ref()) {
            Ok(m) => m,
            Err(e) => {
                self.refuse(step, e);
                Vec::new()
            }
        };
        let meta = ResourceMeta::created(
            E::SCHEMA_VERSION,
            now,
            account,
            parent_urn,
            ancestors,
            &markers,
        );
        let result = (|| -> Result<()> {
            let item = created_item(&urn, &data, &meta)?;
            let u = urn.as_str().to_string();
            self.plan.put(step, item, Blame::New { urn: u.clone() })?;
            if let Some((p, read, _)) = parent {
                self.plan.put(
                    step,
                    parent_child_item(p, urn.as_any(), &now, E::descriptor().on_delete),
                    Blame::New { urn: u.clone() },
                )?;
                let check = writes::live()
                    .and(writes::of_type(p.resource_type()))
                    .and(writes::incarnation(read.created_at));
                let blame = Blame::Parent {
                    parent: p.to_string(),
                    resource_type: p.resource_type().to_string(),
                };
                self.plan
                    .count(step, p.as_str(), attr::CHILD_COUNT, 1, check, blame)?;
            }
            for m in &markers {
                let blame = Blame::Marker {
                    resource_type: E::RESOURCE_TYPE.to_string(),
                    marker: m.clone(),
                };
                self.plan.put(step, marker_item::<E>(m, &u, &now), blame)?;
            }
            // A restricting child checks every ancestor above its parent (SCHEMA.md §7,
            // "Restrict"), as `Store::create_child` does.
            for a in crate::ops::create::restricting_guard::<E>(&meta) {
                let blame = Blame::Ancestor { urn: a.to_string() };
                self.plan
                    .condition(step, a.as_str(), writes::not_fenced(), blame)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.refuse(step, e);
        }
        Pending {
            stored: Stored {
                urn,
                data,
                meta,
                pre_migration: Vec::new(),
            },
            tx: self.id,
            step,
        }
    }

    /// Writes the changes made to `stored.data`, conditioned on the version read, moving its
    /// unique values' markers as [`Store::update`] does. Other steps' bookkeeping on the same
    /// resource (a child created under it, a membership) joins this write.
    pub fn update<E: Entity + Clone>(&mut self, stored: &Stored<E>) -> Pending<E> {
        let step = self.step();
        let mut after = stored.clone();
        match super::update::plan_update(stored) {
            Err(e) => self.refuse(step, e),
            Ok(p) => {
                let urn = stored.urn.as_str().to_string();
                let blame = Blame::AsRead {
                    urn: urn.clone(),
                    read: Box::new(stored.meta.clone()),
                };
                let mut r = self.plan.resource_write(step, p.write, blame);
                for key in &p.removed {
                    r = r.and_then(|_| {
                        self.plan.other(
                            step,
                            writes::delete_marker_if_owned(key, &urn),
                            Blame::OldMarker { urn: urn.clone() },
                        )
                    });
                }
                for m in &p.added {
                    let item = marker_item::<E>(m, &urn, &p.meta.updated_at);
                    let blame = Blame::Marker {
                        resource_type: E::RESOURCE_TYPE.to_string(),
                        marker: m.clone(),
                    };
                    r = r.and_then(|_| self.plan.put(step, item, blame));
                }
                if let Err(e) = r {
                    self.refuse(step, e);
                }
                after.meta = p.meta;
            }
        }
        Pending {
            stored: after,
            tx: self.id,
            step,
        }
    }

    /// Joins a field-level update ([`Store::patch`], built but not sent) to the transaction:
    /// its one UpdateItem, with its conditions (the resource live, at this schema version,
    /// at the expected version if one was given); other steps' bookkeeping on the same
    /// resource joins it. A patch of a unique field cannot join (it reads first): use
    /// [`Transaction::update`]. Returns the step's number; read the resource after the
    /// commit for its new state.
    pub fn patch<E: Entity + Clone>(&mut self, patch: super::patch::Patch<'_, E>) -> usize {
        let step = self.step();
        let r = patch.into_step().and_then(|(write, blame)| {
            self.plan
                .resource_write(step, write, Blame::Patched(Box::new(blame)))
        });
        if let Err(e) = r {
            self.refuse(step, e);
        }
        step
    }

    /// Adds `member` to `collection` with the collection type's default for conveying
    /// authorization: the membership record, the collection's count and the member's
    /// `_memberOf`, either end read earlier or created by an earlier step (whose Put then
    /// carries them).
    pub fn add_member<C: Collection, M: MemberOf<C>>(
        &mut self,
        collection: &impl Operand<C>,
        member: &impl Operand<M>,
    ) {
        let step = self.step();
        let (c, m) = (collection.resource(), member.resource());
        let membership = Membership {
            collection: c.urn.as_any().clone(),
            member: m.urn.as_any().clone(),
            conveys_authorization: C::CONVEYS_AUTHORIZATION,
        };
        let (cu, mu) = (c.urn.as_str(), m.urn.as_str());
        let r = self
            .plan
            .put(
                step,
                membership_item(&membership, &self.now, collection_rule::<C>()),
                Blame::New {
                    urn: format!("{cu} member {mu}"),
                },
            )
            .and_then(|_| {
                self.plan.count(
                    step,
                    cu,
                    attr::MEMBER_COUNT,
                    1,
                    writes::live().and(writes::of_type(C::RESOURCE_TYPE)),
                    Blame::End {
                        urn: cu.to_string(),
                    },
                )
            })
            .and_then(|_| {
                self.plan.join(
                    step,
                    mu,
                    cu,
                    C::CONVEYS_AUTHORIZATION,
                    writes::live(),
                    Blame::End {
                        urn: mu.to_string(),
                    },
                )
            })
            .and_then(|_| {
                // A restricting collection's ancestors, as `Store::add_member` checks them.
                for a in crate::ops::members::restricting_guard::<C>(&c.meta, m.urn.as_any()) {
                    let blame = Blame::Ancestor { urn: a.to_string() };
                    self.plan
                        .condition(step, a.as_str(), writes::not_fenced(), blame)?;
                }
                Ok(())
            });
        if let Err(e) = r {
            self.refuse(step, e);
        }
    }

    /// Removes `member` from `collection`: the record (which must exist), the count and the
    /// member's `_memberOf`.
    pub fn remove_member<C: Collection, M: MemberOf<C>>(
        &mut self,
        collection: &Urn<C>,
        member: &Urn<M>,
    ) {
        let step = self.step();
        let (cu, mu) = (collection.as_str(), member.as_str());
        let record = Write::delete(cu, &keys::member_sk(mu)).when(writes::exists());
        let leave = Write::update(
            mu,
            mu,
            Expr::new("DELETE #mo :c, #conv :c")
                .name("#mo", attr::MEMBER_OF)
                .name("#conv", attr::CONVEYING_COLLECTIONS)
                .value(
                    ":c",
                    aws_sdk_dynamodb::types::AttributeValue::Ss(vec![cu.to_string()]),
                ),
        )
        .when(writes::exists());
        let r = self
            .plan
            .other(
                step,
                record,
                Blame::Condition {
                    urn: format!("{cu} member {mu}"),
                    condition: "the membership exists".into(),
                },
            )
            .and_then(|_| {
                self.plan.count(
                    step,
                    cu,
                    attr::MEMBER_COUNT,
                    -1,
                    writes::exists(),
                    Blame::End {
                        urn: cu.to_string(),
                    },
                )
            })
            .and_then(|_| {
                self.plan.other(
                    step,
                    leave,
                    Blame::End {
                        urn: mu.to_string(),
                    },
                )
            });
        if let Err(e) = r {
            self.refuse(step, e);
        }
    }

    /// Deletes a leaf as read (no children, no members, not being deleted): the resource
    /// conditioned on its state as read (SCHEMA.md §10 "Delete leaf"), its parent-child record
    /// and its parent's count, its markers, and its memberships with their collections'
    /// counts. A resource that was not a leaf when read is refused: delete it with
    /// [`Store::delete`], which cascades.
    pub fn delete_leaf<E: Entity>(&mut self, stored: &Stored<E>) {
        let step = self.step();
        let meta = &stored.meta;
        if meta.child_count > 0 || meta.member_count > 0 || meta.deleting.is_some() {
            self.refuse(
                step,
                Error::InvalidArgument {
                    what: format!("deleting {} in a transaction", stored.urn),
                    reason: "it was not a leaf when read (children, members or a cascade); use Store::delete, which cascades".into(),
                },
            );
            return;
        }
        let u = stored.urn.as_str();
        let gone = |what: &str| Blame::Condition {
            urn: u.to_string(),
            condition: format!("{what} still exists"),
        };
        let mut r = self.plan.other(
            step,
            Write::delete(u, u).when(writes::as_read(meta)),
            Blame::AsRead {
                urn: u.to_string(),
                read: Box::new(meta.clone()),
            },
        );
        if let Some(parent) = &meta.parent {
            let record = Write::delete(parent.as_str(), &keys::child_sk(u)).when(writes::exists());
            r = r
                .and_then(|_| {
                    self.plan
                        .other(step, record, gone("its parent-child record"))
                })
                .and_then(|_| {
                    self.plan.count(
                        step,
                        parent.as_str(),
                        attr::CHILD_COUNT,
                        -1,
                        writes::exists(),
                        Blame::End {
                            urn: parent.to_string(),
                        },
                    )
                });
        }
        for key in &meta.unique_keys {
            r = r.and_then(|_| {
                self.plan.other(
                    step,
                    writes::delete_marker_if_owned(key, u),
                    Blame::OldMarker { urn: u.to_string() },
                )
            });
        }
        for c in &meta.member_of {
            let record = Write::delete(c.as_str(), &keys::member_sk(u)).when(writes::exists());
            r = r
                .and_then(|_| self.plan.other(step, record, gone("its membership record")))
                .and_then(|_| {
                    self.plan.count(
                        step,
                        c.as_str(),
                        attr::MEMBER_COUNT,
                        -1,
                        writes::exists(),
                        Blame::End { urn: c.to_string() },
                    )
                });
        }
        if let Err(e) = r {
            self.refuse(step, e);
        }
    }

    /// A condition of the caller's on the resource `urn` (e.g. "the account is still on plan
    /// Team": `Expr::new("#p = :p").name("#p", "plan").value(":p", ..)`): the transaction
    /// commits only if it holds. `describe` names it in the error.
    pub fn require<E>(&mut self, urn: &Urn<E>, condition: Expr, describe: &str) {
        let step = self.step();
        let u = urn.as_str();
        let blame = Blame::Condition {
            urn: u.to_string(),
            condition: describe.to_string(),
        };
        let condition = writes::exists().and(condition);
        if let Err(e) = self.plan.condition(step, u, condition, blame) {
            self.refuse(step, e);
        }
    }

    /// Requires the resource to be unchanged since it was read (its version and incarnation),
    /// without writing it.
    pub fn require_unchanged<E>(&mut self, stored: &Stored<E>) {
        let step = self.step();
        let u = stored.urn.as_str();
        let condition = writes::at_version(stored.meta.version)
            .and(writes::incarnation(stored.meta.created_at))
            .and(writes::not_fenced());
        let blame = Blame::AsRead {
            urn: u.to_string(),
            read: Box::new(stored.meta.clone()),
        };
        if let Err(e) = self.plan.condition(step, u, condition, blame) {
            self.refuse(step, e);
        }
    }

    /// Sends the transaction: one TransactWriteItems, refused before sending when a step was
    /// refused or the merged writes exceed DynamoDB's limits (100 actions, 4 MB).
    pub async fn commit(self) -> std::result::Result<Committed, CommitError> {
        let span = op_span!(self.store, "commit", ddbrel.transaction = self.id);
        traced(span, async {
            let fail = |step: Option<usize>, error: Error| CommitError { step, error };
            if let Some((step, e)) = self.refused {
                return Err(fail(Some(step), e));
            }
            let writes = self.plan.into_writes().map_err(|e| fail(None, e))?;
            if writes.is_empty() {
                return Ok(Committed { id: self.id });
            }
            let mut tx = Tx::new();
            let mut blames = Vec::with_capacity(writes.len());
            for (w, b) in writes {
                tx.push(w);
                blames.push(b);
            }
            let name = format!("a transaction of {} steps", self.steps);
            let outcome = tx
                .send(self.store, &name)
                .await
                .map_err(|e| fail(None, e))?;
            match outcome {
                TxOutcome::Applied => Ok(Committed { id: self.id }),
                TxOutcome::Cancelled(reasons) => Err(blame(&reasons, &blames)),
            }
        })
        .await
    }
}
