//! The type registry (SCHEMA.md §10 "Register types", "Registered types"): an application
//! publishes its entity types' declarations into the table, one EntitySchema record per type
//! in the `schema` partition, so that tools without the application's code (the `ddbrel`
//! CLI, the integrity checker, readers in other languages) know the table's types.

use crate::entity::{Entity, EntityDescriptor};
use crate::error::{Error, Result};
use crate::records::attrs::{get_u64, key_of, n};
use crate::records::type_schema::{TypeSchema, decode_type_schema, type_schema_item};
use crate::schema::REGISTRY_PK;
use crate::time;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::write::{Sent, Write};

/// What [`Store::register_types`] did, by resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    /// Types written: new to the registry, or declared differently than registered.
    pub written: Vec<String>,
    /// Types already registered exactly as declared (nothing was written for them).
    pub unchanged: Vec<String>,
}

impl Store {
    /// Publishes `E`'s declaration into the table's type registry (see
    /// [`Store::register_types`]).
    pub async fn register<E: Entity>(&self) -> Result<Registration> {
        self.register_types(&[E::descriptor()]).await
    }

    /// Publishes these entity types' declarations into the table's type registry: one Query
    /// of the registry, then one conditional PutItem per type that is new or declared
    /// differently (nothing for a type registered exactly so). Call it at start-up or from a
    /// deployment step; it is idempotent.
    ///
    /// A type registered at a newer schema version than this code's is left alone and the call
    /// fails with [`Error::SchemaTooNew`] (older code must not describe newer data): the
    /// condition `attribute_not_exists(PK) OR schemaVersion <= :v` holds that line against a
    /// newer deployment registering at the same time.
    pub async fn register_types(&self, descriptors: &[&EntityDescriptor]) -> Result<Registration> {
        let span = op_span!(self, "register_types", ddbrel.types = descriptors.len());
        traced(span, async {
            let registered = self.registered_types().await?;
            let mut report = Registration::default();
            for d in descriptors {
                let schema = TypeSchema::from(*d);
                let current = registered
                    .iter()
                    .find(|r| r.sort_key() == schema.sort_key());
                if let Some(current) = current {
                    if current == &schema {
                        report.unchanged.push(schema.resource_type);
                        continue;
                    }
                    if current.schema_version > schema.schema_version {
                        return Err(too_new(&schema, current.schema_version));
                    }
                }
                let item = type_schema_item(&schema, time::now())?;
                let newer_or_same = Expr::new("attribute_not_exists(#pk) OR #sv <= :sv")
                    .name("#pk", crate::schema::PK)
                    .name("#sv", "schemaVersion")
                    .value(":sv", n(schema.schema_version));
                match Write::put(item).when(newer_or_same).send(self).await? {
                    Sent::Applied(_) => report.written.push(schema.resource_type),
                    Sent::ConditionFailed(old) => {
                        let found = old
                            .as_ref()
                            .and_then(|o| get_u64(o, "schemaVersion").ok())
                            .and_then(|v| u32::try_from(v).ok())
                            .unwrap_or(schema.schema_version);
                        return Err(too_new(&schema, found));
                    }
                }
            }
            Ok(report)
        })
        .await
    }

    /// Every entity type in the table's type registry, ordered by domain and resource type:
    /// one strongly consistent Query of the `schema` partition (more pages only past 1 MB).
    /// A record that does not decode is an [`Error::InvalidItem`] naming its key.
    pub async fn registered_types(&self) -> Result<Vec<TypeSchema>> {
        let span = op_span!(self, "registered_types");
        traced(span, async {
            let items = self.query_partition(REGISTRY_PK).await?;
            items
                .iter()
                .map(|item| {
                    decode_type_schema(item).map_err(|e| match e {
                        Error::InvalidItem { .. } => e,
                        other => Error::invalid_item(key_of(item), other.to_string()),
                    })
                })
                .collect()
        })
        .await
    }
}

fn too_new(schema: &TypeSchema, found: u32) -> Error {
    Error::SchemaTooNew {
        key: format!("{REGISTRY_PK}/{}", schema.sort_key()),
        found,
        supported: schema.schema_version,
    }
}
