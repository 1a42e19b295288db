//! An audit reports its progress: the scan's running count after every page (summing, over
//! the segments, to every record read) and then the check of all of them.

use std::sync::{Arc, Mutex};

use ddbrel_runtime::integrity::{self, AuditPhase, AuditProgress};
use ddbrel_tests::{TestEnv, sample};

/// What a progress callback was told, in order.
type Reports = Arc<Mutex<Vec<(AuditPhase, u64)>>>;

/// A progress callback and what it was told.
fn recorder() -> (AuditProgress, Reports) {
    let seen: Reports = Arc::default();
    let log = seen.clone();
    let progress: AuditProgress = Arc::new(move |phase, n| log.lock().unwrap().push((phase, n)));
    (progress, seen)
}

/// The reports end with the check of every record, after a running count of the scan.
fn assert_scan_then_check(seen: &[(AuditPhase, u64)], records: u64) {
    let (last, scans) = seen.split_last().expect("progress was reported");
    assert_eq!(*last, (AuditPhase::Checking, records));
    assert!(!scans.is_empty());
    assert!(scans.iter().all(|(p, _)| *p == AuditPhase::Scanning));
    // A running count: never going back, ending at every record read.
    assert!(scans.windows(2).all(|w| w[0].1 <= w[1].1), "{scans:?}");
    assert_eq!(scans.last().map(|s| s.1), Some(records));
}

/// The SQL audit of the live table reports as the in-process one does.
#[tokio::test]
async fn the_sql_audit_reports_each_page_read_and_then_the_check() {
    let env = TestEnv::new().await;
    sample::build_tree(&env.store, 2, 6, 2, 2).await.unwrap();
    let (progress, seen) = recorder();
    let audit = integrity::sql::audit_sql_with(&env.store, 3, Some(progress))
        .await
        .unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
    let records = audit.records as u64;
    assert_eq!(records, env.scan_all().await.len() as u64);
    assert_scan_then_check(&seen.lock().unwrap(), records);

    // And of an export of it.
    let dir = tempfile::tempdir().unwrap();
    let items = env.scan_all().await;
    integrity::write_export(dir.path(), env.store.table(), &items).unwrap();
    let (progress, seen) = recorder();
    let audit = integrity::sql::audit_export_sql_with(dir.path(), Some(progress)).unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
    assert_scan_then_check(&seen.lock().unwrap(), records);
}

#[tokio::test]
async fn an_audit_reports_each_page_read_and_then_the_check() {
    let env = TestEnv::new().await;
    sample::build_tree(&env.store, 2, 6, 2, 2).await.unwrap();
    let (progress, seen) = recorder();
    let audit = integrity::audit_with(&env.store, 3, Some(progress))
        .await
        .unwrap();
    assert!(audit.is_clean());
    let records = audit.records as u64;
    assert_eq!(records, env.scan_all().await.len() as u64);
    assert_scan_then_check(&seen.lock().unwrap(), records);
}
