//! Comparing the findings of two integrity audits (the in-process checker, the SQL checks).

use ddbrel_runtime::integrity::Finding;

/// Findings as compared whole: every field, the fixes repair would apply included
/// (`Finding`'s equality), but the message of a whole-type finding (keyed `type …`), which
/// the SQL checks word their own way; in key order.
pub fn comparable(findings: &[Finding]) -> Vec<Finding> {
    let mut v: Vec<Finding> = findings
        .iter()
        .cloned()
        .map(|mut f| {
            if f.key.starts_with("type ") {
                f.message.clear();
            }
            f
        })
        .collect();
    v.sort_by(|a, b| {
        (&a.key, a.kind, a.invariant, &a.message).cmp(&(&b.key, b.kind, b.invariant, &b.message))
    });
    v
}
