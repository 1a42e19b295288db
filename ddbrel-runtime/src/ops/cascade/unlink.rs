//! The sweep's writes: leaves deleted, memberships removed, each as a transaction of at most
//! 100 actions, every record conditioned on still existing and every resource on the state
//! read. A write that loses a race is dropped from its transaction and re-planned from a fresh
//! read in the sweep's next round; one that finds its other end gone goes without it.

use std::collections::{BTreeMap, HashSet};

use crate::error::{Error, Result};
use crate::records::resource::ResourceMeta;
use crate::schema::{keys, limits};
use crate::urn::AnyUrn;
use crate::wire::tx::{Cancelled, Tx, TxOutcome};
use crate::wire::write::{Write, writes};

use super::OutsideUpdate;
use super::run::Sweep;

/// Memberships a leaf may hold and still be deleted in its parent's transactions; a resource
/// in more collections is fenced and leaves them first, in transactions of its own.
const LEAF_MEMBERSHIPS: usize = 16;

/// Memberships removed per transaction: each takes its record and its other end's update,
/// and the transaction one more update of the end they share.
const MEMBERSHIPS_PER_TX: usize = (limits::MAX_TRANSACT_ACTIONS - 1) / 2;

/// Attempts at one transaction before its remaining writes are left to the next round.
const ATTEMPTS: usize = 4;

/// Whether the sweep deletes this resource as a leaf: nothing beneath it, and few enough
/// memberships to remove in its parent's transaction.
pub(super) fn is_leaf(meta: &ResourceMeta) -> bool {
    meta.child_count == 0 && meta.member_count == 0 && meta.member_of.len() <= LEAF_MEMBERSHIPS
}

/// A child to delete: its URN and its resource as read, `None` when its item was missing.
pub(super) type Leaf = (AnyUrn, Option<ResourceMeta>);

/// Which part of the plan an action of a transaction is.
enum Tag {
    /// The leaf's resource (or the check that it is still missing), its parent-child record
    /// or one of its markers: a failure re-plans the leaf.
    Leaf(usize),
    /// A marker of a leaf: a failure means another resource holds it (a corrupt
    /// `_uniqueKeys`); it is left alone and the leaf deleted without it.
    Marker(String),
    /// The membership record (collection, member) of a leaf or of the emptied end.
    Record(AnyUrn, AnyUrn),
    /// The update of another resource (a count, a `_memberOf`).
    Other(AnyUrn),
    /// The update of the node being emptied.
    Own,
}

/// Removes tagged actions' causes from the plan; `Err` when the node itself is gone.
struct Failures {
    leaves: HashSet<usize>,
    markers: HashSet<String>,
    records: HashSet<(AnyUrn, AnyUrn)>,
    others: HashSet<AnyUrn>,
    own: bool,
}

fn failures(tags: &[Tag], reasons: &[Cancelled]) -> Failures {
    let mut f = Failures {
        leaves: HashSet::new(),
        markers: HashSet::new(),
        records: HashSet::new(),
        others: HashSet::new(),
        own: false,
    };
    for (tag, r) in tags.iter().zip(reasons) {
        if !r.condition_failed() {
            continue;
        }
        match tag {
            Tag::Leaf(i) => {
                f.leaves.insert(*i);
            }
            Tag::Marker(key) => {
                f.markers.insert(key.clone());
            }
            Tag::Record(c, m) => {
                f.records.insert((c.clone(), m.clone()));
            }
            Tag::Other(u) => {
                f.others.insert(u.clone());
            }
            Tag::Own => f.own = true,
        }
    }
    f
}

/// A transaction under construction with a tag per action and the updates of other
/// resources merged per item (DynamoDB allows each item once per transaction).
#[derive(Default)]
struct Plan {
    tx: Tx,
    tags: Vec<Tag>,
    updates: BTreeMap<AnyUrn, OutsideUpdate>,
}

impl Plan {
    fn push(&mut self, w: Write, tag: Tag) {
        self.tx.push(w);
        self.tags.push(tag);
    }

    /// Appends the merged updates; the update of `own` is tagged [`Tag::Own`].
    fn finish(mut self, own: &AnyUrn) -> (Tx, Vec<Tag>) {
        for (urn, upd) in std::mem::take(&mut self.updates) {
            let tag = if &urn == own {
                Tag::Own
            } else {
                Tag::Other(urn.clone())
            };
            let w =
                Write::update(urn.as_str(), urn.as_str(), upd.expression()).when(writes::exists());
            self.push(w, tag);
        }
        (self.tx, self.tags)
    }
}

impl Sweep<'_> {
    /// Sends one of the sweep's transactions. A transaction that runs out of attempts on
    /// conflicts (writers still trying to attach to a resource the cascade holds or has
    /// fenced) is not the end of the cascade: it counts as cancelled with nothing failed, and
    /// the sweep's next round reads again and retries; the error is kept for the run to return
    /// if its rounds stop making progress.
    async fn send(&self, tx: Tx, urn: &AnyUrn) -> Result<TxOutcome> {
        match tx.send(self.store, urn.as_str()).await {
            Err(e @ Error::Contended { .. }) => {
                tracing::debug!(error = %e, "a cascade transaction ran out of attempts; re-planning");
                self.contended(e);
                Ok(TxOutcome::Cancelled(Vec::new()))
            }
            other => other,
        }
    }

    /// Deletes leaves of `parent` (which is fenced) in transactions of at most 100 actions:
    /// each leaf conditioned on its state as read (a child, membership or unique value added
    /// since cancels it), with its parent-child record, markers and memberships, and the
    /// parent's count. Returns the records deleted.
    ///
    /// A resource this cascade fenced and emptied goes in a transaction of its own: writers
    /// that still try to attach to it are refused, but each try holds the item for a moment,
    /// and a transaction of many such items would rarely find them all free.
    pub(super) async fn delete_leaves(&self, parent: &AnyUrn, leaves: Vec<Leaf>) -> Result<usize> {
        let mut deleted = 0;
        let (fenced, leaves): (Vec<Leaf>, Vec<Leaf>) = leaves
            .into_iter()
            .partition(|(_, m)| m.as_ref().is_some_and(|m| m.deleting.is_some()));
        for leaf in fenced {
            deleted += self.leaf_chunk(parent, vec![leaf]).await?;
        }
        let mut chunk: Vec<Leaf> = Vec::new();
        let mut actions = 1;
        for leaf in leaves {
            let cost = leaf_actions(&leaf);
            if actions + cost > limits::MAX_TRANSACT_ACTIONS && !chunk.is_empty() {
                deleted += self.leaf_chunk(parent, std::mem::take(&mut chunk)).await?;
                actions = 1;
            }
            actions += cost;
            chunk.push(leaf);
        }
        if !chunk.is_empty() {
            deleted += self.leaf_chunk(parent, chunk).await?;
        }
        Ok(deleted)
    }

    async fn leaf_chunk(&self, parent: &AnyUrn, mut leaves: Vec<Leaf>) -> Result<usize> {
        let mut stale: HashSet<(AnyUrn, AnyUrn)> = HashSet::new();
        let mut gone: HashSet<AnyUrn> = HashSet::new();
        let mut held: HashSet<String> = HashSet::new();
        for _ in 0..ATTEMPTS {
            if leaves.is_empty() {
                return Ok(0);
            }
            let mut plan = Plan::default();
            let mut memberships = 0;
            let mut markers = 0;
            for (i, (urn, meta)) in leaves.iter().enumerate() {
                let edge = Write::delete(parent.as_str(), &keys::child_sk(urn.as_str()))
                    .when(writes::exists());
                let Some(meta) = meta else {
                    // Missing: deleted by an earlier protocol's sweep before its record, or
                    // not yet visible (a create still committing); the check tells them apart.
                    plan.push(
                        Write::check(urn.as_str(), urn.as_str(), writes::absent()),
                        Tag::Leaf(i),
                    );
                    plan.push(edge, Tag::Leaf(i));
                    continue;
                };
                plan.push(
                    Write::delete(urn.as_str(), urn.as_str()).when(writes::unchanged(meta)),
                    Tag::Leaf(i),
                );
                plan.push(edge, Tag::Leaf(i));
                for key in meta.unique_keys.iter().filter(|k| !held.contains(*k)) {
                    plan.push(
                        writes::delete_marker_if_owned(key, urn.as_str()),
                        Tag::Marker(key.clone()),
                    );
                    markers += 1;
                }
                for c in &meta.member_of {
                    if stale.contains(&(c.clone(), urn.clone())) {
                        continue;
                    }
                    let record = Write::delete(c.as_str(), &keys::member_sk(urn.as_str()))
                        .when(writes::exists());
                    plan.push(record, Tag::Record(c.clone(), urn.clone()));
                    memberships += 1;
                    // A collection that is itself a leaf of this transaction (a corrupt
                    // `_memberOf`) is deleted, not counted down.
                    if !gone.contains(c) && !leaves.iter().any(|(l, _)| l == c) {
                        plan.updates.entry(c.clone()).or_default().member_delta -= 1;
                    }
                }
            }
            plan.updates.entry(parent.clone()).or_default().child_delta -= leaves.len() as i64;
            let (tx, tags) = plan.finish(parent);
            match self.send(tx, parent).await? {
                TxOutcome::Applied => {
                    let resources: Vec<&AnyUrn> = leaves
                        .iter()
                        .filter(|(_, m)| m.is_some())
                        .map(|(u, _)| u)
                        .collect();
                    let records = resources.len() + leaves.len() + memberships + markers;
                    self.record(|r| {
                        for urn in &resources {
                            *r.resources
                                .entry(urn.resource_type().to_string())
                                .or_insert(0) += 1;
                        }
                        r.parent_child += leaves.len();
                        r.memberships += memberships;
                        r.markers += markers;
                    });
                    self.tick(0, records);
                    return Ok(records);
                }
                TxOutcome::Cancelled(reasons) => {
                    let f = failures(&tags, &reasons);
                    if f.own {
                        // The parent is gone: another run of this cascade finished it.
                        return Ok(0);
                    }
                    for key in &f.markers {
                        tracing::warn!(marker = %key, "marker held by another resource; left alone");
                    }
                    held.extend(f.markers);
                    stale.extend(f.records);
                    gone.extend(f.others);
                    leaves = leaves
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !f.leaves.contains(i))
                        .map(|(_, l)| l)
                        .collect();
                }
            }
        }
        Ok(0)
    }

    /// Removes the membership records of the fenced collection `collection` (its members
    /// leave it, its count goes down with them). Returns the records deleted.
    pub(super) async fn drop_members(
        &self,
        collection: &AnyUrn,
        members: Vec<AnyUrn>,
    ) -> Result<usize> {
        let mut deleted = 0;
        for chunk in members.chunks(MEMBERSHIPS_PER_TX) {
            deleted += self.members_chunk(collection, chunk.to_vec()).await?;
        }
        Ok(deleted)
    }

    async fn members_chunk(&self, collection: &AnyUrn, mut members: Vec<AnyUrn>) -> Result<usize> {
        let mut gone: HashSet<AnyUrn> = HashSet::new();
        for _ in 0..ATTEMPTS {
            if members.is_empty() {
                return Ok(0);
            }
            let mut plan = Plan::default();
            for m in &members {
                let record = Write::delete(collection.as_str(), &keys::member_sk(m.as_str()))
                    .when(writes::exists());
                plan.push(record, Tag::Record(collection.clone(), m.clone()));
                if !gone.contains(m) {
                    let upd = plan.updates.entry(m.clone()).or_default();
                    upd.remove_member_of.push(collection.to_string());
                }
            }
            plan.updates
                .entry(collection.clone())
                .or_default()
                .member_delta -= members.len() as i64;
            let (tx, tags) = plan.finish(collection);
            match self.send(tx, collection).await? {
                TxOutcome::Applied => {
                    let k = members.len();
                    self.record(|r| r.memberships += k);
                    self.tick(0, k);
                    return Ok(k);
                }
                TxOutcome::Cancelled(reasons) => {
                    let f = failures(&tags, &reasons);
                    if f.own {
                        return Ok(0);
                    }
                    // A record gone was removed by someone else, with the count.
                    members.retain(|m| !f.records.contains(&(collection.clone(), m.clone())));
                    gone.extend(f.others);
                }
            }
        }
        Ok(0)
    }

    /// Takes the fenced `member` out of every collection in its `_memberOf`: each membership
    /// record deleted with its collection's count, and `_memberOf` emptied. A record already
    /// gone (removed from the other end by an interrupted cascade, which counted it) only
    /// leaves `_memberOf`. Returns the records deleted.
    pub(super) async fn leave_all(&self, member: &AnyUrn, member_of: &[AnyUrn]) -> Result<usize> {
        let mut deleted = 0;
        for chunk in member_of.chunks(MEMBERSHIPS_PER_TX) {
            deleted += self.leave_chunk(member, chunk).await?;
        }
        Ok(deleted)
    }

    async fn leave_chunk(&self, member: &AnyUrn, collections: &[AnyUrn]) -> Result<usize> {
        let mut stale: HashSet<AnyUrn> = HashSet::new();
        let mut gone: HashSet<AnyUrn> = HashSet::new();
        for _ in 0..ATTEMPTS {
            let mut plan = Plan::default();
            let mut records = 0;
            for c in collections {
                let own = plan.updates.entry(member.clone()).or_default();
                own.remove_member_of.push(c.to_string());
                if stale.contains(c) {
                    continue;
                }
                let record = Write::delete(c.as_str(), &keys::member_sk(member.as_str()))
                    .when(writes::exists());
                plan.push(record, Tag::Record(c.clone(), member.clone()));
                records += 1;
                if !gone.contains(c) {
                    plan.updates.entry(c.clone()).or_default().member_delta -= 1;
                }
            }
            let (tx, tags) = plan.finish(member);
            match self.send(tx, member).await? {
                TxOutcome::Applied => {
                    self.record(|r| r.memberships += records);
                    self.tick(0, records);
                    return Ok(records);
                }
                TxOutcome::Cancelled(reasons) => {
                    let f = failures(&tags, &reasons);
                    if f.own {
                        return Ok(0);
                    }
                    stale.extend(f.records.into_iter().map(|(c, _)| c));
                    gone.extend(f.others);
                }
            }
        }
        Err(self.stalled(member))
    }
}

/// Actions a leaf takes in its parent's transaction, at most (the updates of collections it
/// shares with another leaf of the transaction are merged).
fn leaf_actions((_, meta): &Leaf) -> usize {
    match meta {
        None => 2,
        Some(m) => 2 + m.unique_keys.len() + 2 * m.member_of.len(),
    }
}
