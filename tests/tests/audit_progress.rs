//! An audit reports its progress: the scan's running count after every page (summing, over
//! the segments, to every record read) and then the check of all of them.

use std::sync::{Arc, Mutex};

use ddbrel_runtime::integrity::{self, AuditPhase, AuditProgress};
use ddbrel_tests::{TestEnv, sample};

#[tokio::test]
async fn an_audit_reports_each_page_read_and_then_the_check() {
    let env = TestEnv::new().await;
    sample::build_tree(&env.store, 2, 6, 2, 2).await.unwrap();
    let seen: Arc<Mutex<Vec<(AuditPhase, u64)>>> = Arc::default();
    let log = seen.clone();
    let progress: AuditProgress = Arc::new(move |phase, n| log.lock().unwrap().push((phase, n)));
    let audit = integrity::audit_with(&env.store, 3, Some(progress))
        .await
        .unwrap();
    assert!(audit.is_clean());
    let records = audit.records as u64;
    assert_eq!(records, env.scan_all().await.len() as u64);
    let seen = seen.lock().unwrap().clone();
    let (last, scans) = seen.split_last().expect("progress was reported");
    assert_eq!(*last, (AuditPhase::Checking, records));
    assert!(!scans.is_empty());
    assert!(scans.iter().all(|(p, _)| *p == AuditPhase::Scanning));
    // A running count: never going back, ending at every record read.
    assert!(scans.windows(2).all(|w| w[0].1 <= w[1].1), "{scans:?}");
    assert_eq!(scans.last().map(|s| s.1), Some(records));
}
