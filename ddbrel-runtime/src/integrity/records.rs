//! The records as parsed by pass 1, and helpers shared by both passes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::schema::{GSI1PK, GSI1SK, PK, SK, attr};
use crate::urn::AnyUrn;

#[derive(Debug)]
pub(super) struct Resource {
    pub(super) key: String,
    pub(super) urn: AnyUrn,
    /// `_schemaVersion` (0 when unreadable; pass 1 reports that).
    pub(super) schema_version: u32,
    pub(super) parent: Option<AnyUrn>,
    /// `None` when absent (or unreadable); roots have none.
    pub(super) ancestors: Option<Vec<AnyUrn>>,
    pub(super) account: Option<AnyUrn>,
    pub(super) unique_keys: BTreeSet<String>,
    pub(super) member_of: BTreeSet<AnyUrn>,
    pub(super) conveying: BTreeSet<AnyUrn>,
    pub(super) child_count: Count,
    pub(super) member_count: Count,
    /// `_deleting` as read (possibly malformed), when present.
    pub(super) deleting: Option<String>,
}

impl Resource {
    pub(super) fn ancestors(&self) -> &[AnyUrn] {
        self.ancestors.as_deref().unwrap_or(&[])
    }
}

/// A count attribute as read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Count {
    /// The value, absent = 0, unreadable = 0.
    pub(super) value: i128,
    /// Whether the attribute is present.
    pub(super) present: bool,
    /// Whether it could be read as an integer (absent counts as readable).
    pub(super) readable: bool,
}

#[derive(Debug)]
pub(super) struct ParentChild {
    pub(super) key: String,
    pub(super) parent: AnyUrn,
    pub(super) child: AnyUrn,
}

#[derive(Debug)]
pub(super) struct Membership {
    pub(super) key: String,
    pub(super) collection: AnyUrn,
    pub(super) member: AnyUrn,
    pub(super) conveys: bool,
}

#[derive(Debug)]
pub(super) struct Marker {
    pub(super) key: String,
    pub(super) owner: AnyUrn,
    pub(super) resource_type: String,
    pub(super) scope: String,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) resources: BTreeMap<AnyUrn, Resource>,
    pub(super) parent_child: Vec<ParentChild>,
    pub(super) memberships: Vec<Membership>,
    pub(super) markers: BTreeMap<String, Marker>,
    /// The type registry: EntitySchema records by (domain, resource type).
    pub(super) registry: BTreeMap<(String, String), crate::records::type_schema::TypeSchema>,
    /// The `child#` and `member#` records of partitions counted without being held (the SQL
    /// audit's neighbourhoods, `sql/plan.rs`): these numbers stand in for counting
    /// `parent_child` and `memberships`.
    pub(super) counted: BTreeMap<AnyUrn, (usize, usize)>,
}

pub(super) const RESOURCE_ATTRS: &[&str] = &[
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::RESOURCE_TYPE,
    attr::VERSION,
    attr::UPDATED_AT,
    attr::ACCOUNT_URN,
    attr::PARENT_URN,
    attr::ANCESTORS,
    attr::UNIQUE_KEYS,
    attr::MEMBER_OF,
    attr::CONVEYING_COLLECTIONS,
    attr::DELETING,
    attr::DELETE_CHECKED,
    attr::CHILD_COUNT,
    attr::MEMBER_COUNT,
    attr::WRITE_TOKEN,
];
pub(super) const PARENT_CHILD_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::PARENT_URN,
    attr::CHILD_URN,
    attr::ON_DELETE,
];
pub(super) const MEMBERSHIP_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::COLLECTION_URN,
    attr::MEMBER_URN,
    attr::CONVEYS_AUTHORIZATION,
    attr::ON_DELETE,
];
pub(super) const MARKER_ATTRS: &[&str] = &[
    PK,
    SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::OWNER_URN,
    attr::CONSTRAINT,
];

pub(super) fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s,
        _ => "",
    }
}

pub(super) fn describe(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        _ => "an unknown type",
    }
}

pub(super) fn list<T: fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = v.into_iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(", "))
}

/// Splits `unique#{resourceType}#{constraint}#{scope}#{value}` into type, constraint and scope.
pub(super) fn split_marker_key(key: &str) -> Option<(&str, &str, &str)> {
    crate::records::marker::split_key(key).map(|(t, c, scope, _)| (t, c, scope))
}
