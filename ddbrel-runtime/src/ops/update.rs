//! Updating a resource (SCHEMA.md §10 "Update"): one UpdateItem conditioned on the version
//! read, or one TransactWriteItems when a unique value changes.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::attrs;
use crate::records::attrs::{n, s};
use crate::records::marker::marker_item;
use crate::records::marker::{Marker, markers_for};
use crate::records::resource;
use crate::records::resource::ResourceMeta;
use crate::records::resource::{Stored, resource_item, write_token};
use crate::records::size;
use crate::schema::attr;
use crate::time;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::tx::{Cancelled, Tx, TxOutcome};
use crate::wire::write::{Sent, Write, writes};

/// Which markers an update moves: the uniqueness planner (SCHEMA.md §6). Only constraints
/// whose normalized value changed are touched.
struct MarkerPlan<'a> {
    /// Keys held today that the new values no longer need.
    removed: Vec<&'a String>,
    /// Markers the new values need that are not held yet.
    added: Vec<&'a Marker>,
    /// Every key held after the update, sorted.
    keys: Vec<String>,
}

impl<'a> MarkerPlan<'a> {
    fn new(held: &'a [String], markers: &'a [Marker]) -> MarkerPlan<'a> {
        let removed = held
            .iter()
            .filter(|k| !markers.iter().any(|m| &m.key == *k))
            .collect();
        let added = markers.iter().filter(|m| !held.contains(&m.key)).collect();
        let mut keys: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
        keys.sort();
        MarkerPlan {
            removed,
            added,
            keys,
        }
    }

    fn moves_markers(&self) -> bool {
        !self.removed.is_empty() || !self.added.is_empty()
    }
}

/// The update expression: every field set, declared fields now absent (an `Option` set to
/// `None`) and attributes an on-read migration dropped removed, the version, time, schema
/// version and write token set, and `_uniqueKeys` when markers move.
fn update_expr<E: Entity>(
    stored: &Stored<E>,
    as_written: &Item,
    meta: &ResourceMeta,
    plan: &MarkerPlan<'_>,
    token: &str,
) -> Result<Expr> {
    // The entity's fields, as encoded once for the item whose size was checked.
    let fields = as_written
        .iter()
        .filter(|(name, _)| !resource::is_reserved(name))
        .map(|(name, value)| (name.clone(), value.clone()));
    let mut sets = Vec::new();
    let mut removes = Vec::new();
    let mut expr = Expr::default();
    let mut written: Vec<String> = Vec::new();
    for (i, (name, value)) in fields.into_iter().enumerate() {
        expr = expr
            .name(&format!("#f{i}"), &name)
            .value(&format!(":f{i}"), value);
        sets.push(format!("#f{i} = :f{i}"));
        written.push(name);
    }
    let stale = E::descriptor()
        .fields
        .iter()
        .map(|f| f.to_string())
        .chain(stored.pre_migration.iter().cloned());
    for (i, name) in stale.enumerate() {
        if !written.contains(&name) {
            expr = expr.name(&format!("#r{i}"), &name);
            removes.push(format!("#r{i}"));
        }
    }
    expr = expr
        .name("#v", attr::VERSION)
        .name("#u", attr::UPDATED_AT)
        .name("#sv", attr::SCHEMA_VERSION)
        .name("#wt", attr::WRITE_TOKEN)
        .value(":nv", n(meta.version))
        .value(":u", s(time::format(meta.updated_at)))
        .value(":sv", n(meta.schema_version))
        .value(":wt", s(token));
    sets.extend(["#v = :nv", "#u = :u", "#sv = :sv", "#wt = :wt"].map(String::from));
    if plan.moves_markers() {
        expr = expr.name("#uk", attr::UNIQUE_KEYS);
        if plan.keys.is_empty() {
            removes.push("#uk".into());
        } else {
            expr = expr.value(":uk", AttributeValue::Ss(plan.keys.clone()));
            sets.push("#uk = :uk".into());
        }
    }
    let mut text = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        text.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    Ok(expr.with_text(text))
}

/// The write of an update of `stored` (its data as changed), conditioned on the version and
/// incarnation read and no fence, with the resource's new meta and the write's token.
fn resource_update<E: Entity>(
    stored: &Stored<E>,
    plan: &MarkerPlan<'_>,
) -> Result<(Write, ResourceMeta, String)> {
    let mut meta = stored.meta.clone();
    meta.version = stored.meta.version + 1;
    meta.updated_at = time::now();
    meta.schema_version = E::SCHEMA_VERSION;
    meta.unique_keys = plan.keys.clone();
    let token = write_token();
    // Check the size of the item as it will be.
    let mut as_written = resource_item(&stored.urn, &stored.data, &meta)?;
    as_written.insert(attr::WRITE_TOKEN.into(), s(token.clone()));
    size::check_limits(&as_written)?;
    let urn = stored.urn.as_str();
    let write = Write::update(
        urn,
        urn,
        update_expr(stored, &as_written, &meta, plan, &token)?,
    )
    .when(
        writes::at_version(stored.meta.version)
            .and(writes::incarnation(stored.meta.created_at))
            .and(writes::not_fenced()),
    );
    Ok((write, meta, token))
}

/// An update as writes, for a transaction that carries other steps too: the resource's
/// update, then the old markers' deletes (if still its own), then the new markers' puts.
pub(crate) struct PlannedUpdate {
    /// The resource's update (conditioned as [`Store::update`]'s).
    pub(crate) write: Write,
    /// The marker keys it gives up.
    pub(crate) removed: Vec<String>,
    /// The markers it takes.
    pub(crate) added: Vec<Marker>,
    /// The resource's meta once written.
    pub(crate) meta: ResourceMeta,
}

/// Plans the update of `stored` (its data as changed) as [`Store::update`] writes it.
pub(crate) fn plan_update<E: Entity>(stored: &Stored<E>) -> Result<PlannedUpdate> {
    let markers = markers_for(
        &stored.data,
        stored.meta.account.as_ref(),
        stored.meta.parent.as_ref(),
    )?;
    let plan = MarkerPlan::new(&stored.meta.unique_keys, &markers);
    let (write, meta, _) = resource_update(stored, &plan)?;
    Ok(PlannedUpdate {
        write,
        removed: plan.removed.into_iter().cloned().collect(),
        added: plan.added.into_iter().cloned().collect(),
        meta,
    })
}

impl Store {
    /// Writes the changes made to `stored.data` (one request), conditioned on the version that
    /// was read and on the resource not being deleted; returns the resource at its new
    /// version. Only the unique constraints whose normalized value changed are written: the old
    /// marker is deleted (conditioned on being held by this resource), the new one put
    /// (conditioned on being free). A stale version is [`Error::Conflict`].
    pub async fn update<E: Entity + Clone>(&self, stored: &Stored<E>) -> Result<Stored<E>> {
        let span = op_span!(self, "update", ddbrel.urn = %stored.urn, ddbrel.version = stored.meta.version);
        traced(span, async {
            let markers = markers_for(
                &stored.data,
                stored.meta.account.as_ref(),
                stored.meta.parent.as_ref(),
            )?;
            let plan = MarkerPlan::new(&stored.meta.unique_keys, &markers);
            let (write, meta, token) = resource_update(stored, &plan)?;
            let urn = stored.urn.as_str();
            if plan.moves_markers() {
                self.update_with_markers::<E>(stored, write, &plan, &meta)
                    .await?;
            } else {
                match write.send(self).await? {
                    Sent::Applied(_) => {}
                    // An earlier attempt of this very update landed (the SDK retried after a lost
                    // response): the item holds the token only we wrote.
                    Sent::ConditionFailed(Some(old))
                        if is_our_update(&old, meta.version, &token) => {}
                    Sent::ConditionFailed(old) => {
                        return Err(write_failure(urn, &stored.meta, old.as_ref()));
                    }
                }
            }
            Ok(Stored {
                urn: stored.urn.clone(),
                data: stored.data.clone(),
                meta,
                pre_migration: Vec::new(),
            })
        })
        .await
    }

    /// The update and its marker moves in one TransactWriteItems: the resource (conditioned
    /// on the version read and no fence), the old markers deleted if still ours, the new ones
    /// put if free. No ancestor is checked (SCHEMA.md §7): a cascade deletes the resource
    /// conditioned on the version it read, or fences it first, so a moved marker is either
    /// seen by the cascade or refused.
    async fn update_with_markers<E: Entity>(
        &self,
        stored: &Stored<E>,
        write: Write,
        plan: &MarkerPlan<'_>,
        meta: &ResourceMeta,
    ) -> Result<()> {
        let urn = stored.urn.as_str();
        let mut tx = Tx::new();
        tx.push(write);
        for key in &plan.removed {
            tx.push(writes::delete_marker_if_owned(key, urn));
        }
        for m in &plan.added {
            tx.push(writes::put_marker(marker_item::<E>(
                m,
                urn,
                &meta.updated_at,
            )));
        }
        let reasons = match tx.send(self, urn).await? {
            TxOutcome::Applied => return Ok(()),
            TxOutcome::Cancelled(reasons) => reasons,
        };
        if let Some(r) = reasons.first().filter(|r| r.condition_failed()) {
            return Err(write_failure(urn, &stored.meta, r.item.as_ref()));
        }
        let first_added = 1 + plan.removed.len();
        for (i, m) in plan.added.iter().enumerate() {
            if let Some(r) = reasons
                .get(first_added + i)
                .filter(|r| r.condition_failed())
            {
                return Err(unique_violation::<E>(m, r));
            }
        }
        // A marker we were to delete is held by another resource: the table moved under us.
        Err(Error::ChangedMeanwhile {
            urn: urn.to_string(),
            what: "moving its unique values".into(),
        })
    }
}

/// Whether an item is the result of our own update: our version and the token only this
/// update wrote. Time cannot decide it: two writers from the same read can write in the same
/// millisecond, and the loser would take the winner's write for its own (a lost update).
fn is_our_update(item: &Item, new_version: u64, token: &str) -> bool {
    attrs::get_u64(item, attr::VERSION).ok() == Some(new_version)
        && attrs::get_s(item, attr::WRITE_TOKEN).ok() == Some(token)
}

/// The error for a failed conditional write of a resource read as `read`, from the item as
/// it was.
pub(crate) fn write_failure(urn: &str, read: &ResourceMeta, old: Option<&Item>) -> Error {
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
    if attrs::get_s(old, attr::CREATED_AT).ok() != Some(time::format(read.created_at).as_str()) {
        return Error::ChangedMeanwhile {
            urn: urn.to_string(),
            what: "it was deleted and created again since it was read".into(),
        };
    }
    Error::Conflict {
        urn: urn.to_string(),
        expected: read.version,
        current: attrs::get_u64(old, attr::VERSION).ok(),
    }
}

pub(crate) fn unique_violation<E: Entity>(m: &Marker, r: &Cancelled) -> Error {
    Error::UniqueViolation {
        resource_type: E::RESOURCE_TYPE.to_string(),
        constraint: m.constraint.to_string(),
        value: m.value.clone(),
        written: m.written.clone(),
        holder: r
            .item
            .as_ref()
            .and_then(|i| attrs::get_s(i, attr::OWNER_URN).ok())
            .map(str::to_string),
    }
}
