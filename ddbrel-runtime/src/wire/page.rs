//! Pages and cursors.
//!
//! Every paginated operation takes a [`PageRequest`] and returns a [`Page`]: typed items and,
//! when more may follow, an opaque cursor. A cursor is the base64url text of the page's last
//! key together with a fingerprint of the query it belongs to (operation, index, partition,
//! prefix, order); presenting it to any other query (another account, another parent, another
//! type filter, another index) is [`Error::InvalidCursor`].
//!
//! `limit` is DynamoDB's page limit: the number of items *read* for the page, before any
//! filter. ddbrel applies no filter expressions on these paths, so a page holds at most
//! `limit` items; it may hold fewer and still carry a cursor (DynamoDB stops at 1 MB too), and
//! the last page may be empty.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::Item;
use crate::error::{Error, Result};

/// Which way a query walks its sort key. URN ids are UUID v7, so within one resource type
/// ascending is oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Ascending sort key: oldest first.
    #[default]
    OldestFirst,
    /// Descending sort key: newest first.
    NewestFirst,
}

impl Order {
    pub(crate) fn forward(self) -> bool {
        matches!(self, Order::OldestFirst)
    }
}

/// Which page to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// DynamoDB's page limit (items read); `None` reads up to 1 MB.
    pub limit: Option<u32>,
    /// The cursor of the previous page; `None` for the first.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first page of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit: Some(limit),
            cursor: None,
        }
    }
    /// The first page with DynamoDB's default size.
    pub fn all() -> Self {
        PageRequest::default()
    }
    /// The page after the one that returned `cursor`.
    pub fn after(limit: Option<u32>, cursor: impl Into<String>) -> Self {
        PageRequest {
            limit,
            cursor: Some(cursor.into()),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in query order.
    pub items: Vec<T>,
    /// Present when more items may follow: pass it in the next [`PageRequest`].
    pub cursor: Option<String>,
}

impl<T> Page<T> {
    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            cursor: self.cursor,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// The query fingerprint.
    q: String,
    /// The last evaluated key (all key attributes are strings in this table).
    k: HashMap<String, String>,
}

/// Encodes a last-evaluated key and its query's fingerprint as an opaque cursor.
pub(crate) fn encode_cursor(fingerprint: &str, key: &Item) -> Result<String> {
    let mut k = HashMap::new();
    for (name, v) in key {
        match v {
            AttributeValue::S(s) => {
                k.insert(name.clone(), s.clone());
            }
            _ => {
                return Err(Error::InvalidCursor {
                    reason: format!("key attribute {name} is not a string"),
                });
            }
        }
    }
    let body = CursorBody {
        q: fingerprint.to_string(),
        k,
    };
    let json = serde_json::to_vec(&body).map_err(|e| Error::InvalidCursor {
        reason: e.to_string(),
    })?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor, refusing one that belongs to another query.
pub(crate) fn decode_cursor(fingerprint: &str, cursor: &str) -> Result<Item> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| Error::InvalidCursor {
            reason: "not base64url".into(),
        })?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor {
        reason: "not a ddbrel cursor".into(),
    })?;
    if body.q != fingerprint {
        return Err(Error::InvalidCursor {
            reason: "the cursor belongs to another query (another account, parent, type, index or order)"
                .into(),
        });
    }
    Ok(body
        .k
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

/// The start key for a page request.
pub(crate) fn start_key(fingerprint: &str, page: &PageRequest) -> Result<Option<Item>> {
    page.cursor
        .as_deref()
        .map(|c| decode_cursor(fingerprint, c))
        .transpose()
}

/// The cursor for a page's last evaluated key.
pub(crate) fn next_cursor(fingerprint: &str, last: Option<Item>) -> Result<Option<String>> {
    match last {
        Some(k) if !k.is_empty() => encode_cursor(fingerprint, &k).map(Some),
        _ => Ok(None),
    }
}

/// Follows pages: calls `fetch` with each cursor until a page has none, yielding every item.
///
/// ```no_run
/// # use ddbrel_runtime::query::{paginate, Page, PageRequest};
/// # async fn demo(store: ddbrel_runtime::Store, account: ddbrel_runtime::AnyUrn) {
/// use futures::TryStreamExt;
/// let all: Vec<_> = paginate(Some(100), |page| {
///     let (store, account) = (store.clone(), account.clone());
///     async move { store.account_resources(&account, None, Default::default(), page).await }
/// })
/// .try_collect()
/// .await
/// .unwrap();
/// # }
/// ```
pub fn paginate<T, F, Fut>(limit: Option<u32>, fetch: F) -> impl Stream<Item = Result<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    struct State<F, T> {
        fetch: F,
        cursor: Option<String>,
        buffer: std::vec::IntoIter<T>,
        done: bool,
    }
    let state = State {
        fetch,
        cursor: None,
        buffer: Vec::new().into_iter(),
        done: false,
    };
    futures::stream::try_unfold(state, move |mut st| async move {
        loop {
            if let Some(item) = st.buffer.next() {
                return Ok(Some((item, st)));
            }
            if st.done {
                return Ok(None);
            }
            let page = (st.fetch)(PageRequest {
                limit,
                cursor: st.cursor.take(),
            })
            .await?;
            st.done = page.cursor.is_none();
            st.cursor = page.cursor;
            st.buffer = page.items.into_iter();
        }
    })
}
