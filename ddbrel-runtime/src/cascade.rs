//! Deleting resources: a leaf in one TransactWriteItems, a small closure atomically in one
//! TransactWriteItems, a large one by a fenced, resumable, bottom-up sweep.
//!
//! # How a large cascade stays safe
//! 1. **Fence.** The root gets `_deleting` (one UpdateItem). Every write that attaches
//!    something beneath a resource (a child, a membership, a unique value change) checks that
//!    neither the resource nor any of its `_ancestors` carries `_deleting`, in the same
//!    transaction. After the fence commits, nothing new can appear in the closure.
//! 2. **Discover** from the base table with strongly consistent reads: each level's items by
//!    BatchGetItem, and a Query (`PK` = node) only for nodes whose `_childCount` or
//!    `_memberCount` says they have records beneath them (counts are maintained in the same
//!    transactions as the records, and can only over-estimate). Incoming memberships come from
//!    each resource's `_memberOf`, read consistently, never from the eventually consistent
//!    InvertedIndex, so a membership written just before the fence cannot be missed.
//! 3. **Sweep**, keeping every relationship record's two ends present while it exists:
//!    memberships that cross the closure's boundary are removed together with the update of
//!    their outside end (small transactions conditioned on the record still existing, so a
//!    resumed run never applies one twice); then markers and the memberships inside; then
//!    resources level by level from the deepest, each level's ParentChildRelationship records
//!    after its resources; the root last, with its own relationship record and its parent's
//!    `_childCount`, in one transaction.
//! 4. **Resume.** Any failure leaves the root fenced and the rest consistent; calling delete
//!    again on the root discovers what is left and finishes. Readers see a fenced resource with
//!    [`crate::ResourceMeta::deleting`] set; it refuses updates, children and memberships.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::instrument;

use crate::Item;
use crate::codec::{self, ResourceMeta, n, s};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::schema::{CHILD_PREFIX, MEMBER_PREFIX, PK, SK, attr, limits};
use crate::store::{Store, Stored, names};
use crate::time;
use crate::tx::{Tx, TxOutcome};
use crate::urn::AnyUrn;

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
    /// Called as records are discovered and deleted.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// Always take the fenced sweep, even for a closure that fits one transaction.
    pub force_sweep: bool,
}

impl std::fmt::Debug for DeleteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteOptions")
            .field("expected_version", &self.expected_version)
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
    fn expression(
        &self,
    ) -> (
        String,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut adds = Vec::new();
        let mut deletes = Vec::new();
        let mut nm = HashMap::new();
        let mut vals = HashMap::new();
        if self.child_delta != 0 {
            adds.push("#cc :cd");
            nm.insert("#cc".to_string(), attr::CHILD_COUNT.to_string());
            vals.insert(":cd".to_string(), n(self.child_delta));
        }
        if self.member_delta != 0 {
            adds.push("#mc :md");
            nm.insert("#mc".to_string(), attr::MEMBER_COUNT.to_string());
            vals.insert(":md".to_string(), n(self.member_delta));
        }
        if !self.remove_member_of.is_empty() {
            deletes.push("#mo :set, #conv :set");
            nm.insert("#mo".to_string(), attr::MEMBER_OF.to_string());
            nm.insert("#conv".to_string(), attr::CONVEYING_COLLECTIONS.to_string());
            vals.insert(
                ":set".to_string(),
                AttributeValue::Ss(self.remove_member_of.clone()),
            );
        }
        let mut expr = String::new();
        if !adds.is_empty() {
            expr.push_str(&format!("ADD {}", adds.join(", ")));
        }
        if !deletes.is_empty() {
            if !expr.is_empty() {
                expr.push(' ');
            }
            expr.push_str(&format!("DELETE {}", deletes.join(", ")));
        }
        (expr, nm, vals)
    }
}

fn child_sk(child: &AnyUrn) -> String {
    format!("{CHILD_PREFIX}{child}")
}
fn member_sk(member: &AnyUrn) -> String {
    format!("{MEMBER_PREFIX}{member}")
}

impl Store {
    /// Deletes a resource and everything that depends on it (see the module docs), checking
    /// that it is still at the version read. A leaf takes one TransactWriteItems.
    pub async fn delete<E: Entity>(&self, stored: &Stored<E>) -> Result<DeleteReport> {
        let opts = DeleteOptions {
            expected_version: Some(stored.meta.version),
            ..DeleteOptions::default()
        };
        // A resource read with no children, members or memberships is a leaf: try the
        // one-request delete with what was read; its conditions catch any change since.
        if stored.meta.child_count == 0
            && stored.meta.member_count == 0
            && stored.meta.deleting.is_none()
        {
            let item = crate::store::resource_item(&stored.urn, &stored.data, &stored.meta)?;
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
        self.delete_with(stored.urn.as_any(), opts).await
    }

    /// Deletes the resource with this URN and everything that depends on it, whatever its
    /// version. Finishes a cascade that was interrupted.
    pub async fn delete_urn(&self, urn: &AnyUrn) -> Result<DeleteReport> {
        self.delete_with(urn, DeleteOptions::default()).await
    }

    /// Deletes with options (version check, progress, forcing the sweep).
    #[instrument(name = "ddbrel.delete", skip(self, opts), fields(urn = %urn))]
    pub async fn delete_with(&self, urn: &AnyUrn, opts: DeleteOptions) -> Result<DeleteReport> {
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
                let meta = codec::decode_meta(&root)?.2;
                if meta.deleting.is_some() {
                    break;
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
    /// anything (reads only).
    pub async fn plan_delete(&self, urn: &AnyUrn) -> Result<DeleteReport> {
        let Some(root) = self.get_item(urn.as_str(), urn.as_str()).await? else {
            return Err(Error::NotFound {
                urn: urn.to_string(),
            });
        };
        let has_parent = codec::decode_meta(&root)?.2.parent.is_some();
        let closure = self.discover(urn, Some(root), usize::MAX).await?;
        Ok(closure.report(has_parent))
    }

    /// Breadth-first discovery from `root` with strongly consistent reads. Stops early (and
    /// sets `truncated`) once more than `limit` records are known.
    async fn discover(
        &self,
        root: &AnyUrn,
        root_item: Option<Item>,
        limit: usize,
    ) -> Result<Closure> {
        let mut closure = Closure::default();
        let root_item = match root_item {
            Some(i) => Some(i),
            None => self.get_item(root.as_str(), root.as_str()).await?,
        };
        let root_meta = match &root_item {
            Some(i) => Some(codec::decode_meta(i)?.2),
            None => None,
        };
        let mut level = vec![Node {
            urn: root.clone(),
            depth: 0,
            item: root_item,
            meta: root_meta,
        }];
        while !level.is_empty() {
            let depth = level[0].depth;
            // Nodes that have (or may have) records beneath them get a Query.
            let to_query: Vec<AnyUrn> = level
                .iter()
                .filter(|n| match &n.meta {
                    None => true,
                    Some(m) => m.child_count > 0 || m.member_count > 0,
                })
                .map(|n| n.urn.clone())
                .collect();
            for node in level {
                closure_add_node(&mut closure, node);
            }
            let partitions: Vec<(AnyUrn, Vec<Item>)> = stream::iter(to_query)
                .map(|urn| async move {
                    let items = self.query_partition(urn.as_str()).await?;
                    Ok::<_, Error>((urn, items))
                })
                .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
                .try_collect()
                .await?;
            let mut children = Vec::new();
            for (parent, items) in partitions {
                for item in items {
                    let sk = codec::get_s(&item, SK)?;
                    if let Some(child) = sk.strip_prefix(CHILD_PREFIX) {
                        let child = AnyUrn::parse(child).map_err(|e| {
                            Error::invalid_item(codec::key_of(&item), format!("SK: {e}"))
                        })?;
                        if closure.set.contains(&child) {
                            continue;
                        }
                        closure
                            .parent_child
                            .push((parent.clone(), child.clone(), depth + 1));
                        children.push(child);
                    } else if let Some(member) = sk.strip_prefix(MEMBER_PREFIX) {
                        let member = AnyUrn::parse(member).map_err(|e| {
                            Error::invalid_item(codec::key_of(&item), format!("SK: {e}"))
                        })?;
                        let conveys = matches!(
                            item.get(attr::CONVEYS_AUTHORIZATION),
                            Some(AttributeValue::Bool(true))
                        );
                        closure
                            .memberships
                            .insert((parent.clone(), member), conveys);
                    }
                }
            }
            if closure.record_count() + children.len() > limit {
                closure.truncated = true;
                return Ok(closure);
            }
            children.sort();
            children.dedup();
            let keys: Vec<(String, String)> = children
                .iter()
                .map(|c| (c.to_string(), c.to_string()))
                .collect();
            let mut found = self.batch_get(keys).await?;
            level = Vec::with_capacity(children.len());
            for child in children {
                let item = found.remove(&(child.to_string(), child.to_string()));
                let meta = match &item {
                    Some(i) => Some(codec::decode_meta(i)?.2),
                    None => None,
                };
                level.push(Node {
                    urn: child,
                    depth: depth + 1,
                    item,
                    meta,
                });
            }
        }
        Ok(closure)
    }

    /// Every item of one partition, strongly consistent, all pages.
    pub(crate) async fn query_partition(&self, pk: &str) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.map_sdk_error("Query", e))?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// The updates a closure's deletion makes to items outside it.
    fn outside_updates(&self, closure: &Closure, root: &Node) -> BTreeMap<AnyUrn, OutsideUpdate> {
        let mut out: BTreeMap<AnyUrn, OutsideUpdate> = BTreeMap::new();
        if let Some(parent) = root.meta.as_ref().and_then(|m| m.parent.clone())
            && !closure.set.contains(&parent)
        {
            out.entry(parent).or_default().child_delta -= 1;
        }
        for (collection, member) in closure.memberships.keys() {
            let c_in = closure.set.contains(collection);
            let m_in = closure.set.contains(member);
            if c_in && !m_in {
                out.entry(member.clone())
                    .or_default()
                    .remove_member_of
                    .push(collection.to_string());
            } else if m_in && !c_in {
                out.entry(collection.clone()).or_default().member_delta -= 1;
            }
        }
        out
    }

    /// Tries to delete a whole closure in one TransactWriteItems, every resource conditioned
    /// on what was read. `Ok(None)`: it does not fit, or something changed; the caller retries
    /// or sweeps.
    async fn try_atomic(
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

    /// The fenced, resumable sweep.
    async fn sweep(&self, urn: &AnyUrn, opts: &DeleteOptions) -> Result<DeleteReport> {
        let root_item = self.fence(urn, opts.expected_version).await?;
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
                Some(item) if codec::get_s(item, attr::OWNER_URN).ok() == Some(owner.as_str()) => {
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
                keys.push((collection.to_string(), member_sk(member)));
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
                .map(|(p, c, _)| (p.to_string(), child_sk(c)))
                .collect();
            self.batch_delete(records, &tick).await?;
        }

        // 4. The root, its parent-child record and its parent's count, together.
        self.delete_fenced_root(&root).await?;
        tick(1 + usize::from(root.meta.as_ref().is_some_and(|m| m.parent.is_some())));
        Ok(report)
    }

    /// Sets the fence (idempotent) and returns the root item as it now is.
    async fn fence(&self, urn: &AnyUrn, expected_version: Option<u64>) -> Result<Item> {
        let mut cond = "attribute_exists(#pk)".to_string();
        let mut vals = HashMap::from([(":now".to_string(), s(time::format(time::now())))]);
        if let Some(v) = expected_version {
            cond.push_str(" AND (#v = :v OR attribute_exists(#del))");
            vals.insert(":v".into(), n(v));
        }
        let mut req = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(PK, s(urn.as_str()))
            .key(SK, s(urn.as_str()))
            .update_expression("SET #del = if_not_exists(#del, :now)")
            .condition_expression(cond)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#del", attr::DELETING)
            .set_expression_attribute_values(Some(vals))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if expected_version.is_some() {
            req = req.expression_attribute_names("#v", attr::VERSION);
        }
        match req.send().await {
            Ok(out) => out.attributes.ok_or_else(|| {
                Error::invalid_item(urn.as_str(), "the fence returned no attributes")
            }),
            Err(e) => match e.as_service_error() {
                Some(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                ) => Err(match c.item() {
                    None => Error::NotFound {
                        urn: urn.to_string(),
                    },
                    Some(old) => Error::Conflict {
                        urn: urn.to_string(),
                        expected: expected_version.unwrap_or(0),
                        current: codec::get_u64(old, attr::VERSION).ok(),
                    },
                }),
                _ => Err(self.map_sdk_error("UpdateItem", e)),
            },
        }
    }

    async fn sweep_boundary(
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
    async fn boundary_chunk(&self, outside: &AnyUrn, records: &[(AnyUrn, AnyUrn)]) -> Result<()> {
        let mut pending: Vec<(AnyUrn, AnyUrn)> = records.to_vec();
        let mut outside_exists = true;
        for _ in 0..=records.len() + 1 {
            if pending.is_empty() {
                return Ok(());
            }
            if !outside_exists {
                let keys = pending
                    .iter()
                    .map(|(c, m)| (c.to_string(), member_sk(m)))
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
                tx.delete(
                    self,
                    c.as_str(),
                    &member_sk(m),
                    Some("attribute_exists(#pk)"),
                    Some(names(&[("#pk", PK)])),
                    None,
                )?;
            }
            let (expr, mut nm, vals) = upd.expression();
            nm.insert("#pk".into(), PK.into());
            tx.update(
                self,
                outside.as_str(),
                outside.as_str(),
                expr,
                Some("attribute_exists(#pk)"),
                Some(nm),
                Some(vals),
            )?;
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
        Err(Error::Conflict {
            urn: outside.to_string(),
            expected: 0,
            current: None,
        })
    }

    async fn delete_fenced_root(&self, root: &Node) -> Result<()> {
        let parent = root.meta.as_ref().and_then(|m| m.parent.clone());
        let mut with_parent = parent.is_some();
        for _ in 0..3 {
            let mut tx = Tx::new();
            tx.delete(
                self,
                root.urn.as_str(),
                root.urn.as_str(),
                Some("attribute_exists(#del)"),
                Some(names(&[("#del", attr::DELETING)])),
                None,
            )?;
            if let Some(parent) = &parent {
                let sk = child_sk(&root.urn);
                if with_parent {
                    tx.delete(
                        self,
                        parent.as_str(),
                        &sk,
                        Some("attribute_exists(#pk)"),
                        Some(names(&[("#pk", PK)])),
                        None,
                    )?;
                    tx.update(
                        self,
                        parent.as_str(),
                        parent.as_str(),
                        "ADD #cc :m1".into(),
                        Some("attribute_exists(#pk)"),
                        Some(names(&[("#pk", PK), ("#cc", attr::CHILD_COUNT)])),
                        Some(HashMap::from([(":m1".to_string(), n(-1))])),
                    )?;
                } else {
                    tx.delete(self, parent.as_str(), &sk, None, None, None)?;
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
                        return Err(Error::Conflict {
                            urn: root.urn.to_string(),
                            expected: 0,
                            current: None,
                        });
                    }
                    // The parent or its record is gone (the parent is being deleted too): no
                    // count to keep.
                    with_parent = false;
                }
            }
        }
        Err(Error::Conflict {
            urn: root.urn.to_string(),
            expected: 0,
            current: None,
        })
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
