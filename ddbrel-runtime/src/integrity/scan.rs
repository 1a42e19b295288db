//! The strongly consistent parallel Scan that [`super::audit`] reads the table with.

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::error::Result;
use crate::store::Store;

pub(super) async fn scan(store: &Store, segments: u32) -> Result<Vec<Item>> {
    let concurrency = usize::try_from(segments).unwrap_or(usize::MAX).min(32);
    let parts: Vec<Vec<Item>> = stream::iter(0..segments)
        .map(|segment| scan_segment(store, segment, segments))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

pub(super) async fn scan_segment(store: &Store, segment: u32, total: u32) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let mut req = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start);
        if total > 1 {
            // Both fit an i32: `audit` clamps `total` to 1,000,000.
            req = req
                .segment(i32::try_from(segment).unwrap_or(i32::MAX))
                .total_segments(i32::try_from(total).unwrap_or(i32::MAX));
        }
        let page = req
            .send()
            .await
            .map_err(|e| store.map_sdk_error("Scan", e))?;
        out.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
}
