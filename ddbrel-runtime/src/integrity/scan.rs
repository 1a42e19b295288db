//! The strongly consistent parallel Scan that [`super::audit`] reads the table with.

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::Item;
use crate::error::Result;
use crate::wire::pager::Source;
use crate::wire::store::Store;

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
    let mut pages = store.pages(Source::Scan {
        segment,
        total,
        filter: None,
    });
    while let Some(items) = pages.next().await? {
        out.extend(items);
    }
    Ok(out)
}
