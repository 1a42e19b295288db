//! The strongly consistent parallel Scan that [`super::audit`] reads the table with.

use futures::stream::{self, StreamExt, TryStreamExt};

use std::sync::atomic::{AtomicU64, Ordering};

use super::{AuditPhase, AuditProgress};
use crate::Item;
use crate::error::Result;
use crate::wire::pager::Source;
use crate::wire::store::Store;

pub(super) async fn scan(
    store: &Store,
    segments: u32,
    progress: Option<&AuditProgress>,
) -> Result<Vec<Item>> {
    let concurrency = usize::try_from(segments).unwrap_or(usize::MAX).min(32);
    let read = AtomicU64::new(0);
    let parts: Vec<Vec<Item>> = stream::iter(0..segments)
        .map(|segment| scan_segment(store, segment, segments, progress, &read))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(parts.into_iter().flatten().collect())
}

pub(super) async fn scan_segment(
    store: &Store,
    segment: u32,
    total: u32,
    progress: Option<&AuditProgress>,
    read: &AtomicU64,
) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut pages = store.pages(Source::Scan {
        segment,
        total,
        filter: None,
    });
    while let Some(items) = pages.next().await? {
        let n = items.len() as u64;
        out.extend(items);
        let so_far = read.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(p) = progress {
            p(AuditPhase::Scanning, so_far);
        }
    }
    Ok(out)
}
