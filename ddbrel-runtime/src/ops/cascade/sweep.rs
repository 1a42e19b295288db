//! The sweep (SCHEMA.md §7): a cascade that fences every internal node of the closure before
//! it reads the node's partition, deletes leaves with conditional transactions as it finds
//! them, and deletes each internal node once its partition is empty. Every write is durable
//! and conditioned on what it read, so a run stopped anywhere is resumed by deleting the root
//! again, at the cost of what is left; and each run deletes something after a bounded number
//! of reads (the depth of the tree), so a process killed again and again still finishes.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs;
use crate::records::attrs::{n, s};
use crate::records::resource;
use crate::records::resource::ResourceMeta;
use crate::schema::{CHILD_PREFIX, MEMBER_PREFIX, SK, attr, keys};
use crate::time;
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::tx::{Tx, TxOutcome};
use crate::wire::write::{Sent, Write, writes};

use super::run::Sweep;
use super::{DeleteOptions, DeleteReport};

/// Items read from a partition at a time: one transaction's worth of leaves (each leaf takes
/// its resource and its parent-child record, and the parent's count takes one more action).
const PAGE: u32 = 98;

/// Rounds over one node without deleting anything before the sweep gives up with
/// [`Error::ChangedMeanwhile`] (each round re-reads and re-plans; a round deletes nothing only
/// when every write it planned lost a race).
const MAX_IDLE_ROUNDS: usize = 8;

/// How long a node's counts may stay above its records before the sweep takes them for an
/// over-count left by an earlier protocol (see [`Sweep::settle`]).
const COMMIT_WINDOW_WAITS: [u64; 4] = [20, 100, 400, 1500];

/// What a sweep's round found in a node's partition.
#[derive(Default)]
struct Head {
    children: Vec<AnyUrn>,
    members: Vec<AnyUrn>,
}

impl Store {
    /// The fenced, resumable sweep of the closure of `urn`.
    pub(super) async fn sweep(&self, urn: &AnyUrn, opts: &DeleteOptions) -> Result<DeleteReport> {
        let stamp = time::format(time::now());
        let mut item = self.fence(urn, opts, &stamp).await?;
        // Nothing is deleted before the whole closure is known to hold no restricting record.
        self.refuse_restricted(urn, &item, &stamp).await?;
        let sweep = Sweep::new(self, urn, opts.progress.clone());
        sweep.tick(0, 0);
        for _ in 0..MAX_IDLE_ROUNDS {
            let meta = resource::decode_meta(&item)?.2;
            sweep.empty(urn, meta).await?;
            match sweep.delete_root(urn, &item).await? {
                None => return Ok(sweep.finish()),
                Some(now) => item = now,
            }
        }
        Err(Error::ChangedMeanwhile {
            urn: urn.to_string(),
            what: "deleting the cascade's root (records keep appearing beneath it)".into(),
        })
    }

    /// Sets the fence (at `stamp`) on the cascade's root (idempotent) and returns the root item
    /// as it now is. With an expected version, the root must be at it, or fenced already (a
    /// resumed cascade).
    pub(super) async fn fence(
        &self,
        urn: &AnyUrn,
        opts: &DeleteOptions,
        stamp: &str,
    ) -> Result<Item> {
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
        match fence_write(urn, stamp).when(condition).send(self).await? {
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

    /// Fences (at `stamp`) an internal node of a closure before its partition is read; `None`
    /// when it is gone (another cascade finished it).
    pub(super) async fn fence_node(&self, urn: &AnyUrn, stamp: &str) -> Result<Option<Item>> {
        match fence_write(urn, stamp)
            .when(writes::exists())
            .send(self)
            .await?
        {
            Sent::Applied(item) => item.map(Some).ok_or_else(|| {
                Error::invalid_item(urn.as_str(), "the fence returned no attributes")
            }),
            Sent::ConditionFailed(_) => Ok(None),
        }
    }
}

/// `SET _deleting = if_not_exists(_deleting, :now)`, returning the item as it now is: the
/// counts and `_memberOf` from which nothing can grow any more. The fence is this run's when
/// the item returned carries `stamp`.
fn fence_write(urn: &AnyUrn, stamp: &str) -> Write {
    let set = Expr::new("SET #del = if_not_exists(#del, :now)")
        .name("#del", attr::DELETING)
        .value(":now", s(stamp));
    Write::update(urn.as_str(), urn.as_str(), set).returning_new()
}

impl Sweep<'_> {
    /// Empties the partition of the fenced node `node` and takes it out of every collection
    /// holding it. Returns the records deleted.
    fn empty<'s>(&'s self, node: &'s AnyUrn, meta: ResourceMeta) -> BoxFuture<'s, Result<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            if !meta.member_of.is_empty() {
                deleted += self.leave_all(node, &meta.member_of).await?;
            }
            let mut idle = 0;
            loop {
                let head = self.head(node).await?;
                if head.children.is_empty() && head.members.is_empty() {
                    if self.settle(node).await? {
                        return Ok(deleted);
                    }
                    idle += 1;
                    if idle >= MAX_IDLE_ROUNDS {
                        return Err(self.stalled(node));
                    }
                    continue;
                }
                self.tick(head.children.len() + head.members.len(), 0);
                let mut round = 0;
                if !head.members.is_empty() {
                    round += self.drop_members(node, head.members).await?;
                }
                if !head.children.is_empty() {
                    round += self.drop_children(node, head.children).await?;
                }
                deleted += round;
                idle = if round == 0 { idle + 1 } else { 0 };
                if idle >= MAX_IDLE_ROUNDS {
                    return Err(self.stalled(node));
                }
            }
        })
    }

    /// The next relationship records of `node`'s partition.
    async fn head(&self, node: &AnyUrn) -> Result<Head> {
        let mut head = Head::default();
        for item in self.store.partition_head(node.as_str(), PAGE).await? {
            // The restrict pass read the closure before the first delete; a record found now
            // was added beneath a resource that was a leaf then (SCHEMA.md §7, "Restrict"):
            // it is never deleted, and the cascade stops, fenced, to be resumed.
            super::restrict::check_record(self.root, node, &item)?;
            let sk = attrs::get_s(&item, SK)?;
            let parse = |rest: &str| {
                AnyUrn::parse(rest)
                    .map_err(|e| Error::invalid_item(attrs::key_of(&item), format!("SK: {e}")))
            };
            if let Some(child) = sk.strip_prefix(CHILD_PREFIX) {
                head.children.push(parse(child)?);
            } else if let Some(member) = sk.strip_prefix(MEMBER_PREFIX) {
                head.members.push(parse(member)?);
            }
        }
        Ok(head)
    }

    /// The children found in a round: leaves (and children whose item is missing) deleted in
    /// conditional transactions; internal children fenced and emptied, to be deleted as leaves
    /// in the next round. Returns the records deleted.
    async fn drop_children(&self, parent: &AnyUrn, children: Vec<AnyUrn>) -> Result<usize> {
        let keys = children
            .iter()
            .map(|c| (c.to_string(), c.to_string()))
            .collect();
        let mut found = self.store.batch_get(keys).await?;
        let mut leaves = Vec::new();
        let mut inner = Vec::new();
        for child in children {
            match found.remove(&(child.to_string(), child.to_string())) {
                None => leaves.push((child, None)),
                Some(item) => {
                    let meta = resource::decode_meta(&item)?.2;
                    if super::unlink::is_leaf(&meta) {
                        leaves.push((child, Some(meta)));
                    } else {
                        inner.push((child, meta));
                    }
                }
            }
        }
        // Collections with members first: once they are emptied, the leaves they held are
        // deleted without touching them, so a collection is not held by a stream of the
        // cascade's transactions while writers wait on it.
        let (collections, others): (Vec<_>, Vec<_>) =
            inner.into_iter().partition(|(_, m)| m.member_count > 0);
        let mut deleted = self.empty_all(collections).await?;
        deleted += self.delete_leaves(parent, leaves).await?;
        deleted += self.empty_all(others).await?;
        Ok(deleted)
    }

    /// Fences and empties internal nodes, several at once.
    async fn empty_all(&self, nodes: Vec<(AnyUrn, ResourceMeta)>) -> Result<usize> {
        stream::iter(nodes)
            .map(|(node, _)| async move {
                match self
                    .store
                    .fence_node(&node, &time::format(time::now()))
                    .await?
                {
                    None => Ok::<_, Error>(0),
                    Some(item) => {
                        let meta = resource::decode_meta(&item)?.2;
                        self.empty(&node, meta).await
                    }
                }
            })
            .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
            .try_fold(0, |a, b| async move { Ok(a + b) })
            .await
    }

    /// Called when `node`'s partition reads empty: whether its counts agree (so it can be
    /// deleted). Counts move in the same transaction as the records they count, but a
    /// transaction's items become visible one at a time while it commits (read-committed),
    /// so a count can be seen before its record; the sweep reads again after a short wait.
    /// A count that stays above an empty partition past the waits is an over-count left by an
    /// earlier protocol's sweep, which deleted records without counting them down; it is set
    /// to zero, conditioned on the fence and on the count read (nothing can add a record
    /// beneath a fenced node).
    async fn settle(&self, node: &AnyUrn) -> Result<bool> {
        let Some(item) = self.store.get_item(node.as_str(), node.as_str()).await? else {
            return Ok(true);
        };
        let meta = resource::decode_meta(&item)?.2;
        if meta.child_count == 0 && meta.member_count == 0 {
            return Ok(true);
        }
        for wait in COMMIT_WINDOW_WAITS {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let head = self.head(node).await?;
            if !head.children.is_empty() || !head.members.is_empty() {
                return Ok(false);
            }
        }
        tracing::warn!(urn = %node, child_count = meta.child_count, member_count = meta.member_count,
            "a fenced resource counts records it does not have; setting its counts to zero");
        let zero = Expr::new("SET #cc = :zero, #mc = :zero")
            .name("#cc", attr::CHILD_COUNT)
            .name("#mc", attr::MEMBER_COUNT)
            .value(":zero", n(0));
        // Each count as read; a count read as 0 may be absent.
        let as_read = |ph: &str, v: &str, count: u64| {
            if count == 0 {
                format!("(attribute_not_exists({ph}) OR {ph} = {v})")
            } else {
                format!("{ph} = {v}")
            }
        };
        let same = Expr::new(format!(
            "attribute_exists(#del) AND {} AND {}",
            as_read("#cc2", ":cc", meta.child_count),
            as_read("#mc2", ":mc", meta.member_count)
        ))
        .name("#del", attr::DELETING)
        .name("#cc2", attr::CHILD_COUNT)
        .name("#mc2", attr::MEMBER_COUNT)
        .value(":cc", n(meta.child_count))
        .value(":mc", n(meta.member_count));
        let write = Write::update(node.as_str(), node.as_str(), zero).when(same);
        Ok(matches!(write.send(self.store).await?, Sent::Applied(_)))
    }

    /// The root's last write: the root (fenced and emptied), its markers, its parent-child
    /// record and its parent's count, in one transaction. `Some(item)`: the root still has
    /// records or memberships (the root as it now is); go round again.
    async fn delete_root(&self, root: &AnyUrn, item: &Item) -> Result<Option<Item>> {
        let meta = resource::decode_meta(item)?.2;
        let parent = meta.parent.clone();
        let mut with_parent = parent.is_some();
        let mut markers: Vec<&String> = meta.unique_keys.iter().collect();
        for _ in 0..3 {
            let mut tx = Tx::new();
            tx.push(Write::delete(root.as_str(), root.as_str()).when(writes::emptied()));
            for key in &markers {
                tx.push(writes::delete_marker_if_owned(key, root.as_str()));
            }
            if let (Some(parent), true) = (&parent, with_parent) {
                tx.push(
                    Write::delete(parent.as_str(), &keys::child_sk(root.as_str()))
                        .when(writes::exists()),
                );
                tx.push(
                    writes::count(parent.as_str(), attr::CHILD_COUNT, -1).when(writes::exists()),
                );
            }
            match tx.send(self.store, root.as_str()).await? {
                TxOutcome::Applied => {
                    let edge = usize::from(with_parent);
                    let marks = markers.len();
                    self.record(|r| {
                        *r.resources
                            .entry(root.resource_type().to_string())
                            .or_insert(0) += 1;
                        r.markers += marks;
                        r.parent_child += edge;
                    });
                    self.tick(0, 1 + marks + edge);
                    return Ok(None);
                }
                TxOutcome::Cancelled(reasons) => {
                    if let Some(r) = reasons.first().filter(|r| r.condition_failed()) {
                        // Gone (a concurrent run finished it), or not empty yet. An engine
                        // that returns no old item is asked.
                        return match &r.item {
                            Some(item) => Ok(Some(item.clone())),
                            None => self.store.get_item(root.as_str(), root.as_str()).await,
                        };
                    }
                    let failed = |i: usize| reasons.get(i).is_some_and(|r| r.condition_failed());
                    let before = markers.len();
                    let mut i = 0;
                    markers.retain(|key| {
                        i += 1;
                        let held = failed(i);
                        if held {
                            tracing::warn!(marker = %key, owner = %root, "marker held by another resource; left alone");
                        }
                        !held
                    });
                    if markers.len() == before {
                        // The parent's record is gone: the parent is being deleted too and
                        // took it; no count to keep.
                        with_parent = false;
                    }
                }
            }
        }
        Err(Error::ChangedMeanwhile {
            urn: root.to_string(),
            what: "deleting the cascade's root with its parent's record and count".into(),
        })
    }
}
