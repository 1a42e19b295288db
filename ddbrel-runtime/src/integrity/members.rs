//! I6: the membership sets.

use std::collections::{BTreeMap, BTreeSet};

use super::FindingKind;
use super::read::Checker;
use super::records::{Membership, Resource, Table, list};
use super::repair::Action;
use crate::urn::AnyUrn;

impl Checker {
    pub(super) fn set_diff(
        &mut self,
        key: &str,
        attribute: &str,
        records: &str,
        listed: &BTreeSet<&AnyUrn>,
        actual: &BTreeSet<&AnyUrn>,
        fixes: &[Action],
    ) {
        let extra: Vec<&&AnyUrn> = listed.difference(actual).collect();
        let missing: Vec<&&AnyUrn> = actual.difference(listed).collect();
        if !extra.is_empty() {
            self.push_fix(
                FindingKind::MembershipMismatch,
                "I6",
                key,
                format!("{attribute} lists {} without {records}", list(extra)),
                fixes.to_vec(),
            );
        }
        if !missing.is_empty() {
            self.push_fix(
                FindingKind::MembershipMismatch,
                "I6",
                key,
                format!(
                    "{attribute} lacks {} although there are {records}",
                    list(missing)
                ),
                fixes.to_vec(),
            );
        }
    }
}

/// The fixes that make a member's `_memberOf`/`_conveyingCollections` agree with its
/// membership records, one per collection that differs. A record whose collection is missing
/// is deleted instead (the orphan fix), which also removes the collection from the member's
/// sets.
pub(super) fn membership_fixes(
    r: &Resource,
    t: &Table,
    records: &[&Membership],
    listed: &BTreeSet<&AnyUrn>,
    listed_conveying: &BTreeSet<&AnyUrn>,
) -> Vec<Action> {
    let by_collection: BTreeMap<&AnyUrn, bool> = records
        .iter()
        .filter(|m| t.resources.contains_key(&m.collection))
        .map(|m| (&m.collection, m.conveys))
        .collect();
    let orphaned: BTreeSet<&AnyUrn> = records
        .iter()
        .filter(|m| !t.resources.contains_key(&m.collection))
        .map(|m| &m.collection)
        .collect();
    let mut out: Vec<Action> = orphaned
        .iter()
        .map(|c| Action::DeleteMembership {
            collection: (*c).clone(),
            member: r.urn.clone(),
            collection_exists: false,
            member_exists: true,
        })
        .collect();
    let all: BTreeSet<&AnyUrn> = listed
        .iter()
        .chain(listed_conveying.iter())
        .chain(by_collection.keys())
        .copied()
        .collect();
    for c in all {
        if orphaned.contains(c) {
            continue;
        }
        let record = by_collection.get(c).copied();
        let want = (record.is_some(), record == Some(true));
        let is = (listed.contains(c), listed_conveying.contains(c));
        if want != is {
            out.push(Action::FixMembership {
                member: r.urn.clone(),
                collection: c.clone(),
                record,
            });
        }
    }
    out
}
