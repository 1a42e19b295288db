//! The type registry (SCHEMA.md §5.5). Pass 1 checks each EntitySchema record's layout: it
//! decodes, sits at `PK = schema`, `SK = type#{domain}#{resourceType}` of what it describes,
//! and carries no index keys (**I7**, **I5**). Pass 2 holds the resources of each registered
//! type to their declaration: a parent of the declared parent type, or none for a root
//! (**I2**); `_accountUrn` exactly when the type is account-scoped (**I5**); a
//! `_schemaVersion` no newer than registered (**I10**). Each disagreement is reported once per
//! type, on the key `type {resourceType}`, naming the first resource found.

use super::FindingKind;
use super::read::Checker;
use super::records::Table;
use crate::Item;
use crate::records::type_schema::decode_type_schema;
use crate::schema::{GSI1PK, GSI1SK, attr};

/// The attributes an EntitySchema record may carry besides `PK` and `SK`.
const TYPE_SCHEMA_ATTRS: &[&str] = &[
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    "typeName",
    "resourceType",
    "domain",
    "schemaVersion",
    "parent",
    "parents",
    "onDelete",
    "accountScoped",
    "unique",
    "collection",
    "fields",
];

impl Checker {
    /// Pass 1 for an EntitySchema record.
    pub(super) fn type_schema(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, TYPE_SCHEMA_ATTRS, false);
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(
                    FindingKind::Schema,
                    "I7",
                    key,
                    format!("an EntitySchema record carries {name}"),
                );
            }
        }
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(
                FindingKind::AccountMismatch,
                "I5",
                key,
                "an EntitySchema record carries _accountUrn",
            );
        }
        match decode_type_schema(item) {
            Ok(schema) => {
                table.registry.insert(
                    (schema.domain.clone(), schema.resource_type.clone()),
                    schema,
                );
            }
            Err(e) => self.layout(key, e.to_string()),
        }
    }

    /// Pass 2: the resources of each registered type against its declaration.
    pub(super) fn registered_declarations(&mut self, t: &Table) {
        let mut reported = std::collections::BTreeSet::new();
        for r in t.resources.values() {
            let rt = r.urn.resource_type();
            let Some(d) = t
                .registry
                .get(&(r.urn.domain().to_string(), rt.to_string()))
            else {
                continue;
            };
            let type_key = format!("type {rt}");
            let parent_type = r.parent.as_ref().map(|p| p.resource_type());
            let declared = d.parent_types();
            let fits = match parent_type {
                Some(p) => declared.contains(&p),
                None => declared.is_empty(),
            };
            if !fits && reported.insert((rt, "I2")) {
                let declared = if declared.is_empty() {
                    "none (a root type)".to_string()
                } else {
                    declared.join(" or ")
                };
                let found = parent_type.unwrap_or("none");
                self.push(
                    FindingKind::ParentRelationship,
                    "I2",
                    &type_key,
                    format!(
                        "registered with parent type {declared}, but {} has parent type {found}",
                        r.key
                    ),
                );
            }
            if r.account.is_some() != d.account_scoped && reported.insert((rt, "I5")) {
                let (declared, found) = if d.account_scoped {
                    ("account-scoped", "no _accountUrn")
                } else {
                    ("not account-scoped", "_accountUrn")
                };
                self.push(
                    FindingKind::AccountMismatch,
                    "I5",
                    &type_key,
                    format!("registered {declared}, but {} has {found}", r.key),
                );
            }
            if r.schema_version > d.schema_version && reported.insert((rt, "I10")) {
                self.push(
                    FindingKind::Schema,
                    "I10",
                    &type_key,
                    format!(
                        "registered at schema version {}, but {} was written at {}: register the types from the code that wrote it",
                        d.schema_version, r.key, r.schema_version
                    ),
                );
            }
        }
    }
}
