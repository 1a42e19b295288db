//! The atomic path: a leaf or a small closure deleted in one TransactWriteItems, conditioned
//! on what was read.

use std::collections::{HashMap, HashSet};

use crate::codec::{self, n, s};
use crate::error::{Error, Result};
use crate::schema::{PK, attr, limits};
use crate::store::{Store, names};
use crate::tx::{Tx, TxOutcome};

use super::{Closure, DeleteOptions, DeleteReport, Progress, child_sk, member_sk};

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
        if closure.truncated || closure.nodes.iter().any(|n| n.item.is_none()) {
            return Ok(None);
        }
        let outside = self.outside_updates(closure, root);
        let actions = closure.record_count()
            + outside.len()
            + usize::from(root.meta.as_ref().is_some_and(|m| m.parent.is_some()));
        if actions > limits::MAX_TRANSACT_ACTIONS {
            return Ok(None);
        }
        let mut tx = Tx::new();
        let mut touched: HashSet<(String, String)> = HashSet::new();
        let mut touch = |pk: &str, sk: &str| touched.insert((pk.to_string(), sk.to_string()));
        // Resources, each conditioned on the state read.
        for node in &closure.nodes {
            let (Some(meta), true) = (&node.meta, touch(node.urn.as_str(), node.urn.as_str()))
            else {
                return Ok(None);
            };
            let mut cond = vec![
                "#v = :v".to_string(),
                "attribute_not_exists(#del)".to_string(),
            ];
            let mut vals = HashMap::from([(":v".to_string(), n(meta.version))]);
            if meta.child_count == 0 {
                cond.push("(attribute_not_exists(#cc) OR #cc = :zero)".into());
            } else {
                cond.push("#cc = :cc".into());
                vals.insert(":cc".into(), n(meta.child_count));
            }
            if meta.member_count == 0 {
                cond.push("(attribute_not_exists(#mc) OR #mc = :zero)".into());
            } else {
                cond.push("#mc = :mc".into());
                vals.insert(":mc".into(), n(meta.member_count));
            }
            // The collections holding it, exactly as read: their membership records are the
            // ones this transaction deletes (a membership moved since, with the same count,
            // must cancel it).
            if meta.member_of.is_empty() {
                cond.push("attribute_not_exists(#mo)".into());
            } else {
                cond.push("size(#mo) = :mo".into());
                vals.insert(":mo".into(), n(meta.member_of.len()));
                for (i, c) in meta.member_of.iter().enumerate() {
                    cond.push(format!("contains(#mo, :mo{i})"));
                    vals.insert(format!(":mo{i}"), s(c.as_str()));
                }
            }
            if meta.unique_keys.is_empty() {
                cond.push("attribute_not_exists(#uk)".into());
            } else {
                cond.push("size(#uk) = :uk".into());
                vals.insert(":uk".into(), n(meta.unique_keys.len()));
            }
            vals.insert(":zero".into(), n(0));
            tx.delete(
                self,
                node.urn.as_str(),
                node.urn.as_str(),
                Some(&cond.join(" AND ")),
                Some(names(&[
                    ("#v", attr::VERSION),
                    ("#del", attr::DELETING),
                    ("#cc", attr::CHILD_COUNT),
                    ("#mc", attr::MEMBER_COUNT),
                    ("#mo", attr::MEMBER_OF),
                    ("#uk", attr::UNIQUE_KEYS),
                ])),
                Some(vals),
            )?;
        }
        for (parent, child, _) in &closure.parent_child {
            let sk = child_sk(child);
            if !touch(parent.as_str(), &sk) {
                return Ok(None);
            }
            tx.delete(self, parent.as_str(), &sk, None, None, None)?;
        }
        if let Some(parent) = root.meta.as_ref().and_then(|m| m.parent.as_ref()) {
            let sk = child_sk(&root.urn);
            if !touch(parent.as_str(), &sk) {
                return Ok(None);
            }
            tx.delete(self, parent.as_str(), &sk, None, None, None)?;
        }
        for (collection, member) in closure.memberships.keys() {
            let sk = member_sk(member);
            if !touch(collection.as_str(), &sk) {
                return Ok(None);
            }
            tx.delete(self, collection.as_str(), &sk, None, None, None)?;
        }
        for (key, owner) in &closure.markers {
            if !touch(key, key) {
                return Ok(None);
            }
            tx.delete(
                self,
                key,
                key,
                Some("attribute_not_exists(PK) OR #o = :me"),
                Some(names(&[("#o", attr::OWNER_URN)])),
                Some(HashMap::from([(":me".to_string(), s(owner.as_str()))])),
            )?;
        }
        for (urn, upd) in &outside {
            if !touch(urn.as_str(), urn.as_str()) {
                return Ok(None);
            }
            let (expr, nm, vals) = upd.expression();
            let mut nm = nm;
            nm.insert("#pk".into(), PK.into());
            tx.update(
                self,
                urn.as_str(),
                urn.as_str(),
                expr,
                Some("attribute_exists(#pk)"),
                Some(nm),
                Some(vals),
            )?;
        }
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
                            let current = codec::get_u64(old, attr::VERSION).ok();
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
