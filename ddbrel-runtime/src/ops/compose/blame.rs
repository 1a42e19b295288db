//! Naming a cancelled composed transaction: which step's condition the item as it was
//! breaks, and the error that step's own operation would have returned.

use crate::error::Error;
use crate::schema::attr;
use crate::time;
use crate::wire::tx::Cancelled;

use super::CommitError;
use super::plan::{Blame, Blames};

/// The error of the first action whose condition failed, named as its step's operation
/// would name it.
pub(super) fn blame(reasons: &[Cancelled], blames: &[Blames]) -> CommitError {
    for (r, bs) in reasons.iter().zip(blames) {
        if !r.condition_failed() {
            continue;
        }
        let old = r.item.as_ref();
        let fenced = old.is_some_and(|o| o.contains_key(attr::DELETING));
        // Of the steps sharing the item, the first whose condition the item as it was breaks
        // is named; the caller's conditions come last (the item cannot tell), then the first.
        let Some((step, b)) = bs
            .iter()
            .find(|(_, b)| breaks(b, old))
            .or_else(|| {
                bs.iter()
                    .find(|(_, b)| matches!(b, Blame::Condition { .. }))
            })
            .or_else(|| bs.first())
        else {
            continue;
        };
        let error = match b {
            Blame::New { urn } => Error::AlreadyExists { urn: urn.clone() },
            Blame::Parent {
                parent,
                resource_type,
            } => match old {
                Some(_) if fenced => Error::BeingDeleted {
                    urn: parent.clone(),
                },
                Some(o)
                    if crate::records::attrs::get_s(o, attr::RESOURCE_TYPE).ok()
                        == Some(resource_type.as_str()) =>
                {
                    Error::ChangedMeanwhile {
                        urn: parent.clone(),
                        what: "the parent was deleted and created again since it was read".into(),
                    }
                }
                _ => Error::ParentMissing {
                    parent: parent.clone(),
                },
            },
            Blame::End { urn } | Blame::Ancestor { urn } if fenced => {
                Error::BeingDeleted { urn: urn.clone() }
            }
            Blame::End { urn } => Error::RelatedMissing { urn: urn.clone() },
            // Only a fence fails the check; a write of another step on the item failed.
            Blame::Ancestor { urn } => Error::ChangedMeanwhile {
                urn: urn.clone(),
                what: "checking the ancestors of a restricting relationship".into(),
            },
            Blame::Marker {
                resource_type,
                marker,
            } => Error::UniqueViolation {
                resource_type: resource_type.clone(),
                constraint: marker.constraint.to_string(),
                value: marker.value.clone(),
                written: marker.written.clone(),
                holder: old
                    .and_then(|i| crate::records::attrs::get_s(i, attr::OWNER_URN).ok())
                    .map(str::to_string),
            },
            Blame::AsRead { urn, read } => crate::ops::update::write_failure(urn, read, old),
            Blame::OldMarker { urn } => Error::ChangedMeanwhile {
                urn: urn.clone(),
                what: "moving its unique values".into(),
            },
            Blame::Patched(p) => p.error(old),
            Blame::Condition { urn, condition } => Error::ConditionFailed {
                urn: urn.clone(),
                condition: condition.clone(),
            },
        };
        return CommitError {
            step: Some(*step),
            error,
        };
    }
    CommitError {
        step: None,
        error: Error::ChangedMeanwhile {
            urn: "a composed transaction".into(),
            what: "its items changed while it ran".into(),
        },
    }
}

/// Whether the item as it was (`old`, from ALL_OLD) breaks the condition behind `blame`:
/// `false` when it is as the step needed it, so another step on the item must have failed.
fn breaks(blame: &Blame, old: Option<&crate::Item>) -> bool {
    use crate::records::attrs;
    let Some(old) = old else {
        // Gone: every condition on an existing item breaks; a new item's does not.
        return !matches!(blame, Blame::New { .. } | Blame::Condition { .. });
    };
    let fenced = old.contains_key(attr::DELETING);
    match blame {
        Blame::New { .. } | Blame::Marker { .. } | Blame::OldMarker { .. } => true,
        Blame::Parent { resource_type, .. } => {
            fenced || attrs::get_s(old, attr::RESOURCE_TYPE).ok() != Some(resource_type.as_str())
        }
        Blame::End { .. } | Blame::Ancestor { .. } => fenced,
        Blame::AsRead { read, .. } => {
            fenced
                || attrs::get_u64(old, attr::VERSION).ok() != Some(read.version)
                || attrs::get_s(old, attr::CREATED_AT).ok()
                    != Some(time::format(read.created_at).as_str())
        }
        Blame::Condition { .. } => false,
        Blame::Patched(p) => p.breaks(Some(old)),
    }
}
