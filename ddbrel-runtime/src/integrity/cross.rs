//! Pass 2: references between records. [`Index`] holds the lookups the rules share;
//! [`Checker::cross_check`] runs the rules, one function each, kept in the file of their
//! invariant group.

use std::collections::{BTreeMap, BTreeSet};

use super::fence;
use super::read::Checker;
use super::records::{Membership, ParentChild, Resource, Table};
use crate::urn::AnyUrn;

/// What pass 2 looks up, built once from the [`Table`].
pub(super) struct Index<'a> {
    /// The parsed table.
    pub(super) t: &'a Table,
    /// The resources that carry `_deleting`.
    pub(super) fences: BTreeSet<&'a AnyUrn>,
    /// Resources with a fence at, above or beneath them: their counts are left alone.
    pub(super) near_fence: BTreeSet<&'a AnyUrn>,
    /// The parent-child records naming each resource as their child.
    pub(super) child_records: BTreeMap<&'a AnyUrn, Vec<&'a ParentChild>>,
    /// The number of `child#` records in each resource's partition.
    pub(super) children_of: BTreeMap<&'a AnyUrn, usize>,
    /// The membership records naming each resource as their member.
    pub(super) memberships_of: BTreeMap<&'a AnyUrn, Vec<&'a Membership>>,
    /// The number of `member#` records in each resource's partition.
    pub(super) members_of: BTreeMap<&'a AnyUrn, usize>,
    /// The resources listing each marker key in `_uniqueKeys`.
    pub(super) listers: BTreeMap<&'a str, Vec<&'a Resource>>,
}

impl<'a> Index<'a> {
    pub(super) fn new(t: &'a Table) -> Index<'a> {
        let fences = t.fences();
        let near_fence = fence::near_fence(t, &fences);
        let mut child_records: BTreeMap<&AnyUrn, Vec<&ParentChild>> = BTreeMap::new();
        let mut children_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for pc in &t.parent_child {
            child_records.entry(&pc.child).or_default().push(pc);
            *children_of.entry(&pc.parent).or_default() += 1;
        }
        let mut memberships_of: BTreeMap<&AnyUrn, Vec<&Membership>> = BTreeMap::new();
        let mut members_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for m in &t.memberships {
            memberships_of.entry(&m.member).or_default().push(m);
            *members_of.entry(&m.collection).or_default() += 1;
        }
        for (urn, (children, members)) in &t.counted {
            children_of.insert(urn, *children);
            members_of.insert(urn, *members);
        }
        let mut listers: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in t.resources.values() {
            for k in &r.unique_keys {
                listers.entry(k.as_str()).or_default().push(r);
            }
        }
        Index {
            t,
            fences,
            near_fence,
            child_records,
            children_of,
            memberships_of,
            members_of,
            listers,
        }
    }

    /// Whether `r` is in a fenced subtree, where I1, I2, I4 and I6 may be broken.
    pub(super) fn exempt(&self, r: &Resource) -> bool {
        fence::fenced(r, &self.fences)
    }
}

impl Checker {
    /// Pass 2. The rules about one resource run resource by resource, in this order (findings
    /// of one record keep the order they are pushed in), then those about relationship
    /// records, markers and whole types.
    pub(super) fn cross_check(&mut self, t: &Table) {
        let ix = Index::new(t);
        for r in t.resources.values() {
            self.unfinished_cascade(r, &ix.fences);
            self.parent_link(r, &ix);
            self.account(r, &ix);
            self.listed_markers(r, &ix);
            self.membership_sets(r, &ix);
            self.counts(r, &ix);
        }
        for pc in &t.parent_child {
            self.parent_child_record(pc, &ix);
        }
        for m in &t.memberships {
            self.membership_record(m, &ix);
        }
        for (k, m) in &t.markers {
            self.marker_record(k, m, &ix);
        }
        self.type_consistency(t);
        self.registered_declarations(t);
    }
}
