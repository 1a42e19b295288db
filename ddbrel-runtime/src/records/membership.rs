//! The CollectionMembershipRelationship record (SCHEMA.md §5.3): `PK` the collection, `SK`
//! `member#{member}`, `GSI1PK` the member, `GSI1SK` `collection#{collection}`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::entity::OnDelete;
use crate::error::{Error, Result};
use crate::records::attrs;
use crate::records::attrs::{n, s};
use crate::schema::{GSI1PK, GSI1SK, PK, RecordType, SK, attr, keys};
use crate::time;
use crate::urn::AnyUrn;

/// A collection membership as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The collection.
    pub collection: AnyUrn,
    /// The member.
    pub member: AnyUrn,
    /// Whether grants on the collection apply to the member.
    pub conveys_authorization: bool,
}

pub(crate) fn parse_urn_attr(item: &Item, name: &str) -> Result<AnyUrn> {
    attrs::get_urn(item, name)
}

pub(crate) fn membership_of(item: &Item) -> Result<Membership> {
    Ok(Membership {
        collection: parse_urn_attr(item, attr::COLLECTION_URN)?,
        member: parse_urn_attr(item, attr::MEMBER_URN)?,
        conveys_authorization: match item.get(attr::CONVEYS_AUTHORIZATION) {
            Some(AttributeValue::Bool(b)) => *b,
            _ => {
                return Err(Error::invalid_item(
                    attrs::key_of(item),
                    "_conveysAuthorization is missing or not a BOOL",
                ));
            }
        },
    })
}

/// The rule of collection type `C` toward its members (`on_delete` of its
/// `#[collection(..)]`).
pub(crate) fn collection_rule<C: crate::entity::Collection>() -> OnDelete {
    C::descriptor()
        .collection
        .map_or(OnDelete::Cascade, |c| c.on_delete)
}

/// A CollectionMembershipRelationship record; with `_onDelete = restrict` when the
/// collection's type declares `on_delete = restrict`.
pub(crate) fn membership_item(
    m: &Membership,
    now: &crate::time::Timestamp,
    on_delete: OnDelete,
) -> Item {
    let mut item = HashMap::from([
        (PK.into(), s(m.collection.as_str())),
        (SK.into(), s(keys::member_sk(m.member.as_str()))),
        (GSI1PK.into(), s(m.member.as_str())),
        (GSI1SK.into(), s(keys::collection_sk(m.collection.as_str()))),
        (
            attr::TYPE.into(),
            s(RecordType::CollectionMembershipRelationship.as_str()),
        ),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::COLLECTION_URN.into(), s(m.collection.as_str())),
        (attr::MEMBER_URN.into(), s(m.member.as_str())),
        (
            attr::CONVEYS_AUTHORIZATION.into(),
            AttributeValue::Bool(m.conveys_authorization),
        ),
    ]);
    crate::records::parent_child::restrict_attr(&mut item, on_delete);
    item
}
