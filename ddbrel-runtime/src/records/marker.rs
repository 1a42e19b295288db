//! The UniqueKeyValue record (SCHEMA.md §5.4): a uniqueness marker, `PK = SK` its key.

use std::collections::HashMap;

use crate::Item;
use crate::entity::Entity;
use crate::records::attrs::{n, s};
use crate::schema::{PK, RecordType, SK, attr};
use crate::time;
use crate::unique::Marker;

/// A UniqueKeyValue record.
pub(crate) fn marker_item<E: Entity>(m: &Marker, owner: &str, now: &jiff::Timestamp) -> Item {
    HashMap::from([
        (PK.into(), s(&m.key)),
        (SK.into(), s(&m.key)),
        (attr::TYPE.into(), s(RecordType::UniqueKeyValue.as_str())),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::OWNER_URN.into(), s(owner)),
        (
            attr::CONSTRAINT.into(),
            s(format!("{}.{}", E::RESOURCE_TYPE, m.constraint)),
        ),
    ])
}
