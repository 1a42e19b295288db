//! Table administration (SCHEMA.md §2): create with ddbrel's definition and wait until active,
//! check an existing table's definition, describe, delete.

use aws_sdk_dynamodb::types::{
    BillingMode, KeySchemaElement, ProjectionType, ScalarAttributeType, TableStatus,
};

use crate::error::{Error, Result};
use crate::schema::{TableDescription, definition};
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

fn describe_keys(keys: &[KeySchemaElement]) -> Vec<(String, String)> {
    let mut v: Vec<_> = keys
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

impl Store {
    /// Creates the table with ddbrel's definition, on-demand billing, and waits until it is
    /// active. An existing table with the same definition is fine; one with another definition
    /// is [`Error::TableMismatch`].
    pub async fn create_table(&self) -> Result<()> {
        let span = op_span!(self, "create_table");
        traced(span, async {
            let (keys, attrs, gsis) = definition();
            let res = self
                .client()
                .create_table()
                .table_name(self.table())
                .set_key_schema(Some(keys))
                .set_attribute_definitions(Some(attrs))
                .set_global_secondary_indexes(Some(gsis))
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            match res {
                Ok(_) => {}
                Err(e) => {
                    let in_use = e
                        .as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception());
                    if !in_use {
                        return Err(Error::service("CreateTable", e));
                    }
                }
            }
            // Wait for ACTIVE and check the definition (also when it existed already).
            for attempt in 0..600u32 {
                let d = self.describe_raw().await?;
                if d.table_status() == Some(&TableStatus::Active) {
                    return self.check_definition(&d);
                }
                tokio::time::sleep(std::time::Duration::from_millis(
                    (50 * (attempt + 1) as u64).min(1000),
                ))
                .await;
            }
            Err(Error::TableMismatch {
                table: self.table().to_string(),
                reason: "the table did not become ACTIVE".into(),
            })
        })
        .await
    }

    async fn describe_raw(&self) -> Result<aws_sdk_dynamodb::types::TableDescription> {
        let out = self
            .client()
            .describe_table()
            .table_name(self.table())
            .send()
            .await
            .map_err(|e| self.map_sdk_error("DescribeTable", e))?;
        out.table.ok_or_else(|| Error::TableNotFound {
            table: self.table().to_string(),
        })
    }

    fn check_definition(&self, d: &aws_sdk_dynamodb::types::TableDescription) -> Result<()> {
        let mismatch = |reason: String| Error::TableMismatch {
            table: self.table().to_string(),
            reason,
        };
        let (keys, _, gsis) = definition();
        if describe_keys(d.key_schema()) != describe_keys(&keys) {
            return Err(mismatch(format!(
                "primary key is {:?}, expected PK (HASH) and SK (RANGE)",
                describe_keys(d.key_schema())
            )));
        }
        for want in &gsis {
            let name = want.index_name();
            let Some(have) = d
                .global_secondary_indexes()
                .iter()
                .find(|g| g.index_name() == Some(name))
            else {
                return Err(mismatch(format!("index {name} is missing")));
            };
            if describe_keys(have.key_schema()) != describe_keys(want.key_schema()) {
                return Err(mismatch(format!(
                    "index {name} has key {:?}, expected {:?}",
                    describe_keys(have.key_schema()),
                    describe_keys(want.key_schema())
                )));
            }
            let projection = have.projection().and_then(|p| p.projection_type());
            if projection != Some(&ProjectionType::All) {
                return Err(mismatch(format!(
                    "index {name} projects {projection:?}, expected ALL"
                )));
            }
        }
        for def in d.attribute_definitions() {
            if def.attribute_type() != &ScalarAttributeType::S {
                return Err(mismatch(format!(
                    "attribute {} is of type {}, expected S",
                    def.attribute_name(),
                    def.attribute_type().as_str()
                )));
            }
        }
        Ok(())
    }

    /// Describes the table (status, approximate counts, indexes), checking its definition.
    pub async fn describe_table(&self) -> Result<TableDescription> {
        let span = op_span!(self, "describe_table");
        traced(span, async {
            let d = self.describe_raw().await?;
            self.check_definition(&d)?;
            Ok(TableDescription {
                name: d.table_name().unwrap_or(self.table()).to_string(),
                status: d
                    .table_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                item_count: d.item_count().unwrap_or(0),
                size_bytes: d.table_size_bytes().unwrap_or(0),
                indexes: d
                    .global_secondary_indexes()
                    .iter()
                    .filter_map(|g| g.index_name().map(str::to_string))
                    .collect(),
            })
        })
        .await
    }

    /// Deletes the table and everything in it. A missing table is [`Error::TableNotFound`].
    pub async fn delete_table(&self) -> Result<()> {
        let span = op_span!(self, "delete_table");
        traced(span, async {
            self.client()
                .delete_table()
                .table_name(self.table())
                .send()
                .await
                .map_err(|e| self.map_sdk_error("DeleteTable", e))?;
            Ok(())
        })
        .await
    }
}
