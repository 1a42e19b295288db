//! The EntitySchema record (SCHEMA.md §5.5): an entity type's declaration as the application
//! published it into the table's type registry, so that the CLI, the integrity checker and
//! readers in other languages know the table's types without the application's code.
//! Encoding and decoding side by side; nothing here panics on what the table holds.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::Item;
use crate::entity::{EntityDescriptor, OnDelete, UniqueScope};
use crate::error::{Error, Result};
use crate::records::attrs::{get_s, key_of, s};
use crate::schema::{PK, REGISTRY_PK, RecordType, SK, attr, keys};
use crate::time::{self, Timestamp};

/// Layout version of EntitySchema records (`_schemaVersion`).
pub const TYPE_SCHEMA_VERSION: u32 = 1;

/// An entity type's declaration, owned: what [`EntityDescriptor`] says, as stored in the
/// type registry and as read back from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeSchema {
    /// The Rust type name, e.g. `Job`.
    pub type_name: String,
    /// The URN resource type, e.g. `System.Account.JobCollection.Job`.
    pub resource_type: String,
    /// The URN domain.
    pub domain: String,
    /// The schema version the type's code writes.
    pub schema_version: u32,
    /// The home parent's resource type, for child types (the first type in `#[parent(..)]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Every parent type's resource type, the home parent first, for a type with more than
    /// one parent type; empty (and not stored) otherwise, so the records of types with one
    /// parent type are as before. Read it through [`TypeSchema::parent_types`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// `restrict` when deleting a parent is refused while it has children of this type
    /// (`#[parent(.., on_delete = restrict)]`); absent (and not stored) for the default,
    /// cascade. Informational: every delete reads the rule from the relationship records
    /// (`_onDelete`), never from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
    /// Whether the type is account-scoped.
    pub account_scoped: bool,
    /// The unique constraints, in declaration order.
    #[serde(default)]
    pub unique: Vec<ConstraintSchema>,
    /// The collection declaration, for collection types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionSchema>,
    /// The attribute names the entity's fields are stored under.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A unique constraint of a [`TypeSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintSchema {
    /// The constraint's name, part of the marker key.
    pub name: String,
    /// The attribute names whose values make up the constraint, in order.
    pub fields: Vec<String>,
    /// Where the value must be unique.
    pub scope: UniqueScope,
    /// Whether values are compared after Unicode lowercasing.
    pub case_insensitive: bool,
}

/// The collection declaration of a [`TypeSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionSchema {
    /// The resource types of the members.
    pub members: Vec<String>,
    /// The default for `_conveysAuthorization` on new memberships.
    pub conveys_authorization: bool,
    /// `restrict` when deleting the collection is refused while it has members; absent (and
    /// not stored) for the default, cascade. Informational, as [`TypeSchema::on_delete`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
}

impl From<&EntityDescriptor> for TypeSchema {
    fn from(d: &EntityDescriptor) -> TypeSchema {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        TypeSchema {
            type_name: d.type_name.into(),
            resource_type: d.resource_type.into(),
            domain: d.domain.into(),
            schema_version: d.schema_version,
            parent: d.parent.map(Into::into),
            parents: if d.parents.len() > 1 {
                strings(d.parents)
            } else {
                Vec::new()
            },
            on_delete: restrict_only(d.on_delete),
            account_scoped: d.account_scoped,
            unique: d
                .unique
                .iter()
                .map(|c| ConstraintSchema {
                    name: c.name.into(),
                    fields: strings(c.fields),
                    scope: c.scope,
                    case_insensitive: c.case_insensitive,
                })
                .collect(),
            collection: d.collection.map(|c| CollectionSchema {
                members: strings(c.members),
                conveys_authorization: c.conveys_authorization,
                on_delete: restrict_only(c.on_delete),
            }),
            fields: strings(d.fields),
        }
    }
}

/// The rule as stored in the registry: only `restrict` (the default is left out, so records of
/// types that keep it are as before).
fn restrict_only(rule: OnDelete) -> Option<OnDelete> {
    (rule == OnDelete::Restrict).then_some(OnDelete::Restrict)
}

impl TypeSchema {
    /// `SK` of this type's record: `type#{domain}#{resourceType}`.
    pub fn sort_key(&self) -> String {
        keys::type_schema_sk(&self.domain, &self.resource_type)
    }

    /// The resource types a resource of this type may have as parent: `parents` when given,
    /// else the one `parent` (none for a root type).
    pub fn parent_types(&self) -> Vec<&str> {
        if self.parents.is_empty() {
            self.parent.iter().map(String::as_str).collect()
        } else {
            self.parents.iter().map(String::as_str).collect()
        }
    }

    /// The constraint named `name`.
    pub fn constraint(&self, name: &str) -> Option<&ConstraintSchema> {
        self.unique.iter().find(|c| c.name == name)
    }
}

/// The EntitySchema record of `schema`, registered at `now`.
pub fn type_schema_item(schema: &TypeSchema, now: Timestamp) -> Result<Item> {
    let fields: serde_dynamo::Item = serde_dynamo::to_item(schema).map_err(|e| Error::Encode {
        what: format!("type schema of {}", schema.resource_type),
        reason: e.to_string(),
    })?;
    let mut item: Item = fields.into();
    item.insert(PK.into(), s(REGISTRY_PK));
    item.insert(SK.into(), s(schema.sort_key()));
    item.insert(attr::TYPE.into(), s(RecordType::EntitySchema.as_str()));
    item.insert(
        attr::SCHEMA_VERSION.into(),
        AttributeValue::N(TYPE_SCHEMA_VERSION.to_string()),
    );
    item.insert(attr::CREATED_AT.into(), s(time::format(now)));
    Ok(item)
}

/// Decodes an EntitySchema record, checking that its key names the type it describes. The
/// error names the key and, through serde_path_to_error, the attribute that does not decode.
pub fn decode_type_schema(item: &Item) -> Result<TypeSchema> {
    let key = key_of(item);
    if get_s(item, attr::TYPE)? != RecordType::EntitySchema.as_str() {
        return Err(Error::invalid_item(&key, "not an EntitySchema record"));
    }
    let mut fields = item.clone();
    fields.retain(|k, _| !k.starts_with('_') && k != PK && k != SK);
    let fields: serde_dynamo::Item = fields.into();
    let de = serde_dynamo::Deserializer::from_attribute_value(serde_dynamo::AttributeValue::M(
        fields.into(),
    ));
    let schema: TypeSchema = serde_path_to_error::deserialize(de).map_err(|e| {
        Error::invalid_item(
            &key,
            format!("type schema at `{}`: {}", e.path(), e.inner()),
        )
    })?;
    if get_s(item, PK)? != REGISTRY_PK || get_s(item, SK)? != schema.sort_key() {
        return Err(Error::invalid_item(
            &key,
            format!(
                "an EntitySchema record of {} belongs at PK {REGISTRY_PK:?}, SK {:?}",
                schema.resource_type,
                schema.sort_key()
            ),
        ));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{CollectionDescriptor, UniqueConstraint};

    static DESCRIPTOR: EntityDescriptor = EntityDescriptor {
        type_name: "Book",
        resource_type: "Library.Shelf.Book",
        domain: "lib",
        schema_version: 2,
        parent: Some("Library.Shelf"),
        parents: &["Library.Shelf"],
        on_delete: OnDelete::Cascade,
        account_scoped: false,
        unique: &[UniqueConstraint {
            name: "isbn",
            fields: &["isbn"],
            scope: UniqueScope::Parent,
            case_insensitive: true,
        }],
        collection: Some(CollectionDescriptor {
            members: &["Library.Reader"],
            conveys_authorization: false,
            on_delete: OnDelete::Cascade,
        }),
        fields: &["title", "isbn"],
    };

    #[test]
    fn round_trips_and_names_what_does_not_decode() {
        let schema = TypeSchema::from(&DESCRIPTOR);
        let item = type_schema_item(&schema, time::now()).unwrap();
        assert_eq!(item[SK].as_s().unwrap(), "type#lib#Library.Shelf.Book");
        assert_eq!(item["unique"].as_l().unwrap().len(), 1);
        assert_eq!(decode_type_schema(&item).unwrap(), schema);

        let mut bad = item.clone();
        bad.insert("schemaVersion".into(), s("two"));
        let e = decode_type_schema(&bad).unwrap_err().to_string();
        assert!(e.contains("schemaVersion"), "{e}");

        let mut moved = item;
        moved.insert(SK.into(), s("type#lib#Library.Shelf"));
        let e = decode_type_schema(&moved).unwrap_err().to_string();
        assert!(e.contains("belongs at"), "{e}");
    }
}
