//! Closure discovery: from a fenced (or about-to-be-deleted) root, every resource, relationship
//! record and marker the delete removes, read from the base table with strongly consistent
//! reads only.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::records::attrs;
use crate::records::resource;

use crate::error::{Error, Result};
use crate::schema::{CHILD_PREFIX, MEMBER_PREFIX, SK, attr};
use crate::urn::AnyUrn;
use crate::wire::store::Store;

use super::restrict::count_records;
use super::{Closure, Node, OutsideUpdate, closure_add_node};

impl Store {
    /// Breadth-first discovery from `root` with strongly consistent reads. Stops early (and
    /// sets `truncated`) once more than `limit` records are known.
    pub(super) async fn discover(
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
            Some(i) => Some(resource::decode_meta(i)?.2),
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
            // Nodes that have (or may have) records beneath them get a Query. A node whose
            // item is gone has none: a cascade deletes an item only after its partition is
            // empty (memberships first, then each level's children and their records before
            // the level above), the atomic path deletes an item with its records, and nothing
            // can add a record under a parent or collection that does not exist. So a resumed
            // cascade costs what is left, not a Query per node already deleted.
            let to_query: Vec<AnyUrn> = level
                .iter()
                .filter(|n| match &n.meta {
                    None => n.depth == 0,
                    Some(m) => m.child_count > 0 || m.member_count > 0,
                })
                .map(|n| n.urn.clone())
                .collect();
            let counted: BTreeMap<AnyUrn, (u64, u64)> = level
                .iter()
                .filter_map(|n| {
                    let m = n.meta.as_ref()?;
                    Some((n.urn.clone(), (m.child_count, m.member_count)))
                })
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
                // A committing transaction's items become visible one at a time, so a count
                // can be read with its record not yet visible (or the other way round): a
                // closure whose records do not match the counts read is not deleted in one
                // transaction (its conditions pin the counts, not the records missed).
                if counted.get(&parent) != Some(&count_records(&items)) {
                    closure.unsettled = true;
                }
                for item in items {
                    super::restrict::check_record(root, &parent, &item)?;
                    let sk = attrs::get_s(&item, SK)?;
                    if let Some(child) = sk.strip_prefix(CHILD_PREFIX) {
                        let child = AnyUrn::parse(child).map_err(|e| {
                            Error::invalid_item(attrs::key_of(&item), format!("SK: {e}"))
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
                            Error::invalid_item(attrs::key_of(&item), format!("SK: {e}"))
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
                    Some(i) => Some(resource::decode_meta(i)?.2),
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

    /// The updates a closure's deletion makes to items outside it.
    pub(super) fn outside_updates(
        &self,
        closure: &Closure,
        root: &Node,
    ) -> BTreeMap<AnyUrn, OutsideUpdate> {
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
}
