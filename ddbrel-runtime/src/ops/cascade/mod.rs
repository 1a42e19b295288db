//! Deleting resources: a leaf in one TransactWriteItems, a small closure atomically in one
//! TransactWriteItems, a large one by a fenced, resumable, bottom-up sweep.
//!
//! # How a large cascade stays safe (SCHEMA.md §7)
//! 1. **Fence top-down.** The root gets `_deleting` (one UpdateItem), and so does every
//!    internal node of the closure (a resource with children, members or many memberships)
//!    before its partition is read. Every write that attaches something to a resource (a
//!    child, a membership, a unique value change) is conditioned on *that resource* not being
//!    fenced, in the same transaction; no ancestor is checked. Once a node is fenced nothing
//!    new appears beneath it or in its `_memberOf`.
//! 2. **Leaves by condition.** A resource with nothing beneath it is not fenced: it is deleted
//!    in a transaction conditioned on its state as read (version, incarnation, counts, the
//!    collections holding it, its marker count), with its parent-child record, markers,
//!    memberships and its parent's count. A child, membership or unique value added since
//!    cancels the write and the leaf is read again (it may now be internal).
//! 3. **Counts close a node.** Every record is deleted together with the count that counts
//!    it, so a fenced node's counts fall to zero exactly when its partition is empty; the
//!    last delete of each node is conditioned on that, which also covers a record the
//!    partition Query missed because its transaction was still committing (read-committed).
//! 4. **Resume.** Each write is durable and conditioned, and each round deletes what it read
//!    before reading more, so a run stopped anywhere is resumed by deleting the root again, at
//!    the cost of what is left; readers see a fenced resource with
//!    [`crate::ResourceMeta::deleting`] set; it refuses updates, children and memberships.
//!
//! A closure that fits one transaction (at most 100 actions) is deleted atomically instead,
//! every resource conditioned on its state as read and every record on still existing.
//!
//! A closure that holds a relationship record declared `on_delete = restrict` is refused with
//! [`Error::Restricted`] before anything is deleted (see `restrict`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::resource;
use crate::records::resource::ResourceMeta;
use crate::records::resource::Stored;
use crate::schema::{attr, limits};
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::write::writes;

/// What a delete did, or (for [`Store::plan_delete`]) would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Resources deleted, by resource type.
    pub resources: BTreeMap<String, usize>,
    /// ParentChildRelationship records deleted.
    pub parent_child: usize,
    /// CollectionMembershipRelationship records deleted.
    pub memberships: usize,
    /// UniqueKeyValue markers deleted.
    pub markers: usize,
    /// Whether the fenced sweep ran (the closure did not fit one transaction, or a previous
    /// cascade was resumed).
    pub swept: bool,
}

impl DeleteReport {
    /// Resources in all.
    pub fn resource_count(&self) -> usize {
        self.resources.values().sum()
    }
    /// Records in all.
    pub fn record_count(&self) -> usize {
        self.resource_count() + self.parent_child + self.memberships + self.markers
    }
}

/// Progress of a cascade, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Records found so far.
    pub discovered: usize,
    /// Records deleted so far.
    pub deleted: usize,
}

/// Options of [`Store::delete_with`].
#[derive(Clone, Default)]
pub struct DeleteOptions {
    /// Delete only if the root is at this `_version` (else [`Error::Conflict`]).
    pub expected_version: Option<u64>,
    /// Delete only if the root is the incarnation created at this `_createdAt` (else
    /// [`Error::ChangedMeanwhile`]): a URN deleted and created again is another resource.
    pub expected_created_at: Option<crate::time::Timestamp>,
    /// Called as records are discovered and deleted.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// Always take the fenced sweep, even for a closure that fits one transaction.
    pub force_sweep: bool,
}

impl std::fmt::Debug for DeleteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteOptions")
            .field("expected_version", &self.expected_version)
            .field("expected_created_at", &self.expected_created_at)
            .field("progress", &self.progress.is_some())
            .field("force_sweep", &self.force_sweep)
            .finish()
    }
}

/// One resource of a closure.
#[derive(Debug, Clone)]
struct Node {
    urn: AnyUrn,
    depth: usize,
    /// The resource's own item; `None` when it is already gone (a resumed cascade).
    item: Option<Item>,
    meta: Option<ResourceMeta>,
}

/// Everything a delete removes or touches.
#[derive(Debug, Default)]
struct Closure {
    nodes: Vec<Node>,
    set: HashSet<AnyUrn>,
    /// (parent, child) ParentChildRelationship records inside the closure.
    parent_child: Vec<(AnyUrn, AnyUrn, usize)>,
    /// (collection, member) -> conveys, for every membership with an end in the closure.
    memberships: BTreeMap<(AnyUrn, AnyUrn), bool>,
    /// Marker keys held by resources of the closure.
    markers: Vec<(String, AnyUrn)>,
    /// Whether discovery stopped early because the closure is larger than `limit`.
    truncated: bool,
    /// Whether some node's records did not match its counts as read (a transaction still
    /// committing, or an over-count): not to be deleted in one transaction.
    unsettled: bool,
}

impl Closure {
    fn record_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.item.is_some()).count()
            + self.parent_child.len()
            + self.memberships.len()
            + self.markers.len()
    }

    fn report(&self, root_parent: bool) -> DeleteReport {
        let mut r = DeleteReport::default();
        for node in self.nodes.iter().filter(|n| n.item.is_some()) {
            *r.resources
                .entry(node.urn.resource_type().to_string())
                .or_insert(0) += 1;
        }
        r.parent_child = self.parent_child.len() + usize::from(root_parent);
        r.memberships = self.memberships.len();
        r.markers = self.markers.len();
        r
    }
}

/// Updates to one item outside the closure.
#[derive(Debug, Default, Clone)]
struct OutsideUpdate {
    child_delta: i64,
    member_delta: i64,
    remove_member_of: Vec<String>,
}

impl OutsideUpdate {
    /// The update: counts moved by their deltas, the collections left.
    fn expression(&self) -> Expr {
        let mut adds = Expr::default();
        if self.child_delta != 0 {
            adds = adds.merge(writes::add_count(attr::CHILD_COUNT, self.child_delta));
        }
        if self.member_delta != 0 {
            let mc = writes::add_count(attr::MEMBER_COUNT, self.member_delta);
            adds = if adds.is_empty() {
                mc
            } else {
                // One ADD clause with both counts.
                let text = format!("{}, {}", adds.text(), &mc.text()["ADD ".len()..]);
                adds.merge(mc).with_text(text)
            };
        }
        if self.remove_member_of.is_empty() {
            return adds;
        }
        adds.merge(writes::leave_collections(self.remove_member_of.clone()))
    }
}

impl Store {
    /// Deletes a resource and everything that depends on it (see the module docs), checking
    /// that it is still at the version read. A leaf takes one TransactWriteItems.
    pub async fn delete<E: Entity>(&self, stored: &Stored<E>) -> Result<DeleteReport> {
        let span = op_span!(self, "delete", ddbrel.urn = %stored.urn);
        traced(span, async {
            let opts = DeleteOptions {
                expected_version: Some(stored.meta.version),
                expected_created_at: Some(stored.meta.created_at),
                ..DeleteOptions::default()
            };
            // A resource read with no children, members or memberships is a leaf: try the
            // one-request delete with what was read; its conditions catch any change since.
            if stored.meta.child_count == 0
                && stored.meta.member_count == 0
                && stored.meta.deleting.is_none()
            {
                let item = crate::records::resource::resource_item(
                    &stored.urn,
                    &stored.data,
                    &stored.meta,
                )?;
                let mut closure = Closure::default();
                let node = Node {
                    urn: stored.urn.as_any().clone(),
                    depth: 0,
                    item: Some(item),
                    meta: Some(stored.meta.clone()),
                };
                closure_add_node(&mut closure, node);
                if let Some(report) = self.try_atomic(&closure, &opts).await? {
                    return Ok(report);
                }
            }
            self.delete_in_span(stored.urn.as_any(), opts).await
        })
        .await
    }

    /// Deletes the resource with this URN and everything that depends on it, whatever its
    /// version. Finishes a cascade that was interrupted.
    pub async fn delete_urn(&self, urn: &AnyUrn) -> Result<DeleteReport> {
        self.delete_with(urn, DeleteOptions::default()).await
    }

    /// Deletes with options (version check, progress, forcing the sweep).
    pub async fn delete_with(&self, urn: &AnyUrn, opts: DeleteOptions) -> Result<DeleteReport> {
        let span = op_span!(self, "delete", ddbrel.urn = %urn);
        traced(span, self.delete_in_span(urn, opts)).await
    }

    /// [`Store::delete_with`] inside the caller's span.
    async fn delete_in_span(&self, urn: &AnyUrn, opts: DeleteOptions) -> Result<DeleteReport> {
        if !opts.force_sweep {
            // A few attempts at the atomic path; each is safe, conditions catch concurrent
            // changes. The fenced sweep always makes progress.
            for _ in 0..3 {
                let root = self.get_item(urn.as_str(), urn.as_str()).await?;
                let Some(root) = root else {
                    return Err(Error::NotFound {
                        urn: urn.to_string(),
                    });
                };
                let meta = resource::decode_meta(&root)?.2;
                if meta.deleting.is_some() {
                    break;
                }
                if opts
                    .expected_created_at
                    .is_some_and(|c| c != meta.created_at)
                {
                    return Err(reincarnated(urn));
                }
                if let Some(v) = opts.expected_version
                    && meta.version != v
                {
                    return Err(Error::Conflict {
                        urn: urn.to_string(),
                        expected: v,
                        current: Some(meta.version),
                    });
                }
                let closure = self
                    .discover(urn, Some(root), limits::MAX_TRANSACT_ACTIONS)
                    .await?;
                if closure.truncated {
                    break;
                }
                match self.try_atomic(&closure, &opts).await? {
                    Some(report) => return Ok(report),
                    None => continue,
                }
            }
        }
        self.sweep(urn, &opts).await
    }

    /// What deleting this resource would remove, by kind and count, without deleting
    /// anything (reads only). [`Error::Restricted`] when the delete would be refused (a
    /// relationship declared `on_delete = restrict` in its closure).
    pub async fn plan_delete(&self, urn: &AnyUrn) -> Result<DeleteReport> {
        let span = op_span!(self, "plan_delete");
        traced(span, async {
            let Some(root) = self.get_item(urn.as_str(), urn.as_str()).await? else {
                return Err(Error::NotFound {
                    urn: urn.to_string(),
                });
            };
            let has_parent = resource::decode_meta(&root)?.2.parent.is_some();
            let closure = self.discover(urn, Some(root), usize::MAX).await?;
            Ok(closure.report(has_parent))
        })
        .await
    }
}

fn closure_add_node(closure: &mut Closure, node: Node) {
    if !closure.set.insert(node.urn.clone()) {
        return;
    }
    if let Some(meta) = &node.meta {
        for key in &meta.unique_keys {
            closure.markers.push((key.clone(), node.urn.clone()));
        }
        for collection in &meta.member_of {
            let conveys = meta.conveying_collections.contains(collection);
            closure
                .memberships
                .entry((collection.clone(), node.urn.clone()))
                .or_insert(conveys);
        }
    }
    closure.nodes.push(node);
}

mod atomic;
mod discover;
mod restrict;
mod run;
mod sweep;
mod unlink;

/// The error for a delete through a read of an earlier incarnation of `urn`.
fn reincarnated(urn: &AnyUrn) -> Error {
    Error::ChangedMeanwhile {
        urn: urn.to_string(),
        what: "it was deleted and created again since it was read".into(),
    }
}
