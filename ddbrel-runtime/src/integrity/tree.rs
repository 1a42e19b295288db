//! The parent-child tree (I1, I2, I3).

use super::records::{ParentChild, Table};
use super::repair::Action;

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
