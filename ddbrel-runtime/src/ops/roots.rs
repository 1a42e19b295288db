//! Listing the resources of a root type (SCHEMA.md §10 "Roots of a type"): every root
//! resource carries a listing entry in the InvertedIndex, in one of
//! [`ROOT_SHARDS`] partitions of its type; a page queries every shard at once and merges
//! them by URN, which for UUID v7 ids is creation order.

use futures::future::try_join_all;

use crate::Item;
use crate::entity::Root;
use crate::error::{Error, Result};
use crate::records::attrs::s;
use crate::records::resource::Stored;
use crate::schema::{GSI1PK, GSI1SK, INVERTED_INDEX, ROOT_SHARDS, keys};
use crate::urn::Urn;
use crate::wire::page::{Order, Page, PageRequest, next_cursor, start_key};
use crate::wire::pager::check_type_prefix;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

/// The cursor's one attribute: the URN the previous page ended at.
const AFTER: &str = "after";

impl Store {
    /// The resources of root type `E` (Accounts, Orgs), oldest or newest first, a page at a
    /// time, without a Scan: one Query of each of the type's [`ROOT_SHARDS`] listing shards
    /// in the InvertedIndex, sent at once and merged. **Eventually consistent** (a GSI): a
    /// root created a moment ago may be missing. A page holds at most `limit` roots and has a
    /// cursor while more may follow.
    ///
    /// ```no_run
    /// # use ddbrel_runtime::{Entity, Order, PageRequest, Store};
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org")]
    /// # pub struct Org { name: String }
    /// # async fn f(store: &Store) -> ddbrel_runtime::Result<()> {
    /// let newest = store.roots::<Org>(Order::NewestFirst, PageRequest::first(20)).await?;
    /// for org in &newest.items {
    ///     println!("{} {}", org.urn, org.data.name);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a limit of 0, [`Error::InvalidCursor`] for a cursor of
    /// another listing, a request's error, or [`Error::InvalidItem`] naming a root that does
    /// not decode.
    pub async fn roots<E: Root>(&self, order: Order, page: PageRequest) -> Result<Page<Stored<E>>> {
        let span = op_span!(self, "roots", ddbrel.resource_type = E::RESOURCE_TYPE);
        traced(span, async {
            let p = self.root_listing(&Urn::<E>::prefix(), order, page).await?;
            let items = p
                .items
                .into_iter()
                .map(Stored::<E>::from_item)
                .collect::<Result<_>>()?;
            Ok(Page {
                items,
                cursor: p.cursor,
            })
        })
        .await
    }

    /// [`Store::roots`] of any root type, as raw items: `type_prefix` is the type's
    /// `urn:{domain}:{resourceType}::` (tools that know types by name, such as the CLI).
    pub async fn root_resources(
        &self,
        type_prefix: &str,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Item>> {
        let span = op_span!(self, "roots", ddbrel.type_prefix = type_prefix);
        traced(span, async {
            check_type_prefix("roots listing", Some(type_prefix))?;
            self.root_listing(type_prefix, order, page).await
        })
        .await
    }

    async fn root_listing(
        &self,
        prefix: &str,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Item>> {
        let fingerprint = format!("roots|{prefix}|{}", order.forward());
        if page.limit == Some(0) {
            return Err(Error::InvalidArgument {
                what: format!("page request of {fingerprint}"),
                reason: "the page limit must be at least 1".into(),
            });
        }
        let after = after_of(&fingerprint, prefix, &page)?;
        let shards = (0..ROOT_SHARDS).map(|shard| {
            let pk = keys::roots_pk(prefix, shard);
            let after = after.clone();
            async move {
                self.query_beyond(
                    INVERTED_INDEX,
                    (GSI1PK, &pk),
                    GSI1SK,
                    after.as_deref(),
                    order,
                    page.limit,
                )
                .await
            }
        });
        let (items, more) = merge(try_join_all(shards).await?, order, page.limit);
        let cursor = match (more, items.last()) {
            (true, Some(last)) => {
                let key = Item::from([(AFTER.to_string(), s(listing_urn(last)))]);
                next_cursor(&fingerprint, Some(key))?
            }
            _ => None,
        };
        Ok(Page { items, cursor })
    }
}

/// The URN a cursor resumes after, checked to be of this listing.
fn after_of(fingerprint: &str, prefix: &str, page: &PageRequest) -> Result<Option<String>> {
    let Some(key) = start_key(fingerprint, page)? else {
        return Ok(None);
    };
    match key.get(AFTER).and_then(|v| v.as_s().ok()) {
        Some(urn) if urn.starts_with(prefix) => Ok(Some(urn.clone())),
        _ => Err(Error::InvalidCursor {
            reason: format!("it does not hold a URN of {prefix}"),
        }),
    }
}

fn listing_urn(item: &Item) -> &str {
    item.get(GSI1SK)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

/// Merges the shards' answers in `order` by URN. A shard that may hold more bounds the
/// page: nothing beyond its last item is returned (an item of that shard could come before
/// it), so no root is skipped. Returns the page and whether more may follow.
fn merge(shards: Vec<(Vec<Item>, bool)>, order: Order, limit: Option<u32>) -> (Vec<Item>, bool) {
    let before = |a: &str, b: &str| if order.forward() { a < b } else { a > b };
    // The nearest "last item" of a shard that has more: the bound of this page.
    let mut bound: Option<String> = None;
    let mut all = Vec::new();
    for (items, more) in shards {
        if more
            && let Some(last) = items.last().map(|i| listing_urn(i).to_string())
            && bound.as_deref().is_none_or(|b| before(&last, b))
        {
            bound = Some(last);
        }
        all.extend(items);
    }
    all.sort_by(|a, b| {
        let (a, b) = (listing_urn(a), listing_urn(b));
        if order.forward() { a.cmp(b) } else { b.cmp(a) }
    });
    let total = all.len();
    if let Some(b) = &bound {
        all.retain(|i| !before(b, listing_urn(i)));
    }
    let mut more = bound.is_some() || all.len() < total;
    if let Some(limit) = limit.map(|l| l as usize)
        && all.len() > limit
    {
        all.truncate(limit);
        more = true;
    }
    (all, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(urn: &str) -> Item {
        Item::from([(GSI1SK.to_string(), s(urn))])
    }

    fn urns(items: &[Item]) -> Vec<&str> {
        items.iter().map(listing_urn).collect()
    }

    #[test]
    fn a_shard_with_more_bounds_the_page() {
        // Shard 0 stopped at b (it may hold c), shard 1 returned d and e and is done.
        let shards = vec![
            (vec![item("a"), item("b")], true),
            (vec![item("d"), item("e")], false),
        ];
        let (page, more) = merge(shards, Order::OldestFirst, Some(10));
        assert_eq!(urns(&page), ["a", "b"]);
        assert!(more);
        let shards = vec![
            (vec![item("e"), item("d")], true),
            (vec![item("b"), item("a")], false),
        ];
        let (page, more) = merge(shards, Order::NewestFirst, Some(10));
        assert_eq!(urns(&page), ["e", "d"]);
        assert!(more);
    }

    #[test]
    fn the_limit_cuts_the_merge_and_leaves_a_cursor() {
        let shards = vec![
            (vec![item("a"), item("c")], false),
            (vec![item("b"), item("d")], false),
        ];
        let (page, more) = merge(shards.clone(), Order::OldestFirst, Some(3));
        assert_eq!(urns(&page), ["a", "b", "c"]);
        assert!(more);
        let (page, more) = merge(shards, Order::OldestFirst, None);
        assert_eq!(urns(&page), ["a", "b", "c", "d"]);
        assert!(!more);
    }
}
