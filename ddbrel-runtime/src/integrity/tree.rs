//! The parent-child tree, SCHEMA.md section 9:
//!
//! - **I1**: both ends of every ParentChildRelationship record exist.
//! - **I2**: every resource of a type with a parent has `_parentUrn`, `_ancestors` and exactly
//!   one ParentChildRelationship naming it as child, with `_parentUrn` as parent.
//! - **I3**: `_ancestors` = the parent's `_ancestors` followed by the parent's URN.
//!
//! The checks a resource can make on its own (`_parentUrn` and `_ancestors` both present or
//! both absent, `_ancestors` ending with the parent) are in pass 1 ([`super::parse`]); the
//! declared parent type is in [`super::types`].

use super::FindingKind::{self, Ancestors, OrphanedRelationship, ParentRelationship};
use super::cross::Index;
use super::read::Checker;
use super::records::{ParentChild, Resource, Table, list};
use super::repair::Action;
use crate::urn::AnyUrn;

impl Checker {
    /// I2 and I3 for one resource: its ParentChildRelationship records and its parent.
    pub(super) fn parent_link(&mut self, r: &Resource, ix: &Index) {
        let (t, key) = (ix.t, r.key.as_str());
        let Some(parent) = &r.parent else {
            // A root: no record may name it as a child.
            for pc in ix.child_records.get(&r.urn).into_iter().flatten() {
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
            return;
        };
        let exempt = ix.exempt(r);
        let records = ix
            .child_records
            .get(&r.urn)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
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
            }
        }
    }

    /// I1 and I2 for one ParentChildRelationship record: both ends exist, and the child names
    /// the record's parent.
    pub(super) fn parent_child_record(&mut self, pc: &ParentChild, ix: &Index) {
        let t = ix.t;
        let parent = t.resources.get(&pc.parent);
        let child = t.resources.get(&pc.child);
        let exempt = match parent {
            Some(p) => ix.exempt(p),
            // The parent is gone: the child's _ancestors include the parent's.
            None => child.is_some_and(|c| c.ancestors().iter().any(|a| ix.fences.contains(a))),
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
                FindingKind::ParentRelationship,
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
}

/// The fix for a parent-child record: deleting it is safe when its child is gone, or when the
/// child names neither this parent nor has it among its `_ancestors` (the record is stray).
/// Otherwise (the child names this parent) there is no safe fix.
pub(super) fn stray_record_fix(pc: &ParentChild, t: &Table) -> Vec<Action> {
    let child = t.resources.get(&pc.child);
    let stray = match child {
        None => true,
        Some(c) => c.parent.as_ref() != Some(&pc.parent) && !c.ancestors().contains(&pc.parent),
    };
    if !stray {
        return Vec::new();
    }
    vec![Action::DeleteParentChild {
        parent: pc.parent.clone(),
        child: pc.child.clone(),
        parent_exists: t.resources.contains_key(&pc.parent),
        child_exists: child.is_some(),
    }]
}
