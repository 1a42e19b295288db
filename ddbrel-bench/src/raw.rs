//! The baselines: what a careful developer would write by hand against aws-sdk-dynamodb and
//! `serde_dynamo` to store the same records as ddbrel (specs/SCHEMA.md), with no ddbrel code.
//!
//! Each function sends the requests its ddbrel counterpart sends, with the same items,
//! expressions, conditions, consistency and page limits. What the baseline leaves out is what
//! a hand-written version typically would: it trusts what it reads (no validation of reserved
//! attributes, URNs or timestamps), lowercases unique values without Unicode normalization or
//! escaping, checks no size or key-length limits before sending, and does not decode
//! transaction cancellation reasons into named errors.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use entities::{Job, User};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::BoxError;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// A raw SDK client and the table it works on.
#[derive(Clone, Debug)]
pub struct Raw {
    /// The client.
    pub client: Client,
    /// The table.
    pub table: String,
}

/// The reserved attributes of a Resource item, read as they are (no validation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawMeta {
    /// `PK`: the resource's URN.
    pub urn: String,
    /// `_resourceType`.
    pub resource_type: String,
    /// `_version`.
    pub version: u64,
    /// `_schemaVersion`.
    pub schema_version: u64,
    /// `_createdAt`.
    pub created_at: String,
    /// `_updatedAt`.
    pub updated_at: String,
    /// `_accountUrn`.
    pub account: Option<String>,
    /// `_parentUrn`.
    pub parent: Option<String>,
    /// `_ancestors`, root first.
    pub ancestors: Vec<String>,
    /// `_uniqueKeys`.
    pub unique_keys: Vec<String>,
    /// `_memberOf`.
    pub member_of: Vec<String>,
    /// `_conveyingCollections`.
    pub conveying_collections: Vec<String>,
    /// `_childCount`.
    pub child_count: u64,
    /// `_memberCount`.
    pub member_count: u64,
    /// `_deleting`.
    pub deleting: Option<String>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn get_list(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
        _ => Vec::new(),
    }
}

fn get_set(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::Ss(v)) => v.clone(),
        _ => Vec::new(),
    }
}

/// Reads the reserved attributes of a Resource item.
pub fn read_meta(item: &Item) -> RawMeta {
    RawMeta {
        urn: get_s(item, "PK").unwrap_or_default(),
        resource_type: get_s(item, "_resourceType").unwrap_or_default(),
        version: get_n(item, "_version"),
        schema_version: get_n(item, "_schemaVersion"),
        created_at: get_s(item, "_createdAt").unwrap_or_default(),
        updated_at: get_s(item, "_updatedAt").unwrap_or_default(),
        account: get_s(item, "_accountUrn"),
        parent: get_s(item, "_parentUrn"),
        ancestors: get_list(item, "_ancestors"),
        unique_keys: get_set(item, "_uniqueKeys"),
        member_of: get_set(item, "_memberOf"),
        conveying_collections: get_set(item, "_conveyingCollections"),
        child_count: get_n(item, "_childCount"),
        member_count: get_n(item, "_memberCount"),
        deleting: get_s(item, "_deleting"),
    }
}

/// Decodes a Resource item: the reserved attributes by hand, the entity with
/// `serde_dynamo::from_item` (which skips the attributes the struct does not name).
pub fn decode<T: DeserializeOwned>(item: Item) -> Result<(RawMeta, T), serde_dynamo::Error> {
    let meta = read_meta(&item);
    let data = serde_dynamo::from_item(item)?;
    Ok((meta, data))
}

/// The current time as the table stores it: ISO-8601 UTC with milliseconds.
pub fn now_text() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

/// A new URN of a type (UUID v7 id).
pub fn new_urn(resource_type: &str) -> String {
    format!("urn:pp:{resource_type}::{}", uuid::Uuid::now_v7())
}

/// Where a new resource sits: its account, its parent and its ancestors (root first, the
/// parent last).
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// `_accountUrn`.
    pub account: Option<&'a str>,
    /// `_parentUrn`.
    pub parent: Option<&'a str>,
    /// `_ancestors`.
    pub ancestors: &'a [&'a str],
}

/// A Resource item at version 1: `serde_dynamo::to_item` of the entity, then the reserved
/// attributes inserted by hand.
pub fn resource_item<T: Serialize>(
    resource_type: &str,
    urn: &str,
    data: &T,
    place: Placement<'_>,
    unique_keys: Vec<String>,
    now: &str,
) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(data)?;
    item.insert("PK".into(), s(urn));
    item.insert("SK".into(), s(urn));
    item.insert("_type".into(), s("Resource"));
    item.insert("_schemaVersion".into(), AttributeValue::N("1".into()));
    item.insert("_createdAt".into(), s(now));
    item.insert("_updatedAt".into(), s(now));
    item.insert("_resourceType".into(), s(resource_type));
    item.insert("_version".into(), AttributeValue::N("1".into()));
    item.insert("_writeToken".into(), s(uuid::Uuid::now_v7().to_string()));
    if let Some(a) = place.account {
        item.insert("_accountUrn".into(), s(a));
    }
    if let Some(p) = place.parent {
        item.insert("_parentUrn".into(), s(p));
        item.insert(
            "_ancestors".into(),
            AttributeValue::L(place.ancestors.iter().map(|a| s(*a)).collect()),
        );
    }
    if !unique_keys.is_empty() {
        item.insert("_uniqueKeys".into(), AttributeValue::Ss(unique_keys));
    }
    Ok(item)
}

/// The key of a user's email marker (unique per account, case-insensitive): lowercased, no
/// Unicode normalization.
pub fn user_email_key(account: &str, email: &str) -> String {
    format!(
        "unique#System.Account.User#email#{account}#{}",
        email.to_lowercase()
    )
}

/// A user's Resource item (child of an Account, account-scoped, one email marker).
pub fn encode_user(
    urn: &str,
    user: &User,
    account: &str,
    now: &str,
) -> Result<Item, serde_dynamo::Error> {
    resource_item(
        "System.Account.User",
        urn,
        user,
        Placement {
            account: Some(account),
            parent: Some(account),
            ancestors: &[account],
        },
        vec![user_email_key(account, &user.email)],
        now,
    )
}

/// A job's Resource item (child of a JobCollection, account-scoped, no marker).
pub fn encode_job(
    urn: &str,
    job: &Job,
    account: &str,
    collection: &str,
    now: &str,
) -> Result<Item, serde_dynamo::Error> {
    resource_item(
        "System.Account.JobCollection.Job",
        urn,
        job,
        Placement {
            account: Some(account),
            parent: Some(collection),
            ancestors: &[account, collection],
        },
        Vec::new(),
        now,
    )
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))])
}

fn put(table: &str, item: Item) -> Result<TransactWriteItem, BoxError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Creates a user under an account in one TransactWriteItems, with the actions ddbrel sends
/// in the same order: Put the resource (`attribute_not_exists(PK)`), Put its
/// ParentChildRelationship (same condition), Update the account (`ADD _childCount 1` if it
/// exists, is an Account and is not being deleted), Put the email marker
/// (`attribute_not_exists(PK)`); every action asks for ALL_OLD on a failed condition, and the
/// request carries a ClientRequestToken. Returns the new user's URN.
pub async fn create_user(raw: &Raw, account: &str, user: &User) -> Result<String, BoxError> {
    let urn = new_urn("System.Account.User");
    let now = now_text();
    let marker = user_email_key(account, &user.email);
    let resource = encode_user(&urn, user, account, &now)?;
    let relationship = HashMap::from([
        ("PK".to_string(), s(account)),
        ("SK".to_string(), s(format!("child#{urn}"))),
        ("GSI1PK".to_string(), s(&urn)),
        ("GSI1SK".to_string(), s(format!("parent#{account}"))),
        ("_type".to_string(), s("ParentChildRelationship")),
        ("_schemaVersion".to_string(), AttributeValue::N("1".into())),
        ("_createdAt".to_string(), s(&now)),
        ("_parentUrn".to_string(), s(account)),
        ("_childUrn".to_string(), s(&urn)),
    ]);
    let marker_item = HashMap::from([
        ("PK".to_string(), s(&marker)),
        ("SK".to_string(), s(&marker)),
        ("_type".to_string(), s("UniqueKeyValue")),
        ("_schemaVersion".to_string(), AttributeValue::N("1".into())),
        ("_createdAt".to_string(), s(&now)),
        ("_ownerUrn".to_string(), s(&urn)),
        ("_constraint".to_string(), s("System.Account.User.email")),
    ]);
    let parent_update = Update::builder()
        .table_name(&raw.table)
        .set_key(Some(key(account, account)))
        .update_expression("ADD #cc :one")
        .condition_expression("attribute_exists(PK) AND #rt = :pt AND attribute_not_exists(#del)")
        .expression_attribute_names("#cc", "_childCount")
        .expression_attribute_names("#rt", "_resourceType")
        .expression_attribute_names("#del", "_deleting")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":pt", s("System.Account"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()?;
    raw.client
        .transact_write_items()
        .transact_items(put(&raw.table, resource)?)
        .transact_items(put(&raw.table, relationship)?)
        .transact_items(TransactWriteItem::builder().update(parent_update).build())
        .transact_items(put(&raw.table, marker_item)?)
        .client_request_token(uuid::Uuid::new_v4().to_string())
        .send()
        .await?;
    Ok(urn)
}

/// Reads a resource with one strongly consistent GetItem and decodes it; `None` if absent.
pub async fn get<T: DeserializeOwned>(
    raw: &Raw,
    urn: &str,
) -> Result<Option<(RawMeta, T)>, BoxError> {
    let out = raw
        .client
        .get_item()
        .table_name(&raw.table)
        .key("PK", s(urn))
        .key("SK", s(urn))
        .consistent_read(true)
        .send()
        .await?;
    match out.item {
        None => Ok(None),
        Some(item) => Ok(Some(decode(item)?)),
    }
}

/// Strongly consistent BatchGetItem of resources by URN (at most 100), retrying unprocessed
/// keys; the items found, by URN.
pub async fn batch_get(raw: &Raw, urns: &[String]) -> Result<HashMap<String, Item>, BoxError> {
    let mut pending: Vec<Item> = urns.iter().map(|u| key(u, u)).collect();
    let mut out = HashMap::with_capacity(urns.len());
    while !pending.is_empty() {
        let keys = KeysAndAttributes::builder()
            .set_keys(Some(std::mem::take(&mut pending)))
            .consistent_read(true)
            .build()?;
        let res = raw
            .client
            .batch_get_item()
            .request_items(&raw.table, keys)
            .send()
            .await?;
        if let Some(mut responses) = res.responses
            && let Some(items) = responses.remove(&raw.table)
        {
            for item in items {
                if let Some(pk) = get_s(&item, "PK") {
                    out.insert(pk, item);
                }
            }
        }
        if let Some(mut unprocessed) = res.unprocessed_keys
            && let Some(ka) = unprocessed.remove(&raw.table)
        {
            pending = ka.keys;
        }
    }
    Ok(out)
}

/// A page of children of one type with their data: a strongly consistent Query
/// (`PK = parent AND begins_with(SK, "child#" + type prefix)`, at most `limit`), then one
/// BatchGetItem of the `_childUrn`s, decoded in the Query's order. Returns the children and
/// the Query's LastEvaluatedKey.
pub async fn children_with_data<T: DeserializeOwned>(
    raw: &Raw,
    parent: &str,
    type_prefix: &str,
    limit: i32,
) -> Result<(Vec<(RawMeta, T)>, Option<Item>), BoxError> {
    let out = raw
        .client
        .query()
        .table_name(&raw.table)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
        .expression_attribute_names("#pk", "PK")
        .expression_attribute_names("#sk", "SK")
        .expression_attribute_values(":pk", s(parent))
        .expression_attribute_values(":prefix", s(format!("child#{type_prefix}")))
        .consistent_read(true)
        .scan_index_forward(true)
        .limit(limit)
        .send()
        .await?;
    let children: Vec<String> = out
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| get_s(i, "_childUrn"))
        .collect();
    let mut found = batch_get(raw, &children).await?;
    let mut page = Vec::with_capacity(children.len());
    for child in &children {
        if let Some(item) = found.remove(child) {
            page.push(decode(item)?);
        }
    }
    Ok((page, out.last_evaluated_key))
}

/// A page of one account's resources of one type through `ResourcesByAccountIndex`
/// (`_accountUrn = account AND begins_with(SK, type prefix)`, oldest first, at most
/// `limit`), decoded. Returns the resources and the LastEvaluatedKey.
pub async fn by_account<T: DeserializeOwned>(
    raw: &Raw,
    account: &str,
    type_prefix: &str,
    limit: i32,
) -> Result<(Vec<(RawMeta, T)>, Option<Item>), BoxError> {
    let out = raw
        .client
        .query()
        .table_name(&raw.table)
        .index_name("ResourcesByAccountIndex")
        .key_condition_expression("#a = :a AND begins_with(#sk, :p)")
        .expression_attribute_names("#a", "_accountUrn")
        .expression_attribute_names("#sk", "SK")
        .expression_attribute_values(":a", s(account))
        .expression_attribute_values(":p", s(type_prefix))
        .scan_index_forward(true)
        .limit(limit)
        .send()
        .await?;
    let items = out
        .items
        .unwrap_or_default()
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, out.last_evaluated_key))
}

/// The authorization scope of a resource (specs/SCHEMA.md section 8) in the order ddbrel
/// returns it: GetItem of the resource, BatchGetItem of its ancestors (skipped for a root),
/// BatchGetItem of the conveying collections found (skipped when there are none), all
/// strongly consistent.
pub async fn authorization_scope(raw: &Raw, urn: &str) -> Result<Vec<String>, BoxError> {
    let out = raw
        .client
        .get_item()
        .table_name(&raw.table)
        .key("PK", s(urn))
        .key("SK", s(urn))
        .consistent_read(true)
        .send()
        .await?;
    let item = out.item.ok_or_else(|| format!("{urn} not found"))?;
    let ancestors = get_list(&item, "_ancestors");
    let mut scope = vec![urn.to_string()];
    scope.extend(ancestors.iter().rev().cloned());
    let mut collections = get_set(&item, "_conveyingCollections");
    if !ancestors.is_empty() {
        let found = batch_get(raw, &ancestors).await?;
        for a in ancestors.iter().rev() {
            if let Some(item) = found.get(a) {
                collections.extend(get_set(item, "_conveyingCollections"));
            }
        }
    }
    let mut seen: HashSet<String> = scope.iter().cloned().collect();
    collections.retain(|c| seen.insert(c.clone()));
    if !collections.is_empty() {
        let found = batch_get(raw, &collections).await?;
        for c in &collections {
            scope.push(c.clone());
            if let Some(item) = found.get(c) {
                for a in get_list(item, "_ancestors").into_iter().rev() {
                    if seen.insert(a.clone()) {
                        scope.push(a);
                    }
                }
            }
        }
    }
    Ok(scope)
}
