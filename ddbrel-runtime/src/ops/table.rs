//! Table administration (SCHEMA.md §2): create with ddbrel's definition and wait until active,
//! check an existing table's definition, describe, delete.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    BillingMode, KeySchemaElement, PointInTimeRecoverySpecification, PointInTimeRecoveryStatus,
    ProjectionType, ScalarAttributeType, TableStatus,
};

use crate::error::{Error, Result};
use crate::schema::{TableDescription, TableOptions, definition};
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

/// Point-in-time recovery of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// On.
    Enabled,
    /// Off.
    Disabled,
    /// The endpoint has no continuous-backups API (a local engine): nothing to turn on.
    Unsupported,
}

/// What [`Store::create_table_with`] left: whether it created the table, and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSetup {
    /// The table was created now (not found existing).
    pub created: bool,
    /// Deletion protection is on.
    pub deletion_protection: bool,
    /// Point-in-time recovery.
    pub recovery: Recovery,
}

fn unknown_operation<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "UnknownOperationException")
}

fn backups_not_ready<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ContinuousBackupsUnavailableException")
}

fn protected<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().is_some_and(|s| {
        s.code() == Some("ValidationException")
            && s.message()
                .is_some_and(|m| m.contains("protected against deletion"))
    })
}

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
    /// Creates the table with ddbrel's definition, on-demand billing, deletion protection and
    /// point-in-time recovery ([`TableOptions::default`]), and waits until it is active. An
    /// existing table with the same definition is fine (its settings are left as they are);
    /// one with another definition is [`Error::TableMismatch`].
    pub async fn create_table(&self) -> Result<()> {
        self.create_table_with(TableOptions::default())
            .await
            .map(|_| ())
    }

    /// [`Store::create_table`] with the backup and protection settings chosen, saying what
    /// the table has. Point-in-time recovery is turned on after the table is active
    /// (UpdateContinuousBackups, as DynamoDB requires); an engine without that API (a local
    /// one) reports [`Recovery::Unsupported`] rather than an error.
    pub async fn create_table_with(&self, options: TableOptions) -> Result<TableSetup> {
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
                .deletion_protection_enabled(options.deletion_protection)
                .send()
                .await;
            let created = match res {
                Ok(_) => true,
                Err(e) => {
                    let in_use = e
                        .as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception());
                    if !in_use {
                        return Err(Error::service("CreateTable", e));
                    }
                    false
                }
            };
            // Wait for ACTIVE and check the definition (also when it existed already).
            let d = self.wait_active().await?;
            self.check_definition(&d)?;
            // Recovery is asked for on a new table, and on an existing one that has it off
            // (so a `create` interrupted before it turned recovery on finishes the job when
            // run again); never turned off.
            let recovery = match (created, options.point_in_time_recovery) {
                (true, true) => self.enable_point_in_time_recovery().await?,
                (true, false) => Recovery::Disabled,
                (false, want) => match self.point_in_time_recovery().await? {
                    Recovery::Disabled if want => self.enable_point_in_time_recovery().await?,
                    have => have,
                },
            };
            Ok(TableSetup {
                created,
                deletion_protection: d.deletion_protection_enabled().unwrap_or(false)
                    || (created && options.deletion_protection),
                recovery,
            })
        })
        .await
    }

    async fn wait_active(&self) -> Result<aws_sdk_dynamodb::types::TableDescription> {
        for attempt in 0..600u32 {
            let d = self.describe_raw().await?;
            if d.table_status() == Some(&TableStatus::Active) {
                return Ok(d);
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
    }

    /// Turns point-in-time recovery on. DynamoDB answers ContinuousBackupsUnavailable for a
    /// while after a table is created: that is retried, with backoff, for up to about five
    /// minutes.
    async fn enable_point_in_time_recovery(&self) -> Result<Recovery> {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| Error::service("UpdateContinuousBackups", e))?;
        let mut attempt = 0u32;
        loop {
            let res = self
                .client()
                .update_continuous_backups()
                .table_name(self.table())
                .point_in_time_recovery_specification(spec.clone())
                .send()
                .await;
            match res {
                Ok(_) => return Ok(Recovery::Enabled),
                Err(e) if unknown_operation(&e) => return Ok(Recovery::Unsupported),
                Err(e) if backups_not_ready(&e) && attempt < 40 => {
                    attempt += 1;
                    let wait = (250 * u64::from(attempt)).min(10_000);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                }
                Err(e) => return Err(self.map_sdk_error("UpdateContinuousBackups", e)),
            }
        }
    }

    /// Whether point-in-time recovery is on ([`Recovery::Unsupported`] on an engine without
    /// the continuous-backups API).
    pub async fn point_in_time_recovery(&self) -> Result<Recovery> {
        let res = self
            .client()
            .describe_continuous_backups()
            .table_name(self.table())
            .send()
            .await;
        match res {
            Ok(out) => {
                let on = out
                    .continuous_backups_description()
                    .and_then(|d| d.point_in_time_recovery_description())
                    .and_then(|p| p.point_in_time_recovery_status())
                    == Some(&PointInTimeRecoveryStatus::Enabled);
                Ok(if on {
                    Recovery::Enabled
                } else {
                    Recovery::Disabled
                })
            }
            Err(e) if unknown_operation(&e) => Ok(Recovery::Unsupported),
            Err(e) => Err(self.map_sdk_error("DescribeContinuousBackups", e)),
        }
    }

    /// Turns deletion protection on or off (UpdateTable). [`Store::delete_table`] refuses a
    /// protected table; turning protection off is the deliberate step before.
    pub async fn set_deletion_protection(&self, enabled: bool) -> Result<()> {
        let span = op_span!(self, "set_deletion_protection", ddbrel.enabled = enabled);
        traced(span, async {
            self.client()
                .update_table()
                .table_name(self.table())
                .deletion_protection_enabled(enabled)
                .send()
                .await
                .map_err(|e| self.map_sdk_error("UpdateTable", e))?;
            self.wait_active().await.map(|_| ())
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

    /// Deletes the table and everything in it. A missing table is [`Error::TableNotFound`];
    /// a table with deletion protection on is [`Error::DeletionProtected`] (turn it off with
    /// [`Store::set_deletion_protection`] first).
    pub async fn delete_table(&self) -> Result<()> {
        let span = op_span!(self, "delete_table");
        traced(span, async {
            let res = self
                .client()
                .delete_table()
                .table_name(self.table())
                .send()
                .await;
            match res {
                Ok(_) => Ok(()),
                Err(e) if protected(&e) => Err(Error::DeletionProtected {
                    table: self.table().to_string(),
                }),
                Err(e) => Err(self.map_sdk_error("DeleteTable", e)),
            }
        })
        .await
    }
}
