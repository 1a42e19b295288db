//! The pager: the one place a Query or Scan is sent. `Store::query_page` hands back one page
//! with a cursor bound to its query; `Store::pages` reads every page of a Query or of one Scan
//! segment, one request at a time.

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs::s;
use crate::schema::{PK, SK};
use crate::wire::expr::{Expr, shared_maps};
use crate::wire::page::{Order, PageRequest, next_cursor, start_key};
use crate::wire::store::Store;

/// Refuses a type prefix that does not end with `::` (it would also match every type whose
/// name extends this one: `System.Account.Job` is a prefix of `System.Account.JobCollection`).
pub(crate) fn check_type_prefix(what: &str, type_prefix: Option<&str>) -> Result<()> {
    match type_prefix {
        Some(p) if !p.ends_with("::") => Err(Error::InvalidArgument {
            what: what.into(),
            reason: format!("type prefix {p:?} must end with `::`"),
        }),
        _ => Ok(()),
    }
}

/// The key condition of one Query.
pub(crate) struct KeyQuery<'a> {
    /// `None` for the table, else the index name.
    pub(crate) index: Option<&'a str>,
    /// Hash key attribute and value.
    pub(crate) hash: (&'a str, &'a str),
    /// Range key attribute and the prefix it begins with.
    pub(crate) prefix: Option<(&'a str, &'a str)>,
    /// A FilterExpression applied to the page read (it narrows, it does not read less).
    pub(crate) filter: Option<&'a Expr>,
}

impl KeyQuery<'_> {
    /// Every item of one partition of the table.
    pub(crate) fn partition(pk: &str) -> KeyQuery<'_> {
        KeyQuery {
            index: None,
            hash: (PK, pk),
            prefix: None,
            filter: None,
        }
    }

    fn condition(&self) -> Expr {
        let hash = Expr::new("#h = :h")
            .name("#h", self.hash.0)
            .value(":h", s(self.hash.1));
        match self.prefix {
            Some((range, prefix)) => hash
                .and(
                    Expr::new("begins_with(#r, :p)")
                        .name("#r", range)
                        .value(":p", s(prefix)),
                )
                .with_text("#h = :h AND begins_with(#r, :p)"),
            None => hash,
        }
    }
}

/// What to read page by page.
pub(crate) enum Source<'a> {
    /// A key-condition Query on the table (strongly consistent) or an index (eventually
    /// consistent, the only kind a GSI offers).
    Query(KeyQuery<'a>),
    /// One segment of a strongly consistent parallel Scan of the table, optionally filtered.
    Scan {
        /// This segment.
        segment: u32,
        /// Segments in all.
        total: u32,
        /// A filter expression.
        filter: Option<Expr>,
    },
}

impl Store {
    /// One request of `source` from `start`: the items and the key to go on from.
    async fn fetch(
        &self,
        source: &Source<'_>,
        order: Order,
        limit: Option<u32>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let limit = limit.map(|l| l.min(i32::MAX as u32) as i32);
        let (items, last) = match source {
            Source::Query(q) => {
                let cond = q.condition();
                let (names, values) = shared_maps(std::iter::once(&cond).chain(q.filter));
                let out = self
                    .client()
                    .query()
                    .table_name(self.table())
                    .set_index_name(q.index.map(str::to_string))
                    .consistent_read(q.index.is_none())
                    .key_condition_expression(cond.text())
                    .set_filter_expression(q.filter.map(|f| f.text().to_string()))
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .scan_index_forward(order.forward())
                    .set_limit(limit)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| self.map_sdk_error("Query", e))?;
                (out.items, out.last_evaluated_key)
            }
            Source::Scan {
                segment,
                total,
                filter,
            } => {
                let (names, values) = shared_maps(filter.iter());
                let out = self
                    .client()
                    .scan()
                    .table_name(self.table())
                    .segment(*segment as i32)
                    .total_segments(*total as i32)
                    .set_filter_expression(filter.as_ref().map(|f| f.text().to_string()))
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .consistent_read(true)
                    .set_limit(limit)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| self.map_sdk_error("Scan", e))?;
                (out.items, out.last_evaluated_key)
            }
        };
        Ok((items.unwrap_or_default(), last.filter(|k| !k.is_empty())))
    }

    /// Every page of `source`, one request at a time: `while let Some(items) =
    /// pages.next().await? { .. }`.
    pub(crate) fn pages<'a>(&'a self, source: Source<'a>) -> Pages<'a> {
        Pages {
            store: self,
            source,
            start: None,
            done: false,
        }
    }

    /// Every item of one partition, strongly consistent, all pages.
    pub(crate) async fn query_partition(&self, pk: &str) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        let mut pages = self.pages(Source::Query(KeyQuery::partition(pk)));
        while let Some(items) = pages.next().await? {
            out.extend(items);
        }
        Ok(out)
    }

    /// The first `limit` items of one partition, strongly consistent, in sort-key order: the
    /// next work of a cascade, which deletes what it read before it reads again.
    pub(crate) async fn partition_head(&self, pk: &str, limit: u32) -> Result<Vec<Item>> {
        let source = Source::Query(KeyQuery::partition(pk));
        let (items, _) = self
            .fetch(&source, Order::OldestFirst, Some(limit), None)
            .await?;
        Ok(items)
    }

    /// One page of the table partition `pk` whose sort keys begin with `prefix`.
    pub(crate) async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
        fingerprint: &str,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        self.query_page(
            KeyQuery {
                index: None,
                hash: (PK, pk),
                prefix: Some((SK, prefix)),
                filter: None,
            },
            fingerprint,
            order,
            page,
        )
        .await
    }

    /// One page of a key-condition Query, with the page's cursor checked against
    /// `fingerprint` (a cursor of another query is refused).
    pub(crate) async fn query_page(
        &self,
        q: KeyQuery<'_>,
        fingerprint: &str,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        if page.limit == Some(0) {
            return Err(Error::InvalidArgument {
                what: format!("page request of {fingerprint}"),
                reason: "the page limit must be at least 1".into(),
            });
        }
        let start = start_key(fingerprint, page)?;
        if let Some(key) = &start {
            check_start_key(&q, key)?;
        }
        let (items, last) = self
            .fetch(&Source::Query(q), order, page.limit, start)
            .await?;
        Ok((items, next_cursor(fingerprint, last)?))
    }
}

impl Store {
    /// One Query of an index partition `hash` for the items whose range key `range` lies
    /// beyond `beyond` in `order` (after it oldest first, before it newest first; all when
    /// `None`), at most `limit` of them: the items, and whether more may follow.
    pub(crate) async fn query_beyond(
        &self,
        index: &str,
        hash: (&str, &str),
        range: &str,
        beyond: Option<&str>,
        order: Order,
        limit: Option<u32>,
    ) -> Result<(Vec<Item>, bool)> {
        let mut cond = Expr::new("#h = :h")
            .name("#h", hash.0)
            .value(":h", s(hash.1));
        if let Some(b) = beyond {
            let op = if order.forward() { ">" } else { "<" };
            cond = cond
                .and(
                    Expr::new(format!("#r {op} :b"))
                        .name("#r", range)
                        .value(":b", s(b)),
                )
                .with_text(format!("#h = :h AND #r {op} :b"));
        }
        let (names, values) = shared_maps([&cond]);
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(index)
            .key_condition_expression(cond.text())
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .scan_index_forward(order.forward())
            .set_limit(limit.map(|l| l.min(i32::MAX as u32) as i32))
            .send()
            .await
            .map_err(|e| self.map_sdk_error("Query", e))?;
        let more = out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok((out.items.unwrap_or_default(), more))
    }
}

/// The pages of a Query or Scan, read one request at a time.
pub(crate) struct Pages<'a> {
    store: &'a Store,
    source: Source<'a>,
    start: Option<Item>,
    done: bool,
}

impl Pages<'_> {
    /// The next page, `None` after the last.
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<Item>>> {
        if self.done {
            return Ok(None);
        }
        let (items, last) = self
            .store
            .fetch(&self.source, Order::OldestFirst, None, self.start.take())
            .await?;
        self.done = last.is_none();
        self.start = last;
        Ok(Some(items))
    }
}

/// A cursor's key must be a key of this very query: the hash key it queries, the table's `PK`
/// and `SK`, and a range value inside the prefix. Anything else would reach DynamoDB and come
/// back as a service error (or, worse, start another partition's page).
fn check_start_key(q: &KeyQuery<'_>, key: &Item) -> Result<()> {
    let text = |name: &str| {
        key.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    };
    let refuse = |reason: String| Err(Error::InvalidCursor { reason });
    if text(q.hash.0) != Some(q.hash.1) {
        return refuse(format!(
            "its key is not in the partition {} = {}",
            q.hash.0, q.hash.1
        ));
    }
    for name in [PK, SK] {
        if text(name).is_none() {
            return refuse(format!("its key lacks {name}"));
        }
    }
    if let Some((range, prefix)) = q.prefix {
        match text(range) {
            Some(v) if v.starts_with(prefix) => {}
            _ => return refuse(format!("its key's {range} does not begin with {prefix:?}")),
        }
    }
    Ok(())
}
