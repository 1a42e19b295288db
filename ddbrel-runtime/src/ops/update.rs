//! Updating a resource (SCHEMA.md §10 "Update"): one UpdateItem conditioned on the version
//! read, or one TransactWriteItems when a unique value changes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tracing::instrument;

use crate::Item;
use crate::codec::{self, n, s};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::marker::marker_item;
use crate::records::resource::{Stored, resource_item, write_token};
use crate::schema::{PK, SK, attr};
use crate::store::{Store, names};
use crate::time;
use crate::tx::{Cancelled, Tx, TxOutcome};
use crate::unique::{self, Marker};

impl Store {
    /// Writes the changes made to `stored.data` (one request), conditioned on the version that
    /// was read and on the resource not being deleted; returns the resource at its new
    /// version. Only the unique constraints whose normalized value changed are written: the old
    /// marker is deleted (conditioned on being held by this resource), the new one put
    /// (conditioned on being free). A stale version is [`Error::Conflict`].
    #[instrument(name = "ddbrel.update", skip_all, fields(urn = %stored.urn, version = stored.meta.version))]
    pub async fn update<E: Entity + Clone>(&self, stored: &Stored<E>) -> Result<Stored<E>> {
        let urn_s = stored.urn.as_str();
        let now = time::now();
        let markers = unique::markers_for(
            &stored.data,
            stored.meta.account.as_ref(),
            stored.meta.parent.as_ref(),
        )?;
        let new_keys: Vec<&str> = markers.iter().map(|m| m.key.as_str()).collect();
        let removed: Vec<&String> = stored
            .meta
            .unique_keys
            .iter()
            .filter(|k| !new_keys.contains(&k.as_str()))
            .collect();
        let added: Vec<&Marker> = markers
            .iter()
            .filter(|m| !stored.meta.unique_keys.contains(&m.key))
            .collect();

        let fields = codec::encode_fields(urn_s, &stored.data)?;
        let mut names: HashMap<String, String> = HashMap::new();
        let mut values: HashMap<String, AttributeValue> = HashMap::new();
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        for (i, (name, value)) in fields.into_iter().enumerate() {
            names.insert(format!("#f{i}"), name);
            values.insert(format!(":f{i}"), value);
            sets.push(format!("#f{i} = :f{i}"));
        }
        // Declared fields now absent (an `Option` set to `None`), and attributes an on-read
        // migration dropped.
        let stale = E::descriptor()
            .fields
            .iter()
            .map(|f| f.to_string())
            .chain(stored.pre_migration.iter().cloned());
        for (i, name) in stale.enumerate() {
            if !names.values().any(|n| *n == name) {
                names.insert(format!("#r{i}"), name);
                removes.push(format!("#r{i}"));
            }
        }
        for (tag, name) in [
            ("#v", attr::VERSION),
            ("#u", attr::UPDATED_AT),
            ("#sv", attr::SCHEMA_VERSION),
            ("#wt", attr::WRITE_TOKEN),
            ("#del", attr::DELETING),
        ] {
            names.insert(tag.to_string(), name.to_string());
        }
        let new_version = stored.meta.version + 1;
        values.insert(":v".into(), n(stored.meta.version));
        values.insert(":nv".into(), n(new_version));
        values.insert(":u".into(), s(time::format(now)));
        values.insert(":sv".into(), n(E::SCHEMA_VERSION));
        let token = write_token();
        values.insert(":wt".into(), s(token.clone()));
        sets.extend([
            "#v = :nv".into(),
            "#u = :u".into(),
            "#sv = :sv".into(),
            "#wt = :wt".into(),
        ]);
        let mut unique_keys: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
        unique_keys.sort();
        if !removed.is_empty() || !added.is_empty() {
            names.insert("#uk".into(), attr::UNIQUE_KEYS.into());
            if unique_keys.is_empty() {
                removes.push("#uk".into());
            } else {
                values.insert(":uk".into(), AttributeValue::Ss(unique_keys.clone()));
                sets.push("#uk = :uk".into());
            }
        }
        let mut expr = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        // Check the size of the item as it will be.
        let mut meta = stored.meta.clone();
        meta.version = new_version;
        meta.updated_at = now;
        meta.schema_version = E::SCHEMA_VERSION;
        meta.unique_keys = unique_keys;
        let mut as_written = resource_item(&stored.urn, &stored.data, &meta)?;
        as_written.insert(attr::WRITE_TOKEN.into(), s(token.clone()));
        codec::check_limits(&as_written)?;
        let condition = "#v = :v AND attribute_not_exists(#del)";
        let updated = Stored {
            urn: stored.urn.clone(),
            data: stored.data.clone(),
            meta,
            pre_migration: Vec::new(),
        };

        if removed.is_empty() && added.is_empty() {
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(urn_s))
                .key(SK, s(urn_s))
                .update_expression(expr)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match res {
                Ok(_) => Ok(updated),
                Err(e) => match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                    ) => {
                        // An earlier attempt of this very update landed (the SDK retried
                        // after a lost response): the item holds the token only we wrote.
                        if c.item().is_some_and(|old| is_our_update(old, new_version, &token)) {
                            return Ok(updated);
                        }
                        Err(write_failure(urn_s, stored.meta.version, c.item()))
                    }
                    _ => Err(self.map_sdk_error("UpdateItem", e)),
                },
            };
        }

        let mut tx = Tx::new();
        tx.update(
            self,
            urn_s,
            urn_s,
            expr,
            Some(condition),
            Some(names),
            Some(values),
        )?;
        // A new marker must not appear beneath a cascade that has already collected markers.
        for ancestor in &stored.meta.ancestors {
            tx.check(
                self,
                ancestor.as_str(),
                ancestor.as_str(),
                "attribute_exists(PK) AND attribute_not_exists(#del)",
                Some(self::names(&[("#del", attr::DELETING)])),
                None,
            )?;
        }
        for key in &removed {
            tx.delete(
                self,
                key,
                key,
                Some("attribute_not_exists(PK) OR #o = :me"),
                Some(self::names(&[("#o", attr::OWNER_URN)])),
                Some(HashMap::from([(":me".to_string(), s(urn_s))])),
            )?;
        }
        for m in &added {
            tx.put(
                self,
                marker_item::<E>(m, urn_s, &now),
                Some("attribute_not_exists(PK)"),
                None,
                None,
            )?;
        }
        match tx.send(self, urn_s).await? {
            TxOutcome::Applied => Ok(updated),
            TxOutcome::Cancelled(reasons) => {
                if let Some(r) = reasons.first().filter(|r| r.condition_failed()) {
                    return Err(write_failure(urn_s, stored.meta.version, r.item.as_ref()));
                }
                for (i, ancestor) in stored.meta.ancestors.iter().enumerate() {
                    if reasons.get(1 + i).is_some_and(Cancelled::condition_failed) {
                        return Err(Error::BeingDeleted {
                            urn: ancestor.to_string(),
                        });
                    }
                }
                let first_added = 1 + stored.meta.ancestors.len() + removed.len();
                for (i, m) in added.iter().enumerate() {
                    if let Some(r) = reasons
                        .get(first_added + i)
                        .filter(|r| r.condition_failed())
                    {
                        return Err(unique_violation::<E>(m, r));
                    }
                }
                Err(Error::Conflict {
                    urn: urn_s.to_string(),
                    expected: stored.meta.version,
                    current: None,
                })
            }
        }
    }
}
/// Whether an item is the result of our own update: our version and the token only this
/// update wrote. Time cannot decide it: two writers from the same read can write in the same
/// millisecond, and the loser would take the winner's write for its own (a lost update).
fn is_our_update(item: &Item, new_version: u64, token: &str) -> bool {
    codec::get_u64(item, attr::VERSION).ok() == Some(new_version)
        && codec::get_s(item, attr::WRITE_TOKEN).ok() == Some(token)
}

/// The error for a failed conditional write of a resource, from the item as it was.
pub(crate) fn write_failure(urn: &str, expected: u64, old: Option<&Item>) -> Error {
    let Some(old) = old else {
        return Error::NotFound {
            urn: urn.to_string(),
        };
    };
    if old.contains_key(attr::DELETING) {
        return Error::BeingDeleted {
            urn: urn.to_string(),
        };
    }
    Error::Conflict {
        urn: urn.to_string(),
        expected,
        current: codec::get_u64(old, attr::VERSION).ok(),
    }
}

pub(crate) fn unique_violation<E: Entity>(m: &Marker, r: &Cancelled) -> Error {
    Error::UniqueViolation {
        resource_type: E::RESOURCE_TYPE.to_string(),
        constraint: m.constraint.to_string(),
        value: m.value.clone(),
        holder: r
            .item
            .as_ref()
            .and_then(|i| codec::get_s(i, attr::OWNER_URN).ok())
            .map(str::to_string),
    }
}
