//! Uniqueness markers, **I4** (SCHEMA.md section 9): every UniqueKeyValue's `_ownerUrn`
//! exists and lists that marker's key in `_uniqueKeys`; every key in a resource's
//! `_uniqueKeys` is a marker owned by that resource.
//!
//! Here: the references between markers and resources, and the fix for a marker nobody
//! rightly holds. Pass 1 ([`super::parse`]) checks each marker's key and `_constraint` on
//! their own (section 6).

use super::FindingKind::{ContestedMarker, DanglingMarker, MissingMarker, Schema};
use super::cross::Index;
use super::read::Checker;
use super::records::{Marker, Resource, list, split_marker_key};
use super::repair::Action;
use crate::records::marker::MAX_MARKER_KEY_BYTES;
use crate::urn::AnyUrn;

/// Whether a marker key's type and scope fit a resource as its owner.
pub(super) fn key_fits(key: &str, r: &Resource) -> Option<String> {
    let (resource_type, constraint, scope) = split_marker_key(key)?;
    let scope_ok = scope == "global"
        || r.account.as_ref().is_some_and(|a| a.as_str() == scope)
        || r.parent.as_ref().is_some_and(|p| p.as_str() == scope);
    (resource_type == r.urn.resource_type() && scope_ok && key.len() <= MAX_MARKER_KEY_BYTES)
        .then(|| format!("{resource_type}.{constraint}"))
}

impl Index<'_> {
    /// The fix for a marker key nobody rightly holds: hand it to its one lister, or delete it
    /// when nobody lists it. `None` when it is not safe.
    pub(super) fn marker_fix(&self, key: &str, m: &Marker) -> Option<Action> {
        let claimants: Vec<&&Resource> = self
            .listers
            .get(key)
            .map(|v| v.iter().filter(|r| r.urn != m.owner).collect())
            .unwrap_or_default();
        match claimants.as_slice() {
            [] => Some(Action::DeleteMarker {
                key: key.to_string(),
                owner: m.owner.clone(),
            }),
            [one] if !self.exempt(one) && key_fits(key, one).is_some() => {
                Some(Action::TransferMarker {
                    key: key.to_string(),
                    from: m.owner.clone(),
                    to: one.urn.clone(),
                })
            }
            _ => None,
        }
    }
}

impl Checker {
    /// I4 for one resource outside fenced subtrees: every key it lists is a marker it owns.
    pub(super) fn listed_markers(&mut self, r: &Resource, ix: &Index) {
        if ix.exempt(r) {
            return;
        }
        let key = r.key.as_str();
        for k in &r.unique_keys {
            let others: Vec<&AnyUrn> = ix
                .listers
                .get(k.as_str())
                .map(|v| v.iter().map(|o| &o.urn).filter(|u| **u != r.urn).collect())
                .unwrap_or_default();
            match ix.t.markers.get(k) {
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
                    let holder_claims =
                        ix.t.resources
                            .get(&m.owner)
                            .is_some_and(|o| o.unique_keys.contains(k));
                    let message = format!(
                        "_uniqueKeys lists {k}, but that marker is owned by {}",
                        m.owner
                    );
                    if holder_claims {
                        self.push(ContestedMarker, "I4", key, message);
                    } else {
                        let fix = ix.marker_fix(k, m).into_iter().collect();
                        self.push_fix(MissingMarker, "I4", key, message, fix);
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// I4 for one marker: its owner exists, lists it, and is of the key's type and scope.
    pub(super) fn marker_record(&mut self, k: &str, m: &Marker, ix: &Index) {
        let Some(owner) = ix.t.resources.get(&m.owner) else {
            self.push_fix(
                DanglingMarker,
                "I4",
                &m.key,
                format!("its owner {} does not exist", m.owner),
                ix.marker_fix(k, m).into_iter().collect(),
            );
            return;
        };
        if !owner.unique_keys.contains(k) {
            self.push_fix(
                DanglingMarker,
                "I4",
                &m.key,
                format!("its owner {} does not list it in _uniqueKeys", m.owner),
                ix.marker_fix(k, m).into_iter().collect(),
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
}
