//! `on_delete = restrict` (SCHEMA.md §7, "Restrict"): a relationship record that carries
//! `_onDelete = restrict` in the partition of any resource a delete would remove refuses the
//! delete, before anything is deleted.
//!
//! - The atomic path refuses in discovery: it reads every partition of the closure before its
//!   one transaction, and that transaction pins every resource's counts as read, so a
//!   restricting record added since cancels it and the next discovery finds the record.
//! - The sweep refuses in a pass of its own, after the root's fence and before its first
//!   delete: top-down, each internal node is fenced (as the sweep itself would) before its
//!   partition is read, so no new record appears beneath it. A refusal lifts the fences this
//!   run set, conditioned on their being this run's, and the table is as it was. Leaves are
//!   not fenced; a restricting child created under one (or a member added to a restricting
//!   collection that is one) is refused instead, by its own check of every ancestor, the
//!   fenced root among them (`ops::create::restricting_guard`,
//!   `ops::members::restricting_guard`), so the pass's verdict holds until the sweep ends.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt};

use crate::Item;
use crate::entity::OnDelete;
use crate::error::{Error, Result};
use crate::records::attrs;
use crate::records::attrs::s;
use crate::records::resource;
use crate::records::resource::ResourceMeta;
use crate::schema::{CHILD_PREFIX, MEMBER_PREFIX, SK, attr};
use crate::time;
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::write::Write;

/// Waits for a transaction still committing (its count visible before its record) before a
/// partition read short of its counts is taken as it is (a contract-1 over-count, which the
/// sweep then sets to zero).
const COMMIT_WINDOW_WAITS: [u64; 3] = [20, 100, 400];

/// `Err(Error::Restricted)` when `item`, a record of `held`'s partition, restricts deleting
/// `held` (and so `root`, whose closure holds `held`); an `_onDelete` that is not `restrict`
/// is an invalid item, not a cascade.
pub(super) fn check_record(root: &AnyUrn, held: &AnyUrn, item: &Item) -> Result<()> {
    let Some(rule) = item.get(attr::ON_DELETE) else {
        return Ok(());
    };
    if !matches!(rule, AttributeValue::S(v) if v == OnDelete::Restrict.as_str()) {
        return Err(Error::invalid_item(
            attrs::key_of(item),
            "_onDelete is not the string \"restrict\"",
        ));
    }
    let sk = attrs::get_s(item, SK)?;
    let (relationship, by) = if let Some(child) = sk.strip_prefix(CHILD_PREFIX) {
        ("child", child)
    } else if let Some(member) = sk.strip_prefix(MEMBER_PREFIX) {
        ("member", member)
    } else {
        return Ok(());
    };
    Err(Error::Restricted {
        urn: root.to_string(),
        held: held.to_string(),
        by: by.to_string(),
        relationship,
    })
}

/// The fence a resource item carries, if any.
fn fence_of(item: &Item) -> Option<&str> {
    match item.get(attr::DELETING) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

impl Store {
    /// The sweep's restrict pass over the closure of `root`, fenced by this run at `stamp`
    /// (`root_item` as the fence returned it). On a refusal, lifts the fences set at `stamp`
    /// and returns [`Error::Restricted`]. Any other error leaves the fences, as any stopped
    /// sweep does (deleting the root again resumes). A pass that finds nothing marks the root
    /// `_deleteChecked`, and a resumed cascade whose root carries it skips the pass: a run
    /// killed after every few requests still deletes something in each run once one pass
    /// has finished.
    pub(super) async fn refuse_restricted(
        &self,
        root: &AnyUrn,
        root_item: &Item,
        stamp: &str,
    ) -> Result<()> {
        if root_item.contains_key(attr::DELETE_CHECKED) {
            return Ok(());
        }
        let mut fenced = Vec::new();
        if fence_of(root_item) == Some(stamp) {
            fenced.push(root.clone());
        }
        let result = self
            .restrict_pass(root, root_item, stamp, &mut fenced)
            .await;
        if matches!(result, Err(Error::Restricted { .. })) {
            self.lift_fences(&fenced, stamp).await?;
        }
        result?;
        // Only on a fenced root: a lifted or finished cascade leaves no mark. A root gone
        // meanwhile (a concurrent run finished it) is the sweep's to find.
        let mark = Expr::new("SET #chk = :now")
            .name("#chk", attr::DELETE_CHECKED)
            .value(":now", s(time::format(time::now())));
        let fenced = Expr::new("attribute_exists(#del)").name("#del", attr::DELETING);
        Write::update(root.as_str(), root.as_str(), mark)
            .when(fenced)
            .send(self)
            .await
            .map(|_| ())
    }

    /// Reads the closure top-down, fencing each internal node below the root before reading
    /// its partition; records in `fenced` the fences it set.
    async fn restrict_pass(
        &self,
        root: &AnyUrn,
        root_item: &Item,
        stamp: &str,
        fenced: &mut Vec<AnyUrn>,
    ) -> Result<()> {
        let mut level = vec![(root.clone(), resource::decode_meta(root_item)?.2)];
        while !level.is_empty() {
            let internal = level
                .into_iter()
                .filter(|(_, m)| m.child_count > 0 || m.member_count > 0);
            let read: Vec<(Option<AnyUrn>, Result<Vec<AnyUrn>>)> = stream::iter(internal)
                .map(|(node, meta)| self.restrict_node(root, node, meta, stamp))
                .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
                .collect()
                .await;
            let mut children = Vec::new();
            let mut first_error = None;
            for (ours, found) in read {
                fenced.extend(ours);
                match found {
                    Ok(c) => children.extend(c),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            let keys = children
                .iter()
                .map(|c| (c.to_string(), c.to_string()))
                .collect();
            let found = self.batch_get(keys).await?;
            level = Vec::with_capacity(found.len());
            for child in children {
                if let Some(item) = found.get(&(child.to_string(), child.to_string())) {
                    level.push((child, resource::decode_meta(item)?.2));
                }
            }
        }
        Ok(())
    }

    /// One internal node of the pass: fenced (unless it is the root, fenced already), then its
    /// partition read and checked. Returns the node if this run set its fence, and its
    /// children.
    async fn restrict_node(
        &self,
        root: &AnyUrn,
        node: AnyUrn,
        meta: ResourceMeta,
        stamp: &str,
    ) -> (Option<AnyUrn>, Result<Vec<AnyUrn>>) {
        let (ours, meta) = if &node == root {
            (None, meta)
        } else {
            let item = match self.fence_node(&node, stamp).await {
                Ok(Some(item)) => item,
                Ok(None) => return (None, Ok(Vec::new())),
                Err(e) => return (None, Err(e)),
            };
            let ours = (fence_of(&item) == Some(stamp)).then(|| node.clone());
            match resource::decode_meta(&item) {
                Ok((_, _, meta)) => (ours, meta),
                Err(e) => return (ours, Err(e)),
            }
        };
        let children = self.restrict_partition(root, &node, &meta).await;
        (ours, children)
    }

    /// Reads the fenced `node`'s partition (strong), refusing on a restricting record;
    /// returns its children. A partition short of the counts the fence returned is read again
    /// after short waits: a record whose transaction is still committing becomes visible.
    async fn restrict_partition(
        &self,
        root: &AnyUrn,
        node: &AnyUrn,
        meta: &ResourceMeta,
    ) -> Result<Vec<AnyUrn>> {
        let mut waits = COMMIT_WINDOW_WAITS.iter();
        loop {
            let items = self.query_partition(node.as_str()).await?;
            let mut children = Vec::new();
            for item in &items {
                check_record(root, node, item)?;
                let sk = attrs::get_s(item, SK)?;
                if let Some(child) = sk.strip_prefix(CHILD_PREFIX) {
                    children.push(AnyUrn::parse(child).map_err(|e| {
                        Error::invalid_item(attrs::key_of(item), format!("SK: {e}"))
                    })?);
                }
            }
            let (c, m) = count_records(&items);
            if c >= meta.child_count && m >= meta.member_count {
                return Ok(children);
            }
            match waits.next() {
                Some(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
                None => return Ok(children),
            }
        }
    }

    /// Lifts the fences this run set (`_deleting` still `stamp`), leaving any other alone.
    async fn lift_fences(&self, fenced: &[AnyUrn], stamp: &str) -> Result<()> {
        stream::iter(fenced.iter().cloned())
            .map(|urn: AnyUrn| async move {
                let lift = Expr::new("REMOVE #del").name("#del", attr::DELETING);
                let ours = Expr::new("#del = :stamp")
                    .name("#del", attr::DELETING)
                    .value(":stamp", s(stamp));
                Write::update(urn.as_str(), urn.as_str(), lift)
                    .when(ours)
                    .send(self)
                    .await
                    .map(|_| ())
            })
            .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
            .collect::<Vec<Result<()>>>()
            .await
            .into_iter()
            .collect()
    }
}

/// The `child#` and `member#` records among a partition's items.
pub(super) fn count_records(items: &[Item]) -> (u64, u64) {
    let mut counts = (0, 0);
    for item in items {
        match attrs::get_s(item, SK) {
            Ok(sk) if sk.starts_with(CHILD_PREFIX) => counts.0 += 1,
            Ok(sk) if sk.starts_with(MEMBER_PREFIX) => counts.1 += 1,
            _ => {}
        }
    }
    counts
}
