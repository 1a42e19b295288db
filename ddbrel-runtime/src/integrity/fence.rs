//! The deletion fence (SCHEMA.md section 7): which records are in a fenced subtree, and the
//! fence itself reported as an unfinished cascade.
//!
//! Section 9: inside a subtree whose root carries `_deleting`, I1, I2, I4 and I6 may be broken
//! until the cascade completes; the rules of those invariants ask [`super::cross::Index::exempt`].

use std::collections::BTreeSet;

use super::FindingKind;
use super::read::Checker;
use super::records::{Resource, Table};
use super::repair::Action;
use crate::urn::AnyUrn;

impl Table {
    /// URNs of the resources that carry `_deleting`.
    pub(super) fn fences(&self) -> BTreeSet<&AnyUrn> {
        self.resources
            .values()
            .filter(|r| r.deleting.is_some())
            .map(|r| &r.urn)
            .collect()
    }
}

/// Whether a resource is in a fenced subtree: it, or one of its ancestors, carries `_deleting`.
pub(super) fn fenced(r: &Resource, fences: &BTreeSet<&AnyUrn>) -> bool {
    fences.contains(&r.urn) || r.ancestors().iter().any(|a| fences.contains(a))
}

/// Resources with a fence at, above or beneath them: their counts are left alone.
pub(super) fn near_fence<'a>(t: &'a Table, fences: &BTreeSet<&AnyUrn>) -> BTreeSet<&'a AnyUrn> {
    let mut near_fence: BTreeSet<&AnyUrn> = BTreeSet::new();
    for r in t.resources.values() {
        if fenced(r, fences) {
            near_fence.insert(&r.urn);
        }
        if r.deleting.is_some() {
            near_fence.extend(r.ancestors().iter());
        }
    }
    near_fence
}

impl Checker {
    /// The fence itself: a resource carrying `_deleting` is a cascade that has not finished.
    /// Since contract 2 a cascade also fences the internal nodes of its closure as it reaches
    /// them; those are part of the cascade above them, which is reported (and finished) once,
    /// at its outermost fence.
    pub(super) fn unfinished_cascade(&mut self, r: &Resource, fences: &BTreeSet<&AnyUrn>) {
        let inner = r.ancestors().iter().any(|a| fences.contains(a));
        if let Some(since) = r.deleting.as_ref().filter(|_| !inner) {
            self.push_fix(
                FindingKind::UnfinishedCascade,
                "fence",
                &r.key,
                format!(
                    "a cascading delete started at {since} has not finished (deleting it again finishes it)"
                ),
                vec![Action::FinishCascade {
                    depth: r.ancestors().len(),
                    root: r.urn.clone(),
                }],
            );
        }
    }
}
