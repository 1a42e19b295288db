//! The atomic path: a leaf or a small closure deleted in one TransactWriteItems, conditioned
//! on what was read.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::records::attrs;
use crate::schema::{attr, limits};
use crate::wire::store::Store;
use crate::wire::tx::{Tx, TxOutcome};

use super::{Closure, DeleteOptions, DeleteReport, Node, OutsideUpdate, Progress};
use crate::schema::keys;
use crate::wire::write::{Write, writes};
use std::collections::BTreeMap;

use crate::urn::AnyUrn;

impl Store {
    /// Tries to delete a whole closure in one TransactWriteItems, every resource conditioned
    /// on what was read. `Ok(None)`: it does not fit, or something changed; the caller retries
    /// or sweeps.
    pub(super) async fn try_atomic(
        &self,
        closure: &Closure,
        opts: &DeleteOptions,
    ) -> Result<Option<DeleteReport>> {
        let Some(root) = closure.nodes.first() else {
            return Ok(None);
        };
        if closure.truncated || closure.unsettled || closure.nodes.iter().any(|n| n.item.is_none())
        {
            return Ok(None);
        }
        let outside = self.outside_updates(closure, root);
        let actions = closure.record_count()
            + outside.len()
            + usize::from(root.meta.as_ref().is_some_and(|m| m.parent.is_some()));
        if actions > limits::MAX_TRANSACT_ACTIONS {
            return Ok(None);
        }
        let Some(tx) = atomic_tx(closure, root, &outside) else {
            return Ok(None);
        };
        if tx.check_limits(root.urn.as_str()).is_err() {
            return Ok(None);
        }
        let records = closure.record_count();
        match tx.send(self, root.urn.as_str()).await? {
            TxOutcome::Applied => {
                let report = closure.report(root.meta.as_ref().is_some_and(|m| m.parent.is_some()));
                if let Some(p) = &opts.progress {
                    p(Progress {
                        discovered: records,
                        deleted: records,
                    });
                }
                Ok(Some(report))
            }
            TxOutcome::Cancelled(reasons) => {
                let root_reason = reasons.first();
                if let Some(r) = root_reason.filter(|r| r.condition_failed()) {
                    match &r.item {
                        None => {
                            return Err(Error::NotFound {
                                urn: root.urn.to_string(),
                            });
                        }
                        Some(old) => {
                            let created = attrs::get_ts(old, attr::CREATED_AT).ok();
                            if opts.expected_created_at.is_some_and(|c| Some(c) != created) {
                                return Err(super::reincarnated(&root.urn));
                            }
                            let current = attrs::get_u64(old, attr::VERSION).ok();
                            if let Some(v) = opts.expected_version
                                && current != Some(v)
                                && !old.contains_key(attr::DELETING)
                            {
                                return Err(Error::Conflict {
                                    urn: root.urn.to_string(),
                                    expected: v,
                                    current,
                                });
                            }
                        }
                    }
                }
                Ok(None)
            }
        }
    }
}

/// The whole closure as one transaction, every write conditioned on what was read; `None`
/// when an item would be written twice (DynamoDB allows each item once per transaction).
///
/// Every relationship record it deletes must still exist. The resources' conditions pin
/// their counts and `_memberOf` as read, but a count is preserved by churn (one child deleted
/// and another created, one membership removed and another added) and `_memberOf` can be
/// stale after an interrupted cascade removed a membership from the other end: in both cases
/// a record read is gone, its delete's condition fails, and the atomic path gives way to the
/// fenced sweep, which reads again. Unconditioned, the transaction would commit, orphan the
/// new record or decrement a count twice (write protocol defects 1 and 2).
fn atomic_tx(
    closure: &Closure,
    root: &Node,
    outside: &BTreeMap<AnyUrn, OutsideUpdate>,
) -> Option<Tx> {
    let mut tx = Tx::new();
    let mut touched: HashSet<(String, String)> = HashSet::new();
    let mut push = |w: Write| touched.insert(w.key()).then(|| tx.push(w)).map(|_| ());
    // Resources, each conditioned on the state read.
    for node in &closure.nodes {
        let meta = node.meta.as_ref()?;
        push(Write::delete(node.urn.as_str(), node.urn.as_str()).when(writes::as_read(meta)))?;
    }
    let root_edge = root
        .meta
        .as_ref()
        .and_then(|m| m.parent.as_ref())
        .map(|p| (p, &root.urn));
    for (parent, child) in closure
        .parent_child
        .iter()
        .map(|(p, c, _)| (p, c))
        .chain(root_edge)
    {
        push(
            Write::delete(parent.as_str(), &keys::child_sk(child.as_str())).when(writes::exists()),
        )?;
    }
    for (collection, member) in closure.memberships.keys() {
        push(
            Write::delete(collection.as_str(), &keys::member_sk(member.as_str()))
                .when(writes::exists()),
        )?;
    }
    for (key, owner) in &closure.markers {
        push(writes::delete_marker_if_owned(key, owner.as_str()))?;
    }
    for (urn, upd) in outside {
        push(Write::update(urn.as_str(), urn.as_str(), upd.expression()).when(writes::exists()))?;
    }
    Some(tx)
}
