//! The pager: one page of a key-condition Query on the table or an index, with cursors bound
//! to their query.

use crate::Item;
use crate::codec::s;
use crate::error::{Error, Result};
use crate::query::{Order, PageRequest, next_cursor, start_key};
use crate::schema::{PK, SK};
use crate::store::Store;

/// Refuses a type prefix that does not end with `::` (it would also match every type whose
/// name extends this one: `System.Account.Job` is a prefix of `System.Account.JobCollection`).
pub(crate) fn check_type_prefix(what: &str, type_prefix: Option<&str>) -> Result<()> {
    match type_prefix {
        Some(p) if !p.ends_with("::") => Err(Error::Encode {
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
}
impl Store {
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
            },
            fingerprint,
            order,
            page,
        )
        .await
    }

    /// One page of a key-condition Query: `hash = value [AND begins_with(range, prefix)]` on
    /// the table (strongly consistent) or an index (eventually consistent, the only kind a GSI
    /// offers), with the page's cursor checked against `fingerprint`.
    pub(crate) async fn query_page(
        &self,
        q: KeyQuery<'_>,
        fingerprint: &str,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let start = start_key(fingerprint, page)?;
        let mut req = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(q.index.map(str::to_string))
            .consistent_read(q.index.is_none())
            .expression_attribute_names("#h", q.hash.0)
            .expression_attribute_values(":h", s(q.hash.1))
            .scan_index_forward(order.forward())
            .set_limit(page.limit.map(|l| l.min(i32::MAX as u32) as i32))
            .set_exclusive_start_key(start);
        req = match q.prefix {
            Some((range, prefix)) => req
                .key_condition_expression("#h = :h AND begins_with(#r, :p)")
                .expression_attribute_names("#r", range)
                .expression_attribute_values(":p", s(prefix)),
            None => req.key_condition_expression("#h = :h"),
        };
        let out = req
            .send()
            .await
            .map_err(|e| self.map_sdk_error("Query", e))?;
        let cursor = next_cursor(fingerprint, out.last_evaluated_key)?;
        Ok((out.items.unwrap_or_default(), cursor))
    }
}
