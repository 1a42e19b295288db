//! The store: a DynamoDB client and a table name, and the resource operations (create, get,
//! update, delete). Relationship, uniqueness, query and cascade operations live in their own
//! modules as further `impl Store` blocks.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use tracing::instrument;

use crate::Item;
use crate::codec::{self, ResourceMeta, n, s};
use crate::entity::{Child, Entity, Root};
use crate::error::{Error, Result};
use crate::schema::{CHILD_PREFIX, PARENT_PREFIX, PK, RecordType, SK, attr};
use crate::time;
use crate::tx::{Cancelled, RetryPolicy, Tx, TxOutcome};
use crate::unique::{self, Marker};
use crate::urn::{AnyUrn, Urn};

/// The table name used when none is given.
pub const DEFAULT_TABLE: &str = "ddbrel";

/// A DynamoDB client and the table ddbrel stores in. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    retry: RetryPolicy,
}

impl Store {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
            retry: RetryPolicy::default(),
        }
    }

    /// A store from the environment: aws-config's standard chain (region, credentials,
    /// profile), with `DDBREL_ENDPOINT` overriding the endpoint (static local credentials are
    /// used when no other credentials are found) and `DDBREL_TABLE` the table (default
    /// `ddbrel`).
    pub async fn from_env() -> Result<Self> {
        let table = std::env::var("DDBREL_TABLE").unwrap_or_else(|_| DEFAULT_TABLE.to_string());
        if let Ok(endpoint) = std::env::var("DDBREL_ENDPOINT") {
            return Ok(Store::new(
                Client::from_conf(local_config_builder(&endpoint).build()),
                table,
            ));
        }
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Ok(Store::new(Client::new(&config), table))
    }

    /// A store on a DynamoDB-compatible endpoint with static local credentials.
    pub fn local(endpoint: &str, table: impl Into<String>) -> Self {
        Store::new(
            Client::from_conf(local_config_builder(endpoint).build()),
            table,
        )
    }

    /// Replaces the retry policy for transaction conflicts and unprocessed batch items.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The SDK client: the escape hatch for anything ddbrel does not do.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates a root resource with a new URN. One request: a PutItem, or a TransactWriteItems
    /// when the entity holds unique values. Fails with [`Error::AlreadyExists`] if the URN
    /// exists and [`Error::UniqueViolation`] if a unique value is held.
    pub async fn create<E: Root>(&self, data: E) -> Result<Stored<E>> {
        self.create_with_urn(Urn::new(), data).await
    }

    /// Creates a root resource with the given URN.
    #[instrument(name = "ddbrel.create", skip_all, fields(urn = %urn))]
    pub async fn create_with_urn<E: Root>(&self, urn: Urn<E>, data: E) -> Result<Stored<E>> {
        // An account-scoped root is its own account.
        let account = E::ACCOUNT_SCOPED.then(|| urn.as_any().clone());
        self.insert(urn, data, account, None, Vec::new()).await
    }

    /// Creates a child resource under `parent` with a new URN, in one TransactWriteItems: the
    /// child, its ParentChildRelationship, a check that the parent exists, is of the declared
    /// type and is not being deleted (nor any ancestor), the parent's child count, and the
    /// child's uniqueness markers. Fails with [`Error::ParentMissing`] or
    /// [`Error::BeingDeleted`].
    pub async fn create_child<E: Child>(
        &self,
        parent: &Stored<E::Parent>,
        data: E,
    ) -> Result<Stored<E>> {
        self.create_child_with_urn(parent, Urn::new(), data).await
    }

    /// Creates a child resource with the given URN.
    #[instrument(name = "ddbrel.create_child", skip_all, fields(urn = %urn, parent = %parent.urn))]
    pub async fn create_child_with_urn<E: Child>(
        &self,
        parent: &Stored<E::Parent>,
        urn: Urn<E>,
        data: E,
    ) -> Result<Stored<E>> {
        let account = if E::ACCOUNT_SCOPED {
            Some(
                parent
                    .meta
                    .account
                    .clone()
                    .unwrap_or_else(|| parent.urn.as_any().clone()),
            )
        } else {
            None
        };
        let mut ancestors = parent.meta.ancestors.clone();
        ancestors.push(parent.urn.as_any().clone());
        self.insert(
            urn,
            data,
            account,
            Some(parent.urn.as_any().clone()),
            ancestors,
        )
        .await
    }

    /// Creates a child under the parent with this URN: reads the parent first (2 requests).
    pub async fn create_child_of<E: Child>(
        &self,
        parent: &Urn<E::Parent>,
        data: E,
    ) -> Result<Stored<E>> {
        let parent = self.get(parent).await.map_err(|e| match e {
            Error::NotFound { urn } => Error::ParentMissing { parent: urn },
            e => e,
        })?;
        self.create_child(&parent, data).await
    }

    async fn insert<E: Entity>(
        &self,
        urn: Urn<E>,
        data: E,
        account: Option<AnyUrn>,
        parent: Option<AnyUrn>,
        ancestors: Vec<AnyUrn>,
    ) -> Result<Stored<E>> {
        let now = time::now();
        let markers = unique::markers_for(&data, account.as_ref(), parent.as_ref())?;
        let meta = ResourceMeta {
            version: 1,
            schema_version: E::SCHEMA_VERSION,
            created_at: now,
            updated_at: now,
            account,
            parent,
            ancestors,
            unique_keys: {
                let mut v: Vec<String> = markers.iter().map(|m| m.key.clone()).collect();
                v.sort();
                v
            },
            member_of: Vec::new(),
            conveying_collections: Vec::new(),
            child_count: 0,
            member_count: 0,
            deleting: None,
        };
        let mut item = resource_item(&urn, &data, &meta)?;
        // Only this create writes this token: an earlier attempt of it that landed is
        // recognized by it, never by time (a concurrent writer can share the millisecond).
        item.insert(attr::WRITE_TOKEN.into(), s(write_token()));
        codec::check_limits(&item)?;
        let urn_s = urn.as_str();

        if meta.parent.is_none() && markers.is_empty() {
            // A lone root: one PutItem.
            let sent = item.clone();
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await;
            return match res {
                Ok(_) => Ok(Stored {
                    urn: urn.clone(),
                    data,
                    meta: meta.clone(),
                    pre_migration: Vec::new(),
                }),
                Err(e) => {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception())
                    {
                        // The SDK retries a request whose response was lost; if an earlier
                        // attempt of this very create landed, the item is ours: the same
                        // fields and the `_writeToken` only this create wrote.
                        if let Some(existing) = self.get_item(urn_s, urn_s).await?
                            && same_item(&existing, &sent)
                        {
                            return Ok(Stored {
                                urn: urn.clone(),
                                data,
                                meta: meta.clone(),
                                pre_migration: Vec::new(),
                            });
                        }
                        Err(Error::AlreadyExists {
                            urn: urn_s.to_string(),
                        })
                    } else {
                        Err(self.map_sdk_error("PutItem", e))
                    }
                }
            };
        }

        let mut tx = Tx::new();
        tx.put(self, item, Some("attribute_not_exists(PK)"), None, None)?;
        let mut parent_actions = 0;
        if let Some(parent) = &meta.parent {
            tx.put(
                self,
                parent_child_item(parent, urn.as_any(), &now),
                Some("attribute_not_exists(PK)"),
                None,
                None,
            )?;
            // The parent: exists, is of the declared type, is not fenced; count the child.
            let parent_type = parent.resource_type().to_string();
            tx.update(
                self,
                parent.as_str(),
                parent.as_str(),
                "ADD #cc :one".into(),
                Some("attribute_exists(PK) AND #rt = :pt AND attribute_not_exists(#del)"),
                Some(names(&[
                    ("#cc", attr::CHILD_COUNT),
                    ("#rt", attr::RESOURCE_TYPE),
                    ("#del", attr::DELETING),
                ])),
                Some(HashMap::from([
                    (":one".to_string(), n(1)),
                    (":pt".to_string(), s(parent_type)),
                ])),
            )?;
            parent_actions = 2;
            // Every other ancestor: exists and is not fenced (a cascade above the parent).
            for ancestor in &meta.ancestors[..meta.ancestors.len() - 1] {
                tx.check(
                    self,
                    ancestor.as_str(),
                    ancestor.as_str(),
                    "attribute_exists(PK) AND attribute_not_exists(#del)",
                    Some(names(&[("#del", attr::DELETING)])),
                    None,
                )?;
                parent_actions += 1;
            }
        }
        for m in &markers {
            tx.put(
                self,
                marker_item::<E>(m, urn_s, &now),
                Some("attribute_not_exists(PK)"),
                None,
                None,
            )?;
        }
        match tx.send(self, urn_s).await? {
            TxOutcome::Applied => Ok(Stored {
                urn: urn.clone(),
                data,
                meta: meta.clone(),
                pre_migration: Vec::new(),
            }),
            TxOutcome::Cancelled(reasons) => {
                let first_marker = 1 + parent_actions;
                Err(decode_insert_failure::<E>(
                    &reasons,
                    urn_s,
                    &meta,
                    &markers,
                    first_marker,
                ))
            }
        }
    }

    /// Reads a resource (one strongly consistent GetItem). [`Error::NotFound`] if absent.
    #[instrument(name = "ddbrel.get", skip_all, fields(urn = %urn))]
    pub async fn get<E: Entity>(&self, urn: &Urn<E>) -> Result<Stored<E>> {
        self.try_get(urn).await?.ok_or_else(|| Error::NotFound {
            urn: urn.to_string(),
        })
    }

    /// Reads a resource, `None` if absent.
    pub async fn try_get<E: Entity>(&self, urn: &Urn<E>) -> Result<Option<Stored<E>>> {
        match self.get_item(urn.as_str(), urn.as_str()).await? {
            None => Ok(None),
            Some(item) => Stored::from_item(item).map(Some),
        }
    }

    /// Reads one raw item by key (strongly consistent).
    pub async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.map_sdk_error("GetItem", e))?;
        Ok(out.item)
    }

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

    /// Maps an SDK error: missing table, throttling, anything else as [`Error::Service`].
    pub(crate) fn map_sdk_error<E>(&self, operation: &'static str, e: E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static + ProvideCode,
    {
        match e.code() {
            Some("ResourceNotFoundException") => Error::TableNotFound {
                table: self.table.clone(),
            },
            Some(
                "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded",
            ) => Error::Throttled {
                operation,
                source: Box::new(e),
            },
            _ => Error::service(operation, e),
        }
    }
}

/// The error code of an SDK error, if the service sent one.
pub(crate) trait ProvideCode {
    fn code(&self) -> Option<&str>;
}

impl<E, R> ProvideCode for aws_sdk_dynamodb::error::SdkError<E, R>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    fn code(&self) -> Option<&str> {
        self.as_service_error()
            .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
    }
}

/// Expression attribute names from pairs.
pub(crate) fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether two items are equal, sets compared as sets.
fn same_item(a: &Item, b: &Item) -> bool {
    fn norm(v: &AttributeValue) -> AttributeValue {
        match v {
            AttributeValue::Ss(s) => {
                let mut s = s.clone();
                s.sort();
                AttributeValue::Ss(s)
            }
            other => other.clone(),
        }
    }
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| norm(v) == norm(w)))
}

/// Whether an item is the result of our own update: our version and the token only this
/// update wrote. Time cannot decide it: two writers from the same read can write in the same
/// millisecond, and the loser would take the winner's write for its own (a lost update).
fn is_our_update(item: &Item, new_version: u64, token: &str) -> bool {
    codec::get_u64(item, attr::VERSION).ok() == Some(new_version)
        && codec::get_s(item, attr::WRITE_TOKEN).ok() == Some(token)
}

/// A fresh `_writeToken`: UUIDv7 carries 74 random bits and, within a process, a counter, so
/// no two writes share one.
fn write_token() -> String {
    uuid::Uuid::now_v7().to_string()
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

fn decode_insert_failure<E: Entity>(
    reasons: &[Cancelled],
    urn: &str,
    meta: &ResourceMeta,
    markers: &[Marker],
    first_marker: usize,
) -> Error {
    let failed = |i: usize| reasons.get(i).is_some_and(Cancelled::condition_failed);
    if failed(0) || (meta.parent.is_some() && failed(1)) {
        return Error::AlreadyExists {
            urn: urn.to_string(),
        };
    }
    if let Some(parent) = &meta.parent {
        if failed(2) {
            let old = reasons.get(2).and_then(|r| r.item.as_ref());
            return match old {
                Some(old) if old.contains_key(attr::DELETING) => Error::BeingDeleted {
                    urn: parent.to_string(),
                },
                _ => Error::ParentMissing {
                    parent: parent.to_string(),
                },
            };
        }
        let others = &meta.ancestors[..meta.ancestors.len() - 1];
        for (i, ancestor) in others.iter().enumerate() {
            if failed(3 + i) {
                let old = reasons.get(3 + i).and_then(|r| r.item.as_ref());
                return match old {
                    Some(_) => Error::BeingDeleted {
                        urn: ancestor.to_string(),
                    },
                    None => Error::ParentMissing {
                        parent: ancestor.to_string(),
                    },
                };
            }
        }
    }
    for (i, m) in markers.iter().enumerate() {
        if let Some(r) = reasons
            .get(first_marker + i)
            .filter(|r| r.condition_failed())
        {
            return unique_violation::<E>(m, r);
        }
    }
    Error::Conflict {
        urn: urn.to_string(),
        expected: 0,
        current: None,
    }
}

/// The Resource item for an entity: reserved attributes per SCHEMA.md plus its fields, as the
/// store writes it (for tools that write items themselves, such as imports and benchmarks).
pub fn resource_item<E: Entity>(urn: &Urn<E>, data: &E, meta: &ResourceMeta) -> Result<Item> {
    let mut item = codec::encode_fields(urn.as_str(), data)?;
    let u = urn.as_str();
    item.insert(PK.into(), s(u));
    item.insert(SK.into(), s(u));
    item.insert(attr::TYPE.into(), s(RecordType::Resource.as_str()));
    item.insert(attr::SCHEMA_VERSION.into(), n(meta.schema_version));
    item.insert(attr::CREATED_AT.into(), s(time::format(meta.created_at)));
    item.insert(attr::UPDATED_AT.into(), s(time::format(meta.updated_at)));
    item.insert(attr::RESOURCE_TYPE.into(), s(E::RESOURCE_TYPE));
    item.insert(attr::VERSION.into(), n(meta.version));
    if let Some(a) = &meta.account {
        item.insert(attr::ACCOUNT_URN.into(), s(a.as_str()));
    }
    if let Some(p) = &meta.parent {
        item.insert(attr::PARENT_URN.into(), s(p.as_str()));
        item.insert(
            attr::ANCESTORS.into(),
            AttributeValue::L(meta.ancestors.iter().map(|a| s(a.as_str())).collect()),
        );
    }
    if !meta.unique_keys.is_empty() {
        item.insert(
            attr::UNIQUE_KEYS.into(),
            AttributeValue::Ss(meta.unique_keys.clone()),
        );
    }
    Ok(item)
}

/// A ParentChildRelationship record.
pub(crate) fn parent_child_item(parent: &AnyUrn, child: &AnyUrn, now: &jiff::Timestamp) -> Item {
    HashMap::from([
        (PK.into(), s(parent.as_str())),
        (SK.into(), s(format!("{CHILD_PREFIX}{child}"))),
        (crate::schema::GSI1PK.into(), s(child.as_str())),
        (
            crate::schema::GSI1SK.into(),
            s(format!("{PARENT_PREFIX}{parent}")),
        ),
        (
            attr::TYPE.into(),
            s(RecordType::ParentChildRelationship.as_str()),
        ),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::PARENT_URN.into(), s(parent.as_str())),
        (attr::CHILD_URN.into(), s(child.as_str())),
    ])
}

/// A UniqueKeyValue record.
pub(crate) fn marker_item<E: Entity>(m: &Marker, owner: &str, now: &jiff::Timestamp) -> Item {
    HashMap::from([
        (PK.into(), s(&m.key)),
        (SK.into(), s(&m.key)),
        (attr::TYPE.into(), s(RecordType::UniqueKeyValue.as_str())),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::OWNER_URN.into(), s(owner)),
        (
            attr::CONSTRAINT.into(),
            s(format!("{}.{}", E::RESOURCE_TYPE, m.constraint)),
        ),
    ])
}

/// An SDK config builder for a DynamoDB-compatible endpoint (static local credentials, region
/// `us-east-1`), to which callers may add interceptors.
pub fn local_config_builder(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "ddbrel-local",
        ))
        .endpoint_url(endpoint)
}

/// A resource as stored: its URN, its data and the reserved attributes the store maintains.
/// Derefs to the data, so `job.name` reads a field; change fields through `job.data` (or
/// `DerefMut`) and pass the whole to [`Store::update`].
#[derive(Debug, Clone)]
pub struct Stored<E> {
    /// The resource's URN.
    pub urn: Urn<E>,
    /// The entity's own fields.
    pub data: E,
    /// What the store keeps besides: version, timestamps, account, parent, ancestors, ...
    pub meta: ResourceMeta,
    /// Entity attributes the item held before it was migrated on read (empty when it was
    /// current); the next update removes those the migration dropped.
    pub(crate) pre_migration: Vec<String>,
}

impl<E: Entity> Stored<E> {
    /// Decodes a Resource item (see [`crate::codec::decode`]).
    pub fn from_item(item: Item) -> Result<Self> {
        let (urn, data, meta, pre_migration) = codec::decode_migrating::<E>(item)?;
        Ok(Stored {
            urn,
            data,
            meta,
            pre_migration,
        })
    }
}

impl<E> Stored<E> {
    /// `_version`.
    pub fn version(&self) -> u64 {
        self.meta.version
    }
}

impl<E> Deref for Stored<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.data
    }
}
impl<E> DerefMut for Stored<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.data
    }
}
