//! The ParentChildRelationship record (SCHEMA.md §5.2): `PK` the parent, `SK` `child#{child}`,
//! `GSI1PK` the child, `GSI1SK` `parent#{parent}`.

use std::collections::HashMap;

use crate::Item;
use crate::entity::OnDelete;
use crate::records::attrs::{n, s};
use crate::schema::{GSI1PK, GSI1SK, PK, RecordType, SK, attr, keys};
use crate::time;
use crate::urn::AnyUrn;

/// A ParentChildRelationship record; with `_onDelete = restrict` when the child's type
/// declares `#[parent(.., on_delete = restrict)]`.
pub(crate) fn parent_child_item(
    parent: &AnyUrn,
    child: &AnyUrn,
    now: &crate::time::Timestamp,
    on_delete: OnDelete,
) -> Item {
    let mut item = HashMap::from([
        (PK.into(), s(parent.as_str())),
        (SK.into(), s(keys::child_sk(child.as_str()))),
        (GSI1PK.into(), s(child.as_str())),
        (GSI1SK.into(), s(keys::parent_sk(parent.as_str()))),
        (
            attr::TYPE.into(),
            s(RecordType::ParentChildRelationship.as_str()),
        ),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::PARENT_URN.into(), s(parent.as_str())),
        (attr::CHILD_URN.into(), s(child.as_str())),
    ]);
    restrict_attr(&mut item, on_delete);
    item
}

/// Sets `_onDelete` on a relationship record whose relationship restricts (SCHEMA.md §5.2,
/// §5.3); a cascading relationship has no attribute.
pub(crate) fn restrict_attr(item: &mut Item, on_delete: OnDelete) {
    if on_delete == OnDelete::Restrict {
        item.insert(attr::ON_DELETE.into(), s(on_delete.as_str()));
    }
}
