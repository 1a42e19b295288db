//! Pass 2: references between records.

use std::collections::{BTreeMap, BTreeSet};

use super::FindingKind;
use super::members::membership_fixes;
use super::read::Checker;
use super::records::{Marker, Membership, ParentChild, Resource, Table, fenced, key_fits, list};
use super::repair::Action;
use super::tree::stray_record_fix;
use crate::schema::attr;
use crate::urn::AnyUrn;

impl Checker {
    // --- pass 2: references between records ---

    pub(super) fn cross_check(&mut self, t: &Table) {
        use FindingKind::{
            AccountMismatch, Ancestors, ContestedMarker, CountMismatch, DanglingMarker,
            MembershipMismatch, MissingMarker, OrphanedRelationship, ParentRelationship, Schema,
            UnfinishedCascade,
        };
        let fences = t.fences();
        // Resources with a fence at, above or beneath them: their counts are left alone.
        let mut near_fence: BTreeSet<&AnyUrn> = BTreeSet::new();
        for r in t.resources.values() {
            if fenced(r, &fences) {
                near_fence.insert(&r.urn);
            }
            if r.deleting.is_some() {
                near_fence.extend(r.ancestors().iter());
            }
        }
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
        let mut listers: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in t.resources.values() {
            for k in &r.unique_keys {
                listers.entry(k.as_str()).or_default().push(r);
            }
        }
        // The fix for a marker key nobody rightly holds: hand it to its one lister, or
        // delete it when nobody lists it. `None` when it is not safe.
        let marker_fix = |key: &str, m: &Marker| -> Option<Action> {
            let claimants: Vec<&&Resource> = listers
                .get(key)
                .map(|v| v.iter().filter(|r| r.urn != m.owner).collect())
                .unwrap_or_default();
            match claimants.as_slice() {
                [] => Some(Action::DeleteMarker {
                    key: key.to_string(),
                    owner: m.owner.clone(),
                }),
                [one] if !fenced(one, &fences) && key_fits(key, one).is_some() => {
                    Some(Action::TransferMarker {
                        key: key.to_string(),
                        from: m.owner.clone(),
                        to: one.urn.clone(),
                    })
                }
                _ => None,
            }
        };

        for r in t.resources.values() {
            let exempt = fenced(r, &fences);
            let key = r.key.as_str();

            // The fence itself.
            if let Some(since) = &r.deleting {
                self.push_fix(
                    UnfinishedCascade,
                    "fence",
                    key,
                    format!(
                        "a cascading delete started at {since} has not finished (deleting it again finishes it)"
                    ),
                    vec![Action::FinishCascade {
                        depth: r.ancestors().len(),
                        root: r.urn.clone(),
                    }],
                );
            }

            // I2, I3, I5: the parent.
            if let Some(parent) = &r.parent {
                let records = child_records.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
                let under_parent = records.iter().filter(|pc| &pc.parent == parent).count();
                if under_parent == 0 && !exempt {
                    self.push(
                        ParentRelationship,
                        "I2",
                        key,
                        format!("no ParentChildRelationship record under its parent {parent}"),
                    );
                }
                for pc in records.iter().filter(|pc| &pc.parent != parent) {
                    self.push_fix(
                        ParentRelationship,
                        "I2",
                        key,
                        format!(
                            "ParentChildRelationship {} names it as a child of {}, but its _parentUrn is {parent}",
                            pc.key, pc.parent
                        ),
                        stray_record_fix(pc, t),
                    );
                }
                match t.resources.get(parent) {
                    None => {
                        if !exempt {
                            self.push(
                                ParentRelationship,
                                "I2",
                                key,
                                format!("its parent {parent} does not exist"),
                            );
                        }
                    }
                    Some(p) => {
                        let mut want: Vec<AnyUrn> = p.ancestors().to_vec();
                        want.push(parent.clone());
                        if r.ancestors.is_some() && r.ancestors() != want.as_slice() {
                            self.push(
                                Ancestors,
                                "I3",
                                key,
                                format!(
                                    "_ancestors is {}, the parent's _ancestors + parent is {}",
                                    list(r.ancestors()),
                                    list(&want)
                                ),
                            );
                        }
                        if let Some(account) = &r.account {
                            let want = p.account.as_ref().unwrap_or(parent);
                            if account != want {
                                self.push(
                                    AccountMismatch,
                                    "I5",
                                    key,
                                    format!(
                                        "_accountUrn is {account}, expected {want} (the parent's {})",
                                        if p.account.is_some() {
                                            "_accountUrn"
                                        } else {
                                            "URN"
                                        }
                                    ),
                                );
                            }
                        }
                    }
                }
            } else if let Some(pcs) = child_records.get(&r.urn) {
                for pc in pcs {
                    self.push_fix(
                        ParentRelationship,
                        "I2",
                        key,
                        format!(
                            "has no _parentUrn, but ParentChildRelationship {} names it as a child",
                            pc.key
                        ),
                        stray_record_fix(pc, t),
                    );
                }
            }
            if let Some(account) = &r.account
                && r.parent.is_some()
                && !r.ancestors().contains(account)
            {
                self.push(
                    AccountMismatch,
                    "I5",
                    key,
                    format!("_accountUrn {account} is not one of its _ancestors"),
                );
            }

            // I4: the markers it lists.
            if !exempt {
                for k in &r.unique_keys {
                    let others: Vec<&AnyUrn> = listers
                        .get(k.as_str())
                        .map(|v| v.iter().map(|o| &o.urn).filter(|u| **u != r.urn).collect())
                        .unwrap_or_default();
                    match t.markers.get(k) {
                        None if others.is_empty() => {
                            let fix = key_fits(k, r)
                                .map(|constraint| Action::RestoreMarker {
                                    key: k.clone(),
                                    owner: r.urn.clone(),
                                    constraint,
                                })
                                .into_iter()
                                .collect();
                            self.push_fix(
                                MissingMarker,
                                "I4",
                                key,
                                format!("_uniqueKeys lists {k}, but no such marker exists"),
                                fix,
                            );
                        }
                        None => self.push(
                            ContestedMarker,
                            "I4",
                            key,
                            format!(
                                "_uniqueKeys lists {k}, but no such marker exists, and {} list it too",
                                list(others)
                            ),
                        ),
                        Some(m) if m.owner != r.urn => {
                            let holder_claims = t
                                .resources
                                .get(&m.owner)
                                .is_some_and(|o| o.unique_keys.contains(k));
                            let message = format!(
                                "_uniqueKeys lists {k}, but that marker is owned by {}",
                                m.owner
                            );
                            if holder_claims {
                                self.push(ContestedMarker, "I4", key, message);
                            } else {
                                let fix = marker_fix(k, m).into_iter().collect();
                                self.push_fix(MissingMarker, "I4", key, message, fix);
                            }
                        }
                        Some(_) => {}
                    }
                }
            }

            // I6: memberships.
            let records = memberships_of.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
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

            // Counts.
            for (name, count, records, what) in [
                (
                    attr::CHILD_COUNT,
                    r.child_count,
                    children_of.get(&r.urn).copied().unwrap_or(0),
                    "child#",
                ),
                (
                    attr::MEMBER_COUNT,
                    r.member_count,
                    members_of.get(&r.urn).copied().unwrap_or(0),
                    "member#",
                ),
            ] {
                let records = i128::try_from(records).unwrap_or(i128::MAX);
                if !count.readable {
                    continue; // reported as a layout problem
                }
                let fix: Vec<Action> = if near_fence.contains(&r.urn) {
                    Vec::new()
                } else {
                    vec![Action::SetCount {
                        urn: r.urn.clone(),
                        attribute: name,
                        read: count.present.then_some(count.value),
                        counted: records,
                    }]
                };
                let value = count.value;
                if value < records {
                    self.push_fix(
                        CountMismatch,
                        "counts",
                        key,
                        format!("{name} is {value}, below the {records} {what} records"),
                        fix,
                    );
                } else if value != records && !exempt {
                    self.push_fix(
                        CountMismatch,
                        "counts",
                        key,
                        format!("{name} is {value}, but there are {records} {what} records"),
                        fix,
                    );
                }
            }
        }

        // I1, I2: parent-child records.
        for pc in &t.parent_child {
            let parent = t.resources.get(&pc.parent);
            let child = t.resources.get(&pc.child);
            let exempt = match parent {
                Some(p) => fenced(p, &fences),
                // The parent is gone: the child's _ancestors include the parent's.
                None => child.is_some_and(|c| c.ancestors().iter().any(|a| fences.contains(a))),
            };
            let fix = stray_record_fix(pc, t);
            if parent.is_none() && !exempt {
                let orphan = child.is_some() && fix.is_empty();
                self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &pc.key,
                    if orphan {
                        format!(
                            "its parent {} does not exist (the child is an orphan; deleting it is left to a person)",
                            pc.parent
                        )
                    } else {
                        format!("its parent {} does not exist", pc.parent)
                    },
                    fix.clone(),
                );
            }
            match child {
                None if !exempt => self.push_fix(
                    OrphanedRelationship,
                    "I1",
                    &pc.key,
                    format!("its child {} does not exist", pc.child),
                    fix.clone(),
                ),
                None => {}
                Some(c) if c.parent.as_ref() != Some(&pc.parent) => self.push_fix(
                    ParentRelationship,
                    "I2",
                    &pc.key,
                    format!(
                        "the child's _parentUrn is {}, not this record's parent {}",
                        c.parent
                            .as_ref()
                            .map_or("absent".to_string(), |p| p.to_string()),
                        pc.parent
                    ),
                    fix.clone(),
                ),
                Some(_) => {}
            }
        }

        // I1: membership records.
        for m in &t.memberships {
            let exempt = t
                .resources
                .get(&m.collection)
                .is_some_and(|c| fenced(c, &fences));
            if exempt {
                continue;
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

        // I4: markers.
        for (k, m) in &t.markers {
            let Some(owner) = t.resources.get(&m.owner) else {
                self.push_fix(
                    DanglingMarker,
                    "I4",
                    &m.key,
                    format!("its owner {} does not exist", m.owner),
                    marker_fix(k, m).into_iter().collect(),
                );
                continue;
            };
            if !owner.unique_keys.contains(k) {
                self.push_fix(
                    DanglingMarker,
                    "I4",
                    &m.key,
                    format!("its owner {} does not list it in _uniqueKeys", m.owner),
                    marker_fix(k, m).into_iter().collect(),
                );
            }
            if m.resource_type != m.owner.resource_type() {
                self.push(
                    Schema,
                    "I4",
                    &m.key,
                    format!(
                        "the key is of type {}, its owner is a {}",
                        m.resource_type,
                        m.owner.resource_type()
                    ),
                );
            }
            let scope_ok = m.scope == "global"
                || owner
                    .account
                    .as_ref()
                    .is_some_and(|a| a.as_str() == m.scope)
                || owner.parent.as_ref().is_some_and(|p| p.as_str() == m.scope);
            if !scope_ok {
                self.push(
                    Schema,
                    "I4",
                    &m.key,
                    format!(
                        "scope {} is neither global nor the owner's _accountUrn or _parentUrn",
                        m.scope
                    ),
                );
            }
        }

        // One type, one declaration.
        self.type_consistency(t);
    }
}
