//! Counts, **I9** (SCHEMA.md section 9): `_childCount` is at least the number of the
//! resource's `child#` records and `_memberCount` at least the number of its `member#`
//! records; outside a fenced subtree they are equal. Findings name the rule `counts`.
//!
//! Pass 1 ([`super::read`]) reports a negative or unreadable count.

use super::FindingKind::CountMismatch;
use super::cross::Index;
use super::read::Checker;
use super::records::Resource;
use super::repair::Action;
use crate::schema::attr;

impl Checker {
    /// I9 for one resource: both counts against the records in its partition. A count below
    /// the records is reported everywhere (the sweep only removes records), one above them
    /// outside fenced subtrees; the fix is offered only with no fence at, above or beneath it.
    pub(super) fn counts(&mut self, r: &Resource, ix: &Index) {
        let (key, exempt) = (r.key.as_str(), ix.exempt(r));
        for (name, count, records, what) in [
            (
                attr::CHILD_COUNT,
                r.child_count,
                ix.children_of.get(&r.urn).copied().unwrap_or(0),
                "child#",
            ),
            (
                attr::MEMBER_COUNT,
                r.member_count,
                ix.members_of.get(&r.urn).copied().unwrap_or(0),
                "member#",
            ),
        ] {
            let records = i128::try_from(records).unwrap_or(i128::MAX);
            if !count.readable {
                continue; // reported as a layout problem
            }
            let fix: Vec<Action> = if ix.near_fence.contains(&r.urn) {
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
}
