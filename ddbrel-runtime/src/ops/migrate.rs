//! Eager schema migration: rewrite every resource of a type written at an older
//! `_schemaVersion`, in place.
//!
//! Reading an older item always works (it is migrated on read by [`crate::Entity::migrate`]);
//! the eager migration makes the table current so the migration code can later be removed. It
//! is an admin job, so it is the one place ddbrel scans: a parallel Scan with segments,
//! filtered to the type and to versions older than the code's. Each item is written back
//! through [`Store::update`]: conditioned on the `_version` read (a concurrent writer wins, and
//! the item is re-read and retried), with uniqueness markers reconciled (a constraint added in
//! the new version gets its markers backfilled; a duplicate among old items is reported, not
//! silently dropped). Running it again resumes: migrated items no longer match the filter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::stream::{self, StreamExt};

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::attrs::{key_of, n, s};
use crate::records::resource::Stored;
use crate::schema::attr;
use crate::wire::expr::Expr;
use crate::wire::pager::Source;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

/// What an eager migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Items of the type found at an older version.
    pub found: usize,
    /// Items rewritten at the current version.
    pub migrated: usize,
    /// Items that could not be migrated, with the reason (e.g. a unique value held twice).
    pub failed: Vec<(String, String)>,
}

/// Progress callback of a migration: (found so far, migrated so far).
pub type MigrationProgress = Arc<dyn Fn(usize, usize) + Send + Sync>;

impl Store {
    /// Rewrites every `E` item older than `E::SCHEMA_VERSION` (see the module docs), scanning
    /// with `segments` parallel segments.
    pub async fn migrate<E: Entity + Clone>(
        &self,
        segments: u32,
        progress: Option<MigrationProgress>,
    ) -> Result<MigrationReport> {
        let span = op_span!(self, "migrate", ddbrel.resource_type = E::RESOURCE_TYPE);
        traced(span, async {
            let segments = segments.max(1);
            let found = Arc::new(AtomicUsize::new(0));
            let migrated = Arc::new(AtomicUsize::new(0));
            let results: Vec<Result<Vec<(String, String)>>> = stream::iter(0..segments)
                .map(|segment| {
                    let (found, migrated, progress) =
                        (found.clone(), migrated.clone(), progress.clone());
                    async move {
                        let mut failed = Vec::new();
                        let filter = Expr::new("#rt = :rt AND #sv < :sv")
                            .name("#rt", attr::RESOURCE_TYPE)
                            .name("#sv", attr::SCHEMA_VERSION)
                            .value(":rt", s(E::RESOURCE_TYPE))
                            .value(":sv", n(E::SCHEMA_VERSION));
                        let mut pages = self.pages(Source::Scan {
                            segment,
                            total: segments,
                            filter: Some(filter),
                        });
                        while let Some(items) = pages.next().await? {
                            for item in items {
                                found.fetch_add(1, Ordering::SeqCst);
                                let key = key_of(&item);
                                match self.migrate_one::<E>(item).await {
                                    Ok(()) => {
                                        migrated.fetch_add(1, Ordering::SeqCst);
                                    }
                                    Err(e) => failed.push((key, e.to_string())),
                                }
                                if let Some(p) = &progress {
                                    p(
                                        found.load(Ordering::SeqCst),
                                        migrated.load(Ordering::SeqCst),
                                    );
                                }
                            }
                        }
                        Ok(failed)
                    }
                })
                .buffer_unordered(segments as usize)
                .collect()
                .await;
            let mut report = MigrationReport::default();
            for r in results {
                report.failed.extend(r?);
            }
            report.found = found.load(Ordering::SeqCst);
            report.migrated = migrated.load(Ordering::SeqCst);
            Ok(report)
        })
        .await
    }

    async fn migrate_one<E: Entity + Clone>(&self, item: crate::Item) -> Result<()> {
        let mut stored = Stored::<E>::from_item(item)?;
        for _ in 0..5 {
            if stored.meta.schema_version >= E::SCHEMA_VERSION {
                return Ok(());
            }
            match self.update(&stored).await {
                Ok(_) => return Ok(()),
                Err(Error::Conflict { .. }) => {
                    stored = self.get(&stored.urn).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::ChangedMeanwhile {
            urn: stored.urn.to_string(),
            what: "migrating it (it changed on each of 5 attempts)".into(),
        })
    }
}
