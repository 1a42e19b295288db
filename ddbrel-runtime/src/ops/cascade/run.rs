//! One run of the sweep: the store it works on and what it has deleted, for the report and
//! the progress callback. Shared by the sweep's driver and its writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::urn::AnyUrn;
use crate::wire::store::Store;

use super::{DeleteReport, Progress};

/// One run of the sweep: what it deleted, for the report and the progress callback.
pub(super) struct Sweep<'a> {
    pub(super) store: &'a Store,
    /// The cascade's root.
    pub(super) root: &'a AnyUrn,
    report: Mutex<DeleteReport>,
    discovered: AtomicUsize,
    deleted: AtomicUsize,
    progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// The last transaction that ran out of attempts on conflicts, if any.
    contended: Mutex<Option<Error>>,
}

impl<'a> Sweep<'a> {
    pub(super) fn new(
        store: &'a Store,
        root: &'a AnyUrn,
        progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    ) -> Sweep<'a> {
        Sweep {
            store,
            root,
            report: Mutex::new(DeleteReport {
                swept: true,
                ..DeleteReport::default()
            }),
            discovered: AtomicUsize::new(0),
            deleted: AtomicUsize::new(0),
            progress,
            contended: Mutex::new(None),
        }
    }

    /// Keeps a transaction's `Contended` error (see [`Sweep::stalled`]).
    pub(super) fn contended(&self, e: Error) {
        *self.contended.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    /// The error of a run whose rounds over `node` stopped making progress: the last
    /// `Contended` if conflicts were the cause, else `ChangedMeanwhile`.
    pub(super) fn stalled(&self, node: &AnyUrn) -> Error {
        let contended = self
            .contended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        contended.unwrap_or_else(|| Error::ChangedMeanwhile {
            urn: node.to_string(),
            what: "emptying its partition in a cascade (every write lost a race)".into(),
        })
    }

    /// Counts `records` deleted (and `resources` of them, by type, through the report).
    pub(super) fn tick(&self, found: usize, deleted: usize) {
        let d = self.deleted.fetch_add(deleted, Ordering::SeqCst) + deleted;
        let f = self
            .discovered
            .fetch_max(d + found, Ordering::SeqCst)
            .max(d + found);
        if let Some(p) = &self.progress {
            p(Progress {
                discovered: f,
                deleted: d,
            });
        }
    }

    /// Adds to the report.
    pub(super) fn record(&self, f: impl FnOnce(&mut DeleteReport)) {
        // A poisoned lock means a callback panicked while counting; the counts are still
        // usable.
        let mut r = self.report.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut r);
    }

    pub(super) fn finish(&self) -> DeleteReport {
        let d = self.deleted.load(Ordering::SeqCst);
        self.discovered.store(d, Ordering::SeqCst);
        if let Some(p) = &self.progress {
            p(Progress {
                discovered: d,
                deleted: d,
            });
        }
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
