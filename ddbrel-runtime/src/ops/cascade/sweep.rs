//! The sweep: a fenced closure removed bottom-up so that no relationship record loses an end
//! while it exists; resumable.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs;
use crate::records::attrs::s;
use crate::schema::keys;
use crate::schema::{attr, limits};
use crate::time;
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::tx::{Tx, TxOutcome};
use crate::wire::write::{Sent, Write, writes};

use super::{Closure, DeleteOptions, DeleteReport, Node, OutsideUpdate, Progress};

impl Store {
    /// The fenced, resumable sweep.
    pub(super) async fn sweep(&self, urn: &AnyUrn, opts: &DeleteOptions) -> Result<DeleteReport> {
        let root_item = self.fence(urn, opts).await?;
        let closure = self.discover(urn, Some(root_item), usize::MAX).await?;
        let total = closure.record_count();
        let deleted = Arc::new(AtomicUsize::new(0));
        let progress = opts.progress.clone();
        let tick = {
            let deleted = deleted.clone();
            move |k: usize| {
                let d = deleted.fetch_add(k, Ordering::SeqCst) + k;
                if let Some(p) = &progress {
                    p(Progress {
                        discovered: total,
                        deleted: d,
                    });
                }
            }
        };
        tick(0);
        let Some(root) = closure.nodes.first().cloned() else {
            return Err(Error::NotFound {
                urn: urn.to_string(),
            });
        };
        let mut report = closure.report(root.meta.as_ref().is_some_and(|m| m.parent.is_some()));
        report.swept = true;

        // 1. Memberships across the boundary, each with its outside end, exactly once.
        self.sweep_boundary(&closure, &tick).await?;

        // 2. Markers, and memberships with both ends inside. A batch delete carries no
        // condition, so the markers are read first and only those owned by a resource of the
        // closure are deleted (a corrupt `_uniqueKeys` must not take another's marker).
        let owned = self
            .batch_get(
                closure
                    .markers
                    .iter()
                    .map(|(k, _)| (k.clone(), k.clone()))
                    .collect(),
            )
            .await?;
        let mut keys: Vec<(String, String)> = Vec::new();
        for (key, owner) in &closure.markers {
            match owned.get(&(key.clone(), key.clone())) {
                Some(item) if attrs::get_s(item, attr::OWNER_URN).ok() == Some(owner.as_str()) => {
                    keys.push((key.clone(), key.clone()));
                }
                Some(_) => {
                    tracing::warn!(marker = %key, owner = %owner, "marker held by another resource; left alone");
                    tick(1);
                }
                None => tick(1),
            }
        }
        for (collection, member) in closure.memberships.keys() {
            if closure.set.contains(collection) && closure.set.contains(member) {
                keys.push((collection.to_string(), keys::member_sk(member.as_str())));
            }
        }
        self.batch_delete(keys, &tick).await?;

        // 3. Resources from the deepest level up, each level's parent-child records after it.
        let max_depth = closure.nodes.iter().map(|n| n.depth).max().unwrap_or(0);
        for depth in (1..=max_depth).rev() {
            let resources: Vec<(String, String)> = closure
                .nodes
                .iter()
                .filter(|n| n.depth == depth && n.item.is_some())
                .map(|n| (n.urn.to_string(), n.urn.to_string()))
                .collect();
            self.batch_delete(resources, &tick).await?;
            let records: Vec<(String, String)> = closure
                .parent_child
                .iter()
                .filter(|(_, _, d)| *d == depth)
                .map(|(p, c, _)| (p.to_string(), keys::child_sk(c.as_str())))
                .collect();
            self.batch_delete(records, &tick).await?;
        }

        // 4. The root, its parent-child record and its parent's count, together.
        self.delete_fenced_root(&root).await?;
        tick(1 + usize::from(root.meta.as_ref().is_some_and(|m| m.parent.is_some())));
        Ok(report)
    }

    /// Sets the fence (idempotent) and returns the root item as it now is. With an expected
    /// version, the root must be at it, or fenced already (a resumed cascade).
    pub(super) async fn fence(&self, urn: &AnyUrn, opts: &DeleteOptions) -> Result<Item> {
        let expected_version = opts.expected_version;
        let mut condition = writes::exists();
        let mut as_read = None;
        if let Some(v) = expected_version {
            as_read = Some(writes::at_version(v));
        }
        if let Some(c) = opts.expected_created_at {
            let same = writes::incarnation(c);
            as_read = Some(match as_read {
                Some(e) => e.and(same),
                None => same,
            });
        }
        if let Some(e) = as_read {
            condition = condition.and(e.or(writes::fenced()));
        }
        let set = Expr::new("SET #del = if_not_exists(#del, :now)")
            .name("#del", attr::DELETING)
            .value(":now", s(time::format(time::now())));
        let write = Write::update(urn.as_str(), urn.as_str(), set)
            .when(condition)
            .returning_new();
        match write.send(self).await? {
            Sent::Applied(item) => item.ok_or_else(|| {
                Error::invalid_item(urn.as_str(), "the fence returned no attributes")
            }),
            Sent::ConditionFailed(None) => Err(Error::NotFound {
                urn: urn.to_string(),
            }),
            Sent::ConditionFailed(Some(old))
                if opts
                    .expected_created_at
                    .is_some_and(|c| attrs::get_ts(&old, attr::CREATED_AT).ok() != Some(c)) =>
            {
                Err(super::reincarnated(urn))
            }
            Sent::ConditionFailed(Some(old)) => Err(match expected_version {
                Some(expected) => Error::Conflict {
                    urn: urn.to_string(),
                    expected,
                    current: attrs::get_u64(&old, attr::VERSION).ok(),
                },
                None => Error::ChangedMeanwhile {
                    urn: urn.to_string(),
                    what: "setting the deletion fence".into(),
                },
            }),
        }
    }

    pub(super) async fn sweep_boundary(
        &self,
        closure: &Closure,
        tick: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<()> {
        // Group the crossing memberships by their outside end.
        let mut groups: BTreeMap<AnyUrn, Vec<(AnyUrn, AnyUrn)>> = BTreeMap::new();
        for (collection, member) in closure.memberships.keys() {
            let c_in = closure.set.contains(collection);
            let m_in = closure.set.contains(member);
            if c_in && !m_in {
                groups
                    .entry(member.clone())
                    .or_default()
                    .push((collection.clone(), member.clone()));
            } else if m_in && !c_in {
                groups
                    .entry(collection.clone())
                    .or_default()
                    .push((collection.clone(), member.clone()));
            }
        }
        let groups: Vec<(AnyUrn, Vec<(AnyUrn, AnyUrn)>)> = groups.into_iter().collect();
        stream::iter(groups)
            .map(|(outside, records)| async move {
                for chunk in records.chunks(limits::MAX_TRANSACT_ACTIONS - 1) {
                    self.boundary_chunk(&outside, chunk).await?;
                    tick(chunk.len());
                }
                Ok::<_, Error>(())
            })
            .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Deletes membership records and updates their one outside end in one transaction, each
    /// record conditioned on still existing. Records already gone (a resumed run) are dropped
    /// and the rest retried; an outside end that is gone needs no update.
    pub(super) async fn boundary_chunk(
        &self,
        outside: &AnyUrn,
        records: &[(AnyUrn, AnyUrn)],
    ) -> Result<()> {
        let mut pending: Vec<(AnyUrn, AnyUrn)> = records.to_vec();
        let mut outside_exists = true;
        for _ in 0..=records.len() + 1 {
            if pending.is_empty() {
                return Ok(());
            }
            if !outside_exists {
                let keys = pending
                    .iter()
                    .map(|(c, m)| (c.to_string(), keys::member_sk(m.as_str())))
                    .collect();
                self.batch_delete(keys, &|_| {}).await?;
                return Ok(());
            }
            let mut upd = OutsideUpdate::default();
            for (c, _) in &pending {
                if c == outside {
                    upd.member_delta -= 1;
                } else {
                    upd.remove_member_of.push(c.to_string());
                }
            }
            let mut tx = Tx::new();
            for (c, m) in &pending {
                tx.push(
                    Write::delete(c.as_str(), &keys::member_sk(m.as_str())).when(writes::exists()),
                );
            }
            tx.push(
                Write::update(outside.as_str(), outside.as_str(), upd.expression())
                    .when(writes::exists()),
            );
            match tx.send(self, outside.as_str()).await? {
                TxOutcome::Applied => return Ok(()),
                TxOutcome::Cancelled(reasons) => {
                    let n = pending.len();
                    if reasons.get(n).is_some_and(|r| r.condition_failed()) {
                        outside_exists = false;
                    }
                    let gone: HashSet<usize> = (0..n)
                        .filter(|i| reasons.get(*i).is_some_and(|r| r.condition_failed()))
                        .collect();
                    pending = pending
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !gone.contains(i))
                        .map(|(_, r)| r)
                        .collect();
                }
            }
        }
        Err(Error::ChangedMeanwhile {
            urn: outside.to_string(),
            what: "removing memberships that cross the cascade's boundary".into(),
        })
    }

    pub(super) async fn delete_fenced_root(&self, root: &Node) -> Result<()> {
        let parent = root.meta.as_ref().and_then(|m| m.parent.clone());
        let mut with_parent = parent.is_some();
        for _ in 0..3 {
            let mut tx = Tx::new();
            tx.push(Write::delete(root.urn.as_str(), root.urn.as_str()).when(writes::fenced()));
            if let Some(parent) = &parent {
                let edge = Write::delete(parent.as_str(), &keys::child_sk(root.urn.as_str()));
                if with_parent {
                    tx.push(edge.when(writes::exists()));
                    tx.push(
                        writes::count(parent.as_str(), attr::CHILD_COUNT, -1)
                            .when(writes::exists()),
                    );
                } else {
                    tx.push(edge);
                }
            }
            match tx.send(self, root.urn.as_str()).await? {
                TxOutcome::Applied => return Ok(()),
                TxOutcome::Cancelled(reasons) => {
                    if reasons.first().is_some_and(|r| r.condition_failed()) {
                        // Gone already (a concurrent run finished it) or never fenced.
                        let still = self.get_item(root.urn.as_str(), root.urn.as_str()).await?;
                        if still.is_none() {
                            return Ok(());
                        }
                        return Err(Error::ChangedMeanwhile {
                            urn: root.urn.to_string(),
                            what: "deleting the fenced root (its fence is gone)".into(),
                        });
                    }
                    // The parent or its record is gone (the parent is being deleted too): no
                    // count to keep.
                    with_parent = false;
                }
            }
        }
        Err(Error::ChangedMeanwhile {
            urn: root.urn.to_string(),
            what: "deleting the fenced root with its parent's record and count".into(),
        })
    }
}
