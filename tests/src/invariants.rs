//! The invariants of SCHEMA.md (section 9, with the record layouts of sections 4 and 5),
//! checked over the raw table.
//!
//! A thin wrapper over [`ddbrel_runtime::integrity`], the one integrity checker (the same one
//! behind `ddbrel check`): [`check`] scans the whole table with the plain SDK and returns every
//! [`Finding`] of [`check_items`]; [`assert_ok`] panics listing them. What is checked, and what
//! a cascade in progress is excused, is documented on [`ddbrel_runtime::integrity`].

pub use ddbrel_runtime::integrity::{Finding, FindingKind, check_items};

use crate::TestEnv;

/// One broken invariant: the runtime's [`Finding`] (`key`, `invariant`, `message`, `kind`).
pub type Violation = Finding;

/// Scans the table and returns every finding, in key order, unfinished cascades included.
pub async fn check(env: &TestEnv) -> Vec<Finding> {
    check_items(&env.scan_all().await)
}

/// Checks the table and panics listing every finding. An unfinished cascade
/// ([`FindingKind::UnfinishedCascade`]) is not a violation: SCHEMA.md allows a fenced subtree
/// between two runs of a delete, and the checker already excuses inside it exactly what the
/// contract excuses; everything else found there still fails.
pub async fn assert_ok(env: &TestEnv) {
    let violations: Vec<Finding> = check(env)
        .await
        .into_iter()
        .filter(|f| f.kind != FindingKind::UnfinishedCascade)
        .collect();
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
        panic!(
            "{} invariant violation(s) in table {}:\n{}",
            violations.len(),
            env.store.table(),
            list.join("\n")
        );
    }
}
