//! Field-level updates (SCHEMA.md §10 "Patch"): set, remove or add to named fields, add or
//! remove elements of a [`StringSet`](crate::StringSet) field, without
//! reading or rewriting the rest of the item: one UpdateItem. A patch that changes a field of
//! a unique constraint, or meets an item written by an older schema version, reads the
//! resource first and writes it as [`Store::update`] does (markers moved in the same
//! transaction), re-reading on a conflict.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::entity::{Entity, Field, Numeric};
use crate::error::{Error, Result};
use crate::records::attrs::{self, n, s};
use crate::records::resource::{Stored, write_token};
use crate::schema::attr;
use crate::string_set::StringSet;
use crate::time;
use crate::urn::Urn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::write::{Sent, Write, writes};

use super::upsert::UpdateWithError;

/// One change to one field.
#[derive(Debug, Clone)]
enum Change {
    Set(AttributeValue, serde_json::Value),
    Remove,
    Add(AttributeValue, serde_json::Value),
    /// Elements added to a string set (`ADD`).
    AddElements(Vec<String>),
    /// Elements removed from a string set (`DELETE`).
    RemoveElements(Vec<String>),
}

/// A field-level update in the making: see [`Store::patch`].
#[derive(Debug)]
#[must_use = "a patch does nothing until it is sent"]
pub struct Patch<'s, E> {
    store: &'s Store,
    urn: Urn<E>,
    changes: Vec<(&'static str, Change)>,
    unique: bool,
    version: Option<u64>,
    error: Option<Error>,
}

impl Store {
    /// Starts a field-level update of the resource `urn`: name fields through the derive's
    /// typed paths (`Job::fields().name`), then [`Patch::send`]. By default it is conditioned
    /// on the resource existing and not being deleted; [`Patch::expect_version`] adds
    /// optimistic locking. Commutative changes ([`Patch::add`]) need no version: two writers
    /// adding to one counter both count. `_version` and `_updatedAt` move as for any change.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, ddbrel_runtime::Entity)]
    /// # #[urn(type = "Docs.Doc")]
    /// # pub struct Doc { title: String, views: u64, note: Option<String> }
    /// # async fn f(store: &ddbrel_runtime::Store, urn: &ddbrel_runtime::urn::Urn<Doc>) -> ddbrel_runtime::Result<()> {
    /// let doc = store
    ///     .patch(urn)
    ///     .set(Doc::fields().title, "Renamed".to_string())
    ///     .add(Doc::fields().views, 1)
    ///     .remove(Doc::fields().note)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn patch<E: Entity>(&self, urn: &Urn<E>) -> Patch<'_, E> {
        Patch {
            store: self,
            urn: urn.clone(),
            changes: Vec::new(),
            unique: false,
            version: None,
            error: None,
        }
    }
}

impl<'s, E: Entity + Clone> Patch<'s, E> {
    fn change(mut self, attribute: &'static str, unique: bool, change: Change) -> Self {
        if self.changes.iter().any(|(a, _)| *a == attribute) {
            self.error.get_or_insert(Error::InvalidArgument {
                what: format!("patch of {}", self.urn),
                reason: format!("field {attribute:?} is changed twice"),
            });
        }
        self.unique |= unique;
        self.changes.push((attribute, change));
        self
    }

    fn encode<T: serde::Serialize>(
        &mut self,
        attribute: &str,
        value: &T,
    ) -> Option<(AttributeValue, serde_json::Value)> {
        let encoded = serde_dynamo::to_attribute_value(value)
            .map_err(|e| e.to_string())
            .and_then(|v| Ok((v, serde_json::to_value(value).map_err(|e| e.to_string())?)));
        match encoded {
            Ok(v) => Some(v),
            Err(reason) => {
                self.error.get_or_insert(Error::Encode {
                    what: format!("{}.{attribute}", self.urn),
                    reason,
                });
                None
            }
        }
    }

    /// Sets the field to `value`. A value that encodes as null (`None`, an empty
    /// [`StringSet`]) removes the attribute, as a whole write that skips it leaves it absent.
    pub fn set<T: serde::Serialize>(mut self, field: Field<E, T>, value: T) -> Self {
        match self.encode(field.attribute(), &value) {
            Some((AttributeValue::Null(_), _)) => {
                self.change(field.attribute(), field.is_unique(), Change::Remove)
            }
            Some((v, j)) => self.change(field.attribute(), field.is_unique(), Change::Set(v, j)),
            None => self,
        }
    }

    /// Adds `values` to a [`StringSet`] field, atomically and without reading it (`ADD`):
    /// concurrent writers adding elements all keep theirs. Adding none changes nothing.
    pub fn add_elements<S: Into<String>>(
        self,
        field: Field<E, StringSet>,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.elements(field, values, Change::AddElements)
    }

    /// Removes `values` from a [`StringSet`] field, atomically and without reading it
    /// (`DELETE`; removing the last element leaves the field empty). Removing none changes
    /// nothing.
    pub fn remove_elements<S: Into<String>>(
        self,
        field: Field<E, StringSet>,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.elements(field, values, Change::RemoveElements)
    }

    /// A change of some elements of a set field; none is no change.
    fn elements<S: Into<String>>(
        self,
        field: Field<E, StringSet>,
        values: impl IntoIterator<Item = S>,
        change: fn(Vec<String>) -> Change,
    ) -> Self {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return self;
        }
        self.change(field.attribute(), false, change(values))
    }

    /// Removes an optional field (it reads back as `None`).
    pub fn remove<T>(self, field: Field<E, Option<T>>) -> Self {
        self.change(field.attribute(), field.is_unique(), Change::Remove)
    }

    /// Adds `by` to a number field, atomically and without reading it (`ADD`; a missing
    /// field counts as 0).
    pub fn add<N: Numeric>(mut self, field: Field<E, N>, by: N) -> Self {
        match self.encode(field.attribute(), &by) {
            Some((v, j)) => self.change(field.attribute(), field.is_unique(), Change::Add(v, j)),
            None => self,
        }
    }

    /// Applies the patch only if the resource is at version `version` (optimistic locking);
    /// otherwise [`Error::Conflict`].
    pub fn expect_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// Sends the patch and returns the resource as it is afterwards. One UpdateItem, unless a
    /// field of a unique constraint changes or the item was written by an older schema
    /// version: then the resource is read first and written as [`Store::update`] writes it.
    pub async fn send(self) -> Result<Stored<E>> {
        let span = op_span!(self.store, "patch", ddbrel.urn = %self.urn);
        traced(span, async {
            if let Some(e) = self.error {
                return Err(e);
            }
            if self.changes.is_empty() {
                return self.store.get(&self.urn).await;
            }
            if self.unique {
                return self.read_first().await;
            }
            let token = write_token();
            let write = self.write(&token);
            match write.send(self.store).await? {
                Sent::Applied(Some(item)) => Stored::from_item(item),
                Sent::Applied(None) => self.store.get(&self.urn).await,
                // A retry of this very request after its response was lost: it landed.
                Sent::ConditionFailed(Some(old))
                    if attrs::get_s(&old, attr::WRITE_TOKEN).ok() == Some(token.as_str()) =>
                {
                    Stored::from_item(old)
                }
                Sent::ConditionFailed(Some(old))
                    if attrs::get_u64(&old, attr::SCHEMA_VERSION)
                        .is_ok_and(|v| v < u64::from(E::SCHEMA_VERSION)) =>
                {
                    self.read_first().await
                }
                Sent::ConditionFailed(old) => Err(self.failure(old.as_ref())),
            }
        })
        .await
    }

    /// The UpdateItem: the changes, `_version` + 1, `_updatedAt`, `_writeToken`; conditioned
    /// on the resource existing at this schema version, not fenced, not already carrying
    /// this write's token, and at the expected version if one was given.
    fn write(&self, token: &str) -> Write {
        let u = self.urn.as_str();
        let mut expr = Expr::default();
        let (mut sets, mut removes, mut adds, mut deletes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, (attribute, change)) in self.changes.iter().enumerate() {
            let (name, value) = (format!("#p{i}"), format!(":p{i}"));
            expr = expr.name(&name, attribute);
            match change {
                Change::Set(v, _) => {
                    expr = expr.value(&value, v.clone());
                    sets.push(format!("{name} = {value}"));
                }
                Change::Remove => removes.push(name),
                Change::Add(v, _) => {
                    expr = expr.value(&value, v.clone());
                    adds.push(format!("{name} {value}"));
                }
                Change::AddElements(values) => {
                    expr = expr.value(&value, AttributeValue::Ss(values.clone()));
                    adds.push(format!("{name} {value}"));
                }
                Change::RemoveElements(values) => {
                    expr = expr.value(&value, AttributeValue::Ss(values.clone()));
                    deletes.push(format!("{name} {value}"));
                }
            }
        }
        expr = expr
            .name("#v", attr::VERSION)
            .name("#u", attr::UPDATED_AT)
            .name("#wt", attr::WRITE_TOKEN)
            .value(":one", n(1u64))
            .value(":u", s(time::format(time::now())))
            .value(":wt", s(token.to_string()));
        sets.extend(["#u = :u".to_string(), "#wt = :wt".to_string()]);
        adds.push("#v :one".into());
        let mut text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            text.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        text.push_str(&format!(" ADD {}", adds.join(", ")));
        if !deletes.is_empty() {
            text.push_str(&format!(" DELETE {}", deletes.join(", ")));
        }
        let mut condition = writes::live()
            .and(
                Expr::new("#sv = :sv")
                    .name("#sv", attr::SCHEMA_VERSION)
                    .value(":sv", n(u64::from(E::SCHEMA_VERSION))),
            )
            .and(
                // A missing attribute compares false even with `<>`.
                Expr::new("attribute_not_exists(#wt) OR #wt <> :wt")
                    .name("#wt", attr::WRITE_TOKEN)
                    .value(":wt", s(token.to_string())),
            );
        if let Some(v) = self.version {
            condition = condition.and(
                Expr::new("#v = :ev")
                    .name("#v", attr::VERSION)
                    .value(":ev", n(v)),
            );
        }
        Write::update(u, u, expr.with_text(text))
            .when(condition)
            .returning_new()
    }

    /// The error for a refused patch, from the item as it was.
    fn failure(&self, old: Option<&crate::Item>) -> Error {
        failure(self.urn.as_str(), self.version, E::SCHEMA_VERSION, old)
    }

    /// The patch as one step of a composed transaction: its UpdateItem, and what the step
    /// needs to name a failure. A patch of a unique field reads first, so it cannot join.
    pub(crate) fn into_step(self) -> Result<(Write, PatchBlame)> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.unique {
            return Err(Error::InvalidArgument {
                what: format!("patch of {} in a transaction", self.urn),
                reason: "it changes a field of a unique constraint, which is read first: \
                         read the resource and add an update step instead"
                    .into(),
            });
        }
        if self.changes.is_empty() {
            return Err(Error::InvalidArgument {
                what: format!("patch of {} in a transaction", self.urn),
                reason: "it changes nothing".into(),
            });
        }
        let write = self.write(&write_token());
        let blame = PatchBlame {
            urn: self.urn.to_string(),
            expected: self.version,
            schema: E::SCHEMA_VERSION,
        };
        Ok((write, blame))
    }
}

/// What a patch step needs to name the failure of its condition.
#[derive(Debug, Clone)]
pub(crate) struct PatchBlame {
    pub(crate) urn: String,
    pub(crate) expected: Option<u64>,
    pub(crate) schema: u32,
}

impl PatchBlame {
    /// Whether the item as it was (`old`) breaks the patch's condition.
    pub(crate) fn breaks(&self, old: Option<&crate::Item>) -> bool {
        let Some(old) = old else { return true };
        old.contains_key(attr::DELETING)
            || attrs::get_u64(old, attr::SCHEMA_VERSION).ok() != Some(u64::from(self.schema))
            || self
                .expected
                .is_some_and(|v| attrs::get_u64(old, attr::VERSION).ok() != Some(v))
    }

    /// The error, from the item as it was.
    pub(crate) fn error(&self, old: Option<&crate::Item>) -> Error {
        failure(&self.urn, self.expected, self.schema, old)
    }
}

/// The error for a patch of `urn` refused on the item as it was: gone, fenced, written by
/// another schema version, or at another version than `expected`.
fn failure(urn: &str, expected: Option<u64>, schema: u32, old: Option<&crate::Item>) -> Error {
    let urn = urn.to_string();
    let Some(old) = old else {
        return Error::NotFound { urn };
    };
    if old.contains_key(attr::DELETING) {
        return Error::BeingDeleted { urn };
    }
    let current = attrs::get_u64(old, attr::VERSION).ok();
    match attrs::get_u64(old, attr::SCHEMA_VERSION) {
        Ok(found) if found > u64::from(schema) => {
            return Error::SchemaTooNew {
                key: urn,
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: schema,
            };
        }
        Ok(found) if found < u64::from(schema) => {
            return Error::ChangedMeanwhile {
                urn,
                what: format!(
                    "the item is at schema version {found}: a patch in a transaction cannot migrate it; patch it alone, or migrate the table first"
                ),
            };
        }
        _ => {}
    }
    Error::Conflict {
        urn,
        expected: expected.unwrap_or_default(),
        current,
    }
}

impl<'s, E: Entity + Clone> Patch<'s, E> {
    /// The patch as a read-modify-write: the changes applied to the data read (through its
    /// serde form, where the field names are the stored attribute names) and written by
    /// [`Store::update`], which moves the markers; re-read on a conflict unless a version is
    /// expected.
    async fn read_first(self) -> Result<Stored<E>> {
        let Patch {
            store,
            urn,
            changes,
            version,
            ..
        } = self;
        // With a version expected: read once, refuse another version, write conditioned on
        // the one read.
        if let Some(v) = version {
            let mut stored = store.get(&urn).await?;
            if stored.meta.version != v {
                return Err(Error::Conflict {
                    urn: urn.to_string(),
                    expected: v,
                    current: Some(stored.meta.version),
                });
            }
            apply(&urn, &mut stored.data, &changes)?;
            return store.update(&stored).await;
        }
        let result = store
            .update_with(&urn, |data: &mut E| apply(&urn, data, &changes))
            .await;
        match result {
            Ok(s) => Ok(s),
            Err(UpdateWithError::Store(e) | UpdateWithError::Aborted(e)) => Err(e),
        }
    }
}

/// Applies the changes to `data` through its serde form.
fn apply<E: Entity>(urn: &Urn<E>, data: &mut E, changes: &[(&'static str, Change)]) -> Result<()> {
    let encode_err = |reason: String| Error::Encode {
        what: urn.to_string(),
        reason,
    };
    let mut value = serde_json::to_value(&*data).map_err(|e| encode_err(e.to_string()))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(encode_err("the entity does not serialize as a map".into()));
    };
    for (attribute, change) in changes {
        match change {
            Change::Set(_, j) => {
                obj.insert(attribute.to_string(), j.clone());
            }
            Change::Remove => {
                obj.remove(*attribute);
            }
            Change::Add(_, j) => {
                let now = obj.get(*attribute).cloned().unwrap_or(serde_json::json!(0));
                let overflow = || encode_err(format!("adding to {attribute} overflows"));
                let sum = match (now.as_i64(), j.as_i64(), now.as_u64(), j.as_u64()) {
                    (Some(a), Some(b), _, _) => {
                        serde_json::json!(a.checked_add(b).ok_or_else(overflow)?)
                    }
                    (_, _, Some(a), Some(b)) => {
                        serde_json::json!(a.checked_add(b).ok_or_else(overflow)?)
                    }
                    _ => serde_json::json!(now.as_f64().unwrap_or(0.0) + j.as_f64().unwrap_or(0.0)),
                };
                obj.insert(attribute.to_string(), sum);
            }
            Change::AddElements(values) | Change::RemoveElements(values) => {
                let mut set: StringSet = match obj.get(*attribute) {
                    Some(now) => serde_json::from_value(now.clone())
                        .map_err(|e| encode_err(format!("{attribute}: {e}")))?,
                    None => StringSet::new(),
                };
                for v in values {
                    if matches!(change, Change::AddElements(_)) {
                        set.insert(v.clone());
                    } else {
                        set.remove(v);
                    }
                }
                obj.insert(
                    attribute.to_string(),
                    serde_json::to_value(&set).map_err(|e| encode_err(e.to_string()))?,
                );
            }
        }
    }
    *data = serde_json::from_value(value).map_err(|e| encode_err(e.to_string()))?;
    Ok(())
}
