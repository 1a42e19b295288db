//! The tree (SCHEMA.md §10 "Parent", "Children", "Ancestors", "Descendants"): reads along
//! parent-child edges, all strongly consistent.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::parent::{Child, ParentOf, ParentUrn};
use crate::records::attrs;
use crate::records::attrs::s;
use crate::records::membership::parse_urn_attr;
use crate::records::resource::Stored;
use crate::schema::{PK, SK, attr, keys};
use crate::urn::{AnyUrn, Urn};
use crate::wire::filter::Filter;
use crate::wire::page::{Order, Page, PageRequest};
use crate::wire::pager::check_type_prefix;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

impl Store {
    /// The URN of a resource's parent: one GetItem. For a type with one parent type it is a
    /// `Urn` of that type; for a type with several (`#[parent(Workspace, Folder)]`) it is the
    /// generated `{Type}Parent` enum, one variant per parent type. A parent of a type not
    /// declared (an item written by other code) is [`Error::InvalidItem`].
    pub async fn parent_of<E: Child>(&self, urn: &Urn<E>) -> Result<E::ParentUrn>
    where
        E::ParentUrn: ParentUrn,
    {
        let span = op_span!(self, "parent_of", ddbrel.urn = %urn);
        traced(span, async {
            let parent = self
                .parent_of_any(urn.as_any())
                .await?
                .ok_or_else(|| Error::invalid_item(urn.as_str(), "missing _parentUrn"))?;
            E::ParentUrn::from_any(parent)
                .map_err(|e| Error::invalid_item(urn.as_str(), format!("_parentUrn: {e}")))
        })
        .await
    }

    /// The parent URN of any resource (`None` for a root): one GetItem.
    pub async fn parent_of_any(&self, urn: &AnyUrn) -> Result<Option<AnyUrn>> {
        let span = op_span!(self, "parent_of_any", ddbrel.urn = %urn);
        traced(span, async {
            let item = self.get_projected(urn, &[attr::PARENT_URN]).await?;
            match attrs::get_opt_s(&item, attr::PARENT_URN)? {
                None => Ok(None),
                Some(p) => AnyUrn::parse(p)
                    .map(Some)
                    .map_err(|e| Error::invalid_item(urn.as_str(), format!("_parentUrn: {e}"))),
            }
        })
        .await
    }

    /// The chain from the root down to the resource's parent (root first): one GetItem, since
    /// every resource stores its `_ancestors`.
    pub async fn ancestors(&self, urn: &AnyUrn) -> Result<Vec<AnyUrn>> {
        let span = op_span!(self, "ancestors", ddbrel.urn = %urn);
        traced(span, async {
            let item = self.get_projected(urn, &[attr::ANCESTORS]).await?;
            match item.get(attr::ANCESTORS) {
                None => Ok(Vec::new()),
                Some(AttributeValue::L(list)) => list
                    .iter()
                    .map(|v| match v {
                        AttributeValue::S(s) => AnyUrn::parse(s).map_err(|e| {
                            Error::invalid_item(urn.as_str(), format!("_ancestors: {e}"))
                        }),
                        _ => Err(Error::invalid_item(
                            urn.as_str(),
                            "_ancestors holds a non-string",
                        )),
                    })
                    .collect(),
                Some(_) => Err(Error::invalid_item(
                    urn.as_str(),
                    "_ancestors is not a list",
                )),
            }
        })
        .await
    }

    pub(crate) async fn get_projected(&self, urn: &AnyUrn, attrs: &[&str]) -> Result<Item> {
        let mut req = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, s(urn.as_str()))
            .key(SK, s(urn.as_str()))
            .consistent_read(true);
        let mut projection = vec!["#pk".to_string()];
        req = req.expression_attribute_names("#pk", PK);
        for (i, a) in attrs.iter().enumerate() {
            projection.push(format!("#a{i}"));
            req = req.expression_attribute_names(format!("#a{i}"), *a);
        }
        let out = req
            .projection_expression(projection.join(", "))
            .send()
            .await
            .map_err(|e| self.map_sdk_error("GetItem", e))?;
        out.item.ok_or_else(|| Error::NotFound {
            urn: urn.to_string(),
        })
    }

    /// The children of a parent, of one child type: one strongly consistent Query per page.
    /// `parent` is a `Urn` of any type in `C`'s `#[parent(..)]` (or `C`'s parent enum).
    pub async fn children<C: Entity>(
        &self,
        parent: &impl ParentOf<C>,
        page: PageRequest,
    ) -> Result<Page<Urn<C>>> {
        let parent = parent.parent_urn();
        let span = op_span!(self, "children", ddbrel.parent = %parent);
        traced(span, async {
            let prefix = Urn::<C>::prefix();
            let urns = self
                .children_any(parent, Some(&prefix), Order::OldestFirst, page)
                .await?;
            let mut items = Vec::with_capacity(urns.items.len());
            for u in urns.items {
                items.push(u.typed::<C>()?);
            }
            Ok(Page {
                items,
                cursor: urns.cursor,
            })
        })
        .await
    }

    /// The children of one type with their data: the Query and one BatchGetItem (strongly
    /// consistent) per page, so 2 requests for a page of up to 100.
    pub async fn children_with_data<C: Entity>(
        &self,
        parent: &impl ParentOf<C>,
        page: PageRequest,
    ) -> Result<Page<Stored<C>>> {
        let span = op_span!(self, "children_with_data", ddbrel.parent = %parent.parent_urn());
        traced(span, async {
            let urns = self.children::<C>(parent, page).await?;
            // A child missing here is being removed by a cascade; it is skipped.
            let items = self
                .get_many(&urns.items)
                .await?
                .into_iter()
                .flatten()
                .collect();
            Ok(Page {
                items,
                cursor: urns.cursor,
            })
        })
        .await
    }

    /// [`Store::children_with_data`] keeping only the children that satisfy `filter`, tested
    /// on each child as read: the same 2 requests a page, whatever the filter keeps (a filter
    /// narrows, it does not read less). A page may hold fewer than its limit, even none, and
    /// still have a cursor.
    pub async fn children_with_data_where<C: Entity>(
        &self,
        parent: &impl ParentOf<C>,
        filter: &Filter<C>,
        page: PageRequest,
    ) -> Result<Page<Stored<C>>> {
        let span = op_span!(self, "children_with_data_where", ddbrel.parent = %parent.parent_urn(), ddbrel.filter = ?filter);
        traced(span, async {
            filter.expression()?;
            let urns = self.children::<C>(parent, page).await?;
            let items = self
                .resources_where(urns.items.iter().map(Urn::as_str), filter)
                .await?;
            Ok(Page {
                items,
                cursor: urns.cursor,
            })
        })
        .await
    }

    /// The children of any resource, optionally only those whose URN starts with
    /// `type_prefix` (e.g. `urn:pp:System.Account.Job::`, which must end with `::`).
    pub async fn children_any(
        &self,
        parent: &AnyUrn,
        type_prefix: Option<&str>,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<AnyUrn>> {
        let span = op_span!(self, "children_any", ddbrel.parent = %parent);
        traced(span, async {
            check_type_prefix("children query", type_prefix)?;
            let prefix = keys::child_sk(type_prefix.unwrap_or(""));
            let fp = format!("children|{parent}|{prefix}|{}", order.forward());
            let (items, cursor) = self
                .query_prefix(parent.as_str(), &prefix, &fp, order, &page)
                .await?;
            let mut urns = Vec::with_capacity(items.len());
            for item in &items {
                urns.push(parse_urn_attr(item, attr::CHILD_URN)?);
            }
            Ok(Page {
                items: urns,
                cursor,
            })
        })
        .await
    }

    /// Every descendant, breadth-first, with its depth (1 = child), down to `max_depth`
    /// levels (`None`: all). One strongly consistent Query per node with children (the
    /// start node's, then each internal node's, at most `DEFAULT_CONCURRENCY` at once), and
    /// per level below the first one BatchGetItem per 100 nodes, whose `_childCount` tells
    /// the leaves, which are not queried: a count is never below the child records it counts
    /// (SCHEMA.md I9), so a count of 0 means none.
    pub async fn descendants(
        &self,
        urn: &AnyUrn,
        max_depth: Option<usize>,
    ) -> Result<Vec<(AnyUrn, usize)>> {
        let span = op_span!(self, "descendants", ddbrel.urn = %urn);
        traced(span, async {
            let mut out = Vec::new();
            let mut level = vec![urn.clone()];
            let mut depth = 0;
            let mut seen = HashSet::from([urn.clone()]);
            while !level.is_empty() && max_depth.is_none_or(|m| depth < m) {
                if depth > 0 {
                    level = self.with_children(level).await?;
                }
                depth += 1;
                let next: Vec<Vec<AnyUrn>> = stream::iter(level)
                    .map(|node| async move {
                        let mut all = Vec::new();
                        let mut page = PageRequest::all();
                        loop {
                            let p = self
                                .children_any(&node, None, Order::OldestFirst, page)
                                .await?;
                            all.extend(p.items);
                            match p.cursor {
                                Some(c) => page = PageRequest::after(None, c),
                                None => return Ok::<_, Error>(all),
                            }
                        }
                    })
                    .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
                    .try_collect()
                    .await?;
                level = Vec::new();
                for child in next.into_iter().flatten() {
                    if seen.insert(child.clone()) {
                        out.push((child.clone(), depth));
                        level.push(child);
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// The nodes of `level` that may have children: those whose item has a `_childCount`
    /// above 0 (absent: no child was ever created under it, since every child create adds
    /// to it in the same transaction; unreadable: read the partition to be safe). An item
    /// that is gone has no partition left to read (SCHEMA.md section 10).
    async fn with_children(&self, level: Vec<AnyUrn>) -> Result<Vec<AnyUrn>> {
        let keys = level
            .iter()
            .map(|u| (u.as_str().to_string(), u.as_str().to_string()))
            .collect();
        let items = self.batch_get(keys).await?;
        Ok(level
            .into_iter()
            .filter(|u| {
                let key = (u.as_str().to_string(), u.as_str().to_string());
                items.get(&key).is_some_and(|item| {
                    item.contains_key(crate::schema::attr::CHILD_COUNT)
                        && crate::records::attrs::get_u64(item, crate::schema::attr::CHILD_COUNT)
                            .map_or(true, |count| count > 0)
                })
            })
            .collect())
    }
}
