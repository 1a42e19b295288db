//! Pass 1: each record on its own, checked against its layout (SCHEMA.md sections 4 to 6) and
//! parsed into the [`Table`]. Rules a record can check alone are here:
//!
//! - every record: `PK`, `SK`, `_type`, `_schemaVersion`, `_createdAt`; index keys never NULL
//!   or empty (**I7**);
//! - Resource: `PK = SK`, `_resourceType`, `_version >= 1`, `_createdAt <= _updatedAt` (**I8**),
//!   no GSI keys (**I7**), `_parentUrn`/`_ancestors` together (**I2**) and well-formed
//!   (**I3**), `_accountUrn` only with a parent (**I5**);
//! - relationship records: keys, GSI keys and URN attributes agree (sections 5.2, 5.3), no
//!   `_accountUrn` (**I5**);
//! - UniqueKeyValue: `PK = SK` (**I8**), the key's encoding and `_constraint` (**I4**, section
//!   6), no GSI keys (**I7**), no `_accountUrn` (**I5**).

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use super::FindingKind;
use super::read::Checker;
use super::records::{
    MARKER_ATTRS, MEMBERSHIP_ATTRS, Marker, Membership, PARENT_CHILD_ATTRS, ParentChild,
    RESOURCE_ATTRS, Resource, Table, describe, list, split_marker_key, text,
};
use crate::Item;
use crate::entity::OnDelete;
use crate::records::attrs::key_of;
use crate::records::marker::MAX_MARKER_KEY_BYTES;
use crate::schema::{
    CHILD_PREFIX, COLLECTION_PREFIX, GSI1PK, GSI1SK, MEMBER_PREFIX, PARENT_PREFIX, PK,
    RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, attr, keys,
};
use crate::urn::AnyUrn;

impl Checker {
    /// Pass 1 for one record: the attributes common to every record, then those of its type.
    pub(super) fn record(&mut self, item: &Item, table: &mut Table) {
        let key = key_of(item);
        let (Some(_), Some(_)) = (self.req_s(&key, item, PK), self.req_s(&key, item, SK)) else {
            return;
        };
        // Index keys are never NULL or empty, on any record (I7).
        for name in [GSI1PK, GSI1SK, attr::ACCOUNT_URN] {
            match item.get(name) {
                None => {}
                Some(AttributeValue::S(s)) if s.is_empty() => self.push(
                    FindingKind::Schema,
                    "I7",
                    &key,
                    format!("index key {name} is an empty string"),
                ),
                Some(AttributeValue::S(_)) => {}
                Some(other) => self.push(
                    FindingKind::Schema,
                    "I7",
                    &key,
                    format!("index key {name} is {}, not S", describe(other)),
                ),
            }
        }
        let Some(t) = self.req_s(&key, item, attr::TYPE) else {
            return;
        };
        let Some(record_type) = RecordType::parse(t) else {
            self.layout(&key, format!("unknown _type {t:?}"));
            return;
        };
        if let Some(v) = self.req_n(&key, item, attr::SCHEMA_VERSION) {
            if v < 1 {
                self.layout(&key, format!("_schemaVersion is {v}; versions start at 1"));
            } else if record_type != RecordType::Resource
                && v != i128::from(RELATIONSHIP_SCHEMA_VERSION)
            {
                self.layout(
                    &key,
                    format!(
                        "_schemaVersion of a {} is {RELATIONSHIP_SCHEMA_VERSION}, found {v}",
                        record_type.as_str()
                    ),
                );
            }
        }
        let created = self
            .req_s(&key, item, attr::CREATED_AT)
            .and_then(|s| self.timestamp(&key, attr::CREATED_AT, s));
        match record_type {
            RecordType::Resource => self.resource(&key, item, created, table),
            RecordType::ParentChildRelationship => self.parent_child(&key, item, table),
            RecordType::CollectionMembershipRelationship => self.membership(&key, item, table),
            RecordType::UniqueKeyValue => self.marker(&key, item, table),
            RecordType::EntitySchema => self.type_schema(&key, item, table),
        }
    }

    /// Pass 1 for a Resource record (section 5.1): its own layout and the checks it can make
    /// alone; then into the table.
    fn resource(
        &mut self,
        key: &str,
        item: &Item,
        created: Option<crate::time::Timestamp>,
        table: &mut Table,
    ) {
        let urn = self.resource_layout(key, item, created);
        let deleting = self.deleting(key, item);
        let parent = self.opt_urn(key, item, attr::PARENT_URN);
        let ancestors = self.ancestors(key, item);
        self.parent_shape(key, urn.as_ref(), parent.as_ref(), ancestors.as_deref());
        let account = self.resource_account(key, item, urn.as_ref());
        let unique_keys: BTreeSet<String> =
            self.ss(key, item, attr::UNIQUE_KEYS).into_iter().collect();
        let member_of = self.urn_set(key, item, attr::MEMBER_OF);
        let conveying = self.urn_set(key, item, attr::CONVEYING_COLLECTIONS);
        let child_count = self.count(key, item, attr::CHILD_COUNT);
        let member_count = self.count(key, item, attr::MEMBER_COUNT);
        let Some(urn) = urn else { return };
        table.resources.insert(
            urn.clone(),
            Resource {
                key: key.to_string(),
                urn,
                schema_version: item
                    .get(attr::SCHEMA_VERSION)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                parent,
                ancestors,
                account,
                unique_keys,
                member_of,
                conveying,
                child_count,
                member_count,
                deleting,
            },
        );
    }

    /// I11: a root resource (no `_parentUrn`) is listed in its type's shard of the
    /// InvertedIndex (`GSI1PK` the shard's key, `GSI1SK` its URN); a child carries no GSI1
    /// keys (I7).
    fn root_listing(&mut self, key: &str, item: &Item, urn: Option<&AnyUrn>) {
        use FindingKind::Schema;
        if item.contains_key(attr::PARENT_URN) {
            for name in [GSI1PK, GSI1SK] {
                if item.contains_key(name) {
                    let message = format!("a Resource record of a child type carries {name}");
                    self.push(Schema, "I7", key, message);
                }
            }
            return;
        }
        let Some(urn) = urn else { return };
        let want = keys::root_listing_pk(urn.type_prefix(), urn.as_str());
        let (pk, sk) = (text(item, GSI1PK), text(item, GSI1SK));
        if pk != want || sk != urn.as_str() {
            let found = if pk.is_empty() && sk.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has GSI1PK {pk:?}, GSI1SK {sk:?}")
            };
            self.push_fix(
                Schema,
                "I11",
                key,
                format!("a root resource is listed as GSI1PK {want}, GSI1SK its URN; {found}"),
                vec![super::repair::Action::ListRoot { urn: urn.clone() }],
            );
        }
    }

    /// The common attributes of a Resource record, I7 and I8: `PK = SK`, GSI1 keys as I11,
    /// `_resourceType` the URN's, `_version >= 1`, `_createdAt <= _updatedAt`. Returns the URN.
    fn resource_layout(
        &mut self,
        key: &str,
        item: &Item,
        created: Option<crate::time::Timestamp>,
    ) -> Option<AnyUrn> {
        use FindingKind::Schema;
        self.known_attributes(key, item, RESOURCE_ATTRS, true);
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(Schema, "I8", key, "a Resource record has PK = SK = its URN");
        }
        let urn = self.urn(key, "PK", pk);
        self.root_listing(key, item, urn.as_ref());
        if let (Some(urn), Some(rt)) = (&urn, self.req_s(key, item, attr::RESOURCE_TYPE))
            && rt != urn.resource_type()
        {
            self.push(
                Schema,
                "I8",
                key,
                format!(
                    "_resourceType {rt} is not the URN's type {}",
                    urn.resource_type()
                ),
            );
        }
        if let Some(v) = self.req_n(key, item, attr::VERSION)
            && v < 1
        {
            self.push(
                Schema,
                "I8",
                key,
                format!("_version is {v}; versions start at 1"),
            );
        }
        let updated = self
            .req_s(key, item, attr::UPDATED_AT)
            .and_then(|s| self.timestamp(key, attr::UPDATED_AT, s));
        if let (Some(c), Some(u)) = (created, updated)
            && c > u
        {
            self.push(
                Schema,
                "I8",
                key,
                format!("_createdAt {c} is after _updatedAt {u}"),
            );
        }
        urn
    }

    /// `_writeToken` and `_deleting` (section 5.1): `_deleting` as read, when present.
    fn deleting(&mut self, key: &str, item: &Item) -> Option<String> {
        // `_writeToken`, when present, is a non-empty string (section 5.1).
        self.opt_s(key, item, attr::WRITE_TOKEN);
        // `_deleteChecked`, when present, is a time, on a fenced resource (section 5.1).
        if let Some(checked) = self.opt_s(key, item, attr::DELETE_CHECKED) {
            self.timestamp(key, attr::DELETE_CHECKED, checked);
            if !item.contains_key(attr::DELETING) {
                self.layout(key, "_deleteChecked without _deleting");
            }
        }
        match self.opt_s(key, item, attr::DELETING) {
            Some(s) => {
                self.timestamp(key, attr::DELETING, s);
                Some(s.to_string())
            }
            None => item
                .contains_key(attr::DELETING)
                .then(|| "an unreadable time".to_string()),
        }
    }

    /// `_ancestors`, a list of URNs; `None` when absent or not a list.
    fn ancestors(&mut self, key: &str, item: &Item) -> Option<Vec<AnyUrn>> {
        match item.get(attr::ANCESTORS) {
            None => None,
            Some(AttributeValue::L(list)) => {
                let mut out = Vec::new();
                for v in list {
                    match v {
                        AttributeValue::S(s) => {
                            if let Some(u) = self.urn(key, "an element of _ancestors", s) {
                                out.push(u);
                            }
                        }
                        other => {
                            self.layout(key, format!("_ancestors holds {}, not S", describe(other)))
                        }
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.layout(key, format!("_ancestors is {}, not L", describe(other)));
                None
            }
        }
    }

    /// `_parentUrn` and `_ancestors` both present or both absent (I2); `_ancestors` ending with
    /// the parent, without repeats, without the resource itself (I3).
    fn parent_shape(
        &mut self,
        key: &str,
        urn: Option<&AnyUrn>,
        parent: Option<&AnyUrn>,
        ancestors: Option<&[AnyUrn]>,
    ) {
        use FindingKind::{Ancestors, ParentRelationship};
        match (parent, ancestors) {
            (Some(_), None) => {
                self.push(
                    ParentRelationship,
                    "I2",
                    key,
                    "has _parentUrn but no _ancestors",
                );
            }
            (None, Some(_)) => {
                self.push(
                    ParentRelationship,
                    "I2",
                    key,
                    "has _ancestors but no _parentUrn",
                );
            }
            (Some(p), Some(a)) => {
                if a.last() != Some(p) {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        format!("_ancestors {} does not end with _parentUrn {p}", list(a)),
                    );
                }
                let distinct: BTreeSet<&AnyUrn> = a.iter().collect();
                if distinct.len() != a.len() {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        format!("_ancestors {} repeats a URN", list(a)),
                    );
                }
                if let Some(u) = urn
                    && a.contains(u)
                {
                    self.push(
                        Ancestors,
                        "I3",
                        key,
                        "_ancestors contains the resource itself",
                    );
                }
            }
            (None, None) => {}
        }
    }

    /// `_accountUrn` (I5): only on resources with a parent, and not the resource itself.
    fn resource_account(&mut self, key: &str, item: &Item, urn: Option<&AnyUrn>) -> Option<AnyUrn> {
        use FindingKind::AccountMismatch;
        let account = self.opt_urn(key, item, attr::ACCOUNT_URN);
        if account.is_some() && item.get(attr::PARENT_URN).is_none() {
            self.push(
                AccountMismatch,
                "I5",
                key,
                "has _accountUrn but no parent (an account-scoped type declares a parent)",
            );
        }
        if let (Some(a), Some(u)) = (&account, urn)
            && a == u
        {
            self.push(
                AccountMismatch,
                "I5",
                key,
                "_accountUrn is the resource itself",
            );
        }
        account
    }

    /// The common layout of both relationship records: `PK` = `from`, `SK` = `sk_prefix` + to,
    /// `GSI1PK` = to, `GSI1SK` = `gsi_prefix` + from, and the two URN attributes.
    fn relationship(
        &mut self,
        key: &str,
        item: &Item,
        sk_prefix: &str,
        gsi_prefix: &str,
        from_attr: &str,
        to_attr: &str,
    ) -> Option<(AnyUrn, AnyUrn)> {
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(
                FindingKind::AccountMismatch,
                "I5",
                key,
                "a relationship record carries _accountUrn",
            );
        }
        let from = self.urn(key, "PK", text(item, PK));
        let to = match text(item, SK).strip_prefix(sk_prefix) {
            Some(rest) => self.urn(key, &format!("SK after {sk_prefix}"), rest),
            None => {
                self.layout(key, format!("SK does not start with {sk_prefix}"));
                None
            }
        };
        let gsi1pk = self.req_s(key, item, GSI1PK);
        let gsi1sk = self.req_s(key, item, GSI1SK);
        let from_value = self.req_s(key, item, from_attr);
        let to_value = self.req_s(key, item, to_attr);
        let (from, to) = (from?, to?);
        if let Some(v) = gsi1pk
            && v != to.as_str()
        {
            self.layout(key, format!("GSI1PK is {v}, expected {to}"));
        }
        let want = format!("{gsi_prefix}{from}");
        if let Some(v) = gsi1sk
            && v != want
        {
            self.layout(key, format!("GSI1SK is {v}, expected {want}"));
        }
        if let Some(v) = from_value
            && v != from.as_str()
        {
            self.layout(key, format!("{from_attr} is {v}, expected {from} (PK)"));
        }
        if let Some(v) = to_value
            && v != to.as_str()
        {
            self.layout(key, format!("{to_attr} is {v}, expected {to} (from SK)"));
        }
        if from == to {
            self.layout(key, "a relationship from a resource to itself");
        }
        Some((from, to))
    }

    /// `_onDelete` of a relationship record, when present, is the string `restrict` (sections
    /// 5.2, 5.3).
    fn on_delete(&mut self, key: &str, item: &Item) {
        match item.get(attr::ON_DELETE) {
            None => {}
            Some(AttributeValue::S(v)) if v == OnDelete::Restrict.as_str() => {}
            Some(AttributeValue::S(v)) => {
                self.layout(key, format!("_onDelete is {v:?}, expected \"restrict\""));
            }
            Some(other) => {
                self.layout(key, format!("_onDelete is {}, not S", describe(other)));
            }
        }
    }

    /// Pass 1 for a ParentChildRelationship record (section 5.2).
    fn parent_child(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, PARENT_CHILD_ATTRS, false);
        self.on_delete(key, item);
        if let Some((parent, child)) = self.relationship(
            key,
            item,
            CHILD_PREFIX,
            PARENT_PREFIX,
            attr::PARENT_URN,
            attr::CHILD_URN,
        ) {
            table.parent_child.push(ParentChild {
                key: key.to_string(),
                parent,
                child,
            });
        }
    }

    /// Pass 1 for a CollectionMembershipRelationship record (section 5.3).
    fn membership(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, MEMBERSHIP_ATTRS, false);
        self.on_delete(key, item);
        let conveys = match item.get(attr::CONVEYS_AUTHORIZATION) {
            Some(AttributeValue::Bool(b)) => Some(*b),
            Some(other) => {
                self.layout(
                    key,
                    format!("_conveysAuthorization is {}, not BOOL", describe(other)),
                );
                None
            }
            None => {
                self.layout(key, "missing attribute _conveysAuthorization");
                None
            }
        };
        if let Some((collection, member)) = self.relationship(
            key,
            item,
            MEMBER_PREFIX,
            COLLECTION_PREFIX,
            attr::COLLECTION_URN,
            attr::MEMBER_URN,
        ) {
            table.memberships.push(Membership {
                key: key.to_string(),
                collection,
                member,
                conveys: conveys.unwrap_or(false),
            });
        }
    }

    /// Pass 1 for a UniqueKeyValue record (sections 5.4 and 6).
    fn marker(&mut self, key: &str, item: &Item, table: &mut Table) {
        use FindingKind::Schema;
        self.known_attributes(key, item, MARKER_ATTRS, false);
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(
                    Schema,
                    "I7",
                    key,
                    format!("a UniqueKeyValue record carries {name}"),
                );
            }
        }
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(
                FindingKind::AccountMismatch,
                "I5",
                key,
                "a UniqueKeyValue record carries _accountUrn",
            );
        }
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(
                Schema,
                "I8",
                key,
                "a UniqueKeyValue record has PK = SK = its marker key",
            );
        }
        if pk.len() > MAX_MARKER_KEY_BYTES {
            self.push(
                Schema,
                "I4",
                key,
                format!(
                    "marker key is {} bytes, over {MAX_MARKER_KEY_BYTES}",
                    pk.len()
                ),
            );
        }
        let owner = self.req_urn(key, item, attr::OWNER_URN);
        let constraint_attr = self.req_s(key, item, attr::CONSTRAINT);
        let Some((resource_type, constraint, scope)) = split_marker_key(pk) else {
            self.push(
                Schema,
                "I4",
                key,
                "marker key is not unique#{resourceType}#{constraint}#{scope}#{value}",
            );
            return;
        };
        let want = format!("{resource_type}.{constraint}");
        if let Some(c) = constraint_attr
            && c != want
        {
            self.push(
                Schema,
                "I4",
                key,
                format!("_constraint is {c}, the key says {want}"),
            );
        }
        if scope != "global" {
            self.urn(key, "the marker key's scope", scope);
        }
        let Some(owner) = owner else { return };
        table.markers.insert(
            pk.to_string(),
            Marker {
                key: key.to_string(),
                owner,
                resource_type: resource_type.to_string(),
                scope: scope.to_string(),
            },
        );
    }
}
