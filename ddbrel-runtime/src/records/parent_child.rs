//! The ParentChildRelationship record (SCHEMA.md §5.2): `PK` the parent, `SK` `child#{child}`,
//! `GSI1PK` the child, `GSI1SK` `parent#{parent}`.

use std::collections::HashMap;

use crate::Item;
use crate::records::attrs::{n, s};
use crate::schema::{CHILD_PREFIX, PARENT_PREFIX, PK, RecordType, SK, attr};
use crate::time;
use crate::urn::AnyUrn;

/// A ParentChildRelationship record.
pub(crate) fn parent_child_item(parent: &AnyUrn, child: &AnyUrn, now: &jiff::Timestamp) -> Item {
    HashMap::from([
        (PK.into(), s(parent.as_str())),
        (SK.into(), s(format!("{CHILD_PREFIX}{child}"))),
        (crate::schema::GSI1PK.into(), s(child.as_str())),
        (
            crate::schema::GSI1SK.into(),
            s(format!("{PARENT_PREFIX}{parent}")),
        ),
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
    ])
}
