//! Memberships, SCHEMA.md section 9:
//!
//! - **I1**: both ends of every CollectionMembershipRelationship record exist.
//! - **I6**: `_memberOf` is exactly the set of collections with a membership record for the
//!   member; `_conveyingCollections` is exactly the subset whose records have
//!   `_conveysAuthorization = true`.

use std::collections::{BTreeMap, BTreeSet};

use super::FindingKind::{self, MembershipMismatch, OrphanedRelationship};
use super::cross::Index;
use super::read::Checker;
use super::records::{Membership, Resource, Table, list};
use super::repair::Action;
use crate::urn::AnyUrn;

impl Checker {
    /// I6 for one resource: its `_memberOf` and `_conveyingCollections` against the membership
    /// records naming it (outside fenced subtrees; a conveying collection missing from
    /// `_memberOf` is reported everywhere).
    pub(super) fn membership_sets(&mut self, r: &Resource, ix: &Index) {
        let (t, key, exempt) = (ix.t, r.key.as_str(), ix.exempt(r));
        let records = ix
            .memberships_of
            .get(&r.urn)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let have: BTreeSet<&AnyUrn> = records.iter().map(|m| &m.collection).collect();
        let conveying: BTreeSet<&AnyUrn> = records
            .iter()
            .filter(|m| m.conveys)
            .map(|m| &m.collection)
            .collect();
        let listed: BTreeSet<&AnyUrn> = r.member_of.iter().collect();
        let listed_conveying: BTreeSet<&AnyUrn> = r.conveying.iter().collect();
        let fixes: Vec<Action> = if exempt {
            Vec::new()
        } else {
            membership_fixes(r, t, records, &listed, &listed_conveying)
        };
        let stray: Vec<&&AnyUrn> = listed_conveying.difference(&listed).collect();
        if !stray.is_empty() {
            self.push_fix(
                MembershipMismatch,
                "I6",
                key,
                format!("_conveyingCollections {} are not in _memberOf", list(stray)),
                fixes.clone(),
            );
        }
        if !exempt {
            self.set_diff(
                key,
                "_memberOf",
                "membership records",
                &listed,
                &have,
                &fixes,
            );
            self.set_diff(
                key,
                "_conveyingCollections",
                "memberships with _conveysAuthorization = true",
                &listed_conveying,
                &conveying,
                &fixes,
            );
        }
    }

    /// I1 for one membership record outside fenced subtrees: both ends exist.
    pub(super) fn membership_record(&mut self, m: &Membership, ix: &Index) {
        let t = ix.t;
        let exempt = t.resources.get(&m.collection).is_some_and(|c| ix.exempt(c));
        if exempt {
            return;
        }
        let collection_exists = t.resources.contains_key(&m.collection);
        let member_exists = t.resources.contains_key(&m.member);
        let fix = vec![Action::DeleteMembership {
            collection: m.collection.clone(),
            member: m.member.clone(),
            collection_exists,
            member_exists,
        }];
        if !collection_exists {
            self.push_fix(
                OrphanedRelationship,
                "I1",
                &m.key,
                format!("its collection {} does not exist", m.collection),
                fix.clone(),
            );
        }
        if !member_exists {
            self.push_fix(
                OrphanedRelationship,
                "I1",
                &m.key,
                format!("its member {} does not exist", m.member),
                fix,
            );
        }
    }

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
