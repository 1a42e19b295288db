//! BatchGetItem and BatchWriteItem with DynamoDB's limits (100 keys, 25 writes per request),
//! unprocessed keys and items retried with jittered exponential backoff under the store's
//! retry budget, and bounded concurrency.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs::s;
use crate::schema::{PK, SK, limits};
use crate::wire::store::Store;

/// How many batch requests run at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// A primary key.
pub fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

impl Store {
    /// Reads items by key with strongly consistent BatchGetItem requests (100 keys each, up to
    /// `DEFAULT_CONCURRENCY` at once), retrying unprocessed keys. Missing items are absent from
    /// the result, which is keyed by `(PK, SK)`.
    pub async fn batch_get(
        &self,
        keys: Vec<(String, String)>,
    ) -> Result<HashMap<(String, String), Item>> {
        let mut unique = keys;
        unique.sort();
        unique.dedup();
        let chunks: Vec<Vec<(String, String)>> = unique
            .chunks(limits::MAX_BATCH_GET)
            .map(<[_]>::to_vec)
            .collect();
        let results: Vec<Vec<Item>> = stream::iter(chunks)
            .map(|chunk| self.batch_get_chunk(chunk))
            .buffer_unordered(DEFAULT_CONCURRENCY)
            .try_collect()
            .await?;
        let mut out = HashMap::new();
        for item in results.into_iter().flatten() {
            let pk = item.get(PK).and_then(|v| v.as_s().ok()).cloned();
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned();
            if let (Some(pk), Some(sk)) = (pk, sk) {
                out.insert((pk, sk), item);
            }
        }
        Ok(out)
    }

    async fn batch_get_chunk(&self, chunk: Vec<(String, String)>) -> Result<Vec<Item>> {
        let mut pending: Vec<Item> = chunk.iter().map(|(p, s)| key(p, s)).collect();
        let mut out = Vec::new();
        let policy = self.retry_policy();
        let mut attempt = 0;
        while !pending.is_empty() {
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| Error::InvalidRequest {
                    what: "BatchGetItem keys".into(),
                    reason: e.to_string(),
                })?;
            let res = self
                .client()
                .batch_get_item()
                .request_items(self.table(), ka)
                .send()
                .await
                .map_err(|e| self.map_sdk_error("BatchGetItem", e))?;
            if let Some(mut responses) = res.responses
                && let Some(items) = responses.remove(self.table())
            {
                out.extend(items);
            }
            if let Some(mut unprocessed) = res.unprocessed_keys
                && let Some(ka) = unprocessed.remove(self.table())
            {
                pending = ka.keys;
            }
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= policy.max_attempts {
                    return Err(Error::Incomplete {
                        operation: "BatchGetItem",
                        applied: out.len(),
                        remaining: pending.len(),
                        source: Box::new(Error::Throttled {
                            operation: "BatchGetItem",
                            source: "unprocessed keys after the retry budget".into(),
                        }),
                    });
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
        }
        Ok(out)
    }

    /// Deletes items by key with BatchWriteItem (25 per request, up to `DEFAULT_CONCURRENCY`
    /// at once), retrying unprocessed items. Deleting a missing item is not an error.
    /// `on_done` is called with the number of items each request completed.
    pub async fn batch_delete(
        &self,
        keys: Vec<(String, String)>,
        on_done: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<usize> {
        let requests = keys
            .iter()
            .map(|(p, s)| {
                DeleteRequest::builder()
                    .set_key(Some(key(p, s)))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest {
                what: "BatchWriteItem delete".into(),
                reason: e.to_string(),
            })?;
        self.batch_write(requests, on_done).await
    }

    /// Puts items with BatchWriteItem (25 per request), retrying unprocessed items.
    pub async fn batch_put(
        &self,
        items: Vec<Item>,
        on_done: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<usize> {
        let requests = items
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest {
                what: "BatchWriteItem put".into(),
                reason: e.to_string(),
            })?;
        self.batch_write(requests, on_done).await
    }

    async fn batch_write(
        &self,
        requests: Vec<WriteRequest>,
        on_done: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<usize> {
        let total = requests.len();
        let chunks: Vec<Vec<WriteRequest>> = requests
            .chunks(limits::MAX_BATCH_WRITE)
            .map(<[_]>::to_vec)
            .collect();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let res: Result<Vec<()>> = stream::iter(chunks)
            .map(|chunk| async {
                self.batch_write_chunk(chunk, &done, on_done).await?;
                Ok(())
            })
            .buffer_unordered(DEFAULT_CONCURRENCY)
            .try_collect()
            .await;
        let applied = done.load(std::sync::atomic::Ordering::SeqCst);
        match res {
            Ok(_) => Ok(total),
            Err(e) => Err(Error::Incomplete {
                operation: "BatchWriteItem",
                applied,
                remaining: total - applied,
                source: Box::new(e),
            }),
        }
    }

    async fn batch_write_chunk(
        &self,
        chunk: Vec<WriteRequest>,
        done: &std::sync::atomic::AtomicUsize,
        on_done: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<usize> {
        let mut pending = chunk;
        let policy = self.retry_policy();
        let mut attempt = 0;
        let mut completed = 0;
        while !pending.is_empty() {
            let sent = pending.len();
            let res = self
                .client()
                .batch_write_item()
                .request_items(self.table(), std::mem::take(&mut pending))
                .send()
                .await
                .map_err(|e| self.map_sdk_error("BatchWriteItem", e))?;
            if let Some(mut unprocessed) = res.unprocessed_items
                && let Some(left) = unprocessed.remove(self.table())
            {
                pending = left;
            }
            let now_done = sent - pending.len();
            completed += now_done;
            done.fetch_add(now_done, std::sync::atomic::Ordering::SeqCst);
            if now_done > 0 {
                on_done(now_done);
            }
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= policy.max_attempts {
                    return Err(Error::Throttled {
                        operation: "BatchWriteItem",
                        source: format!(
                            "{} unprocessed items after the retry budget",
                            pending.len()
                        )
                        .into(),
                    });
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
        }
        Ok(completed)
    }
}
