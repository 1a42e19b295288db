//! Encoding entities into Resource items and decoding items read from the table, checking
//! every reserved attribute against SCHEMA.md. Nothing here panics on what the table holds.

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::schema::{GSI1PK, GSI1SK, PK, RecordType, SK, attr, limits};
use crate::time;
use crate::urn::{AnyUrn, Urn};

/// What the store keeps about a resource besides the entity's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMeta {
    /// `_version`: 1 at creation, +1 per update.
    pub version: u64,
    /// `_schemaVersion` as read (before any migration on read).
    pub schema_version: u32,
    /// `_createdAt`.
    pub created_at: Timestamp,
    /// `_updatedAt`.
    pub updated_at: Timestamp,
    /// `_accountUrn`, for account-scoped types.
    pub account: Option<AnyUrn>,
    /// `_parentUrn`, for types with a parent.
    pub parent: Option<AnyUrn>,
    /// `_ancestors`: root first, parent last; empty for roots.
    pub ancestors: Vec<AnyUrn>,
    /// `_uniqueKeys`: the uniqueness markers this resource holds.
    pub unique_keys: Vec<String>,
    /// `_memberOf`: collections holding this resource.
    pub member_of: Vec<AnyUrn>,
    /// `_conveyingCollections`: those whose membership conveys authorization.
    pub conveying_collections: Vec<AnyUrn>,
    /// `_childCount`.
    pub child_count: u64,
    /// `_memberCount`.
    pub member_count: u64,
    /// `_deleting`: set while a cascading delete is under way.
    pub deleting: Option<Timestamp>,
}

/// A readable form of an item's key for errors.
pub fn key_of(item: &Item) -> String {
    let pk = item.get(PK).and_then(|v| v.as_s().ok());
    let sk = item.get(SK).and_then(|v| v.as_s().ok());
    match (pk, sk) {
        (Some(p), Some(s)) if p == s => p.clone(),
        (Some(p), Some(s)) => format!("{p} / {s}"),
        (Some(p), None) => p.clone(),
        _ => "<item without PK>".to_string(),
    }
}

/// Reads a required string attribute.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {name} is not a string (S)"),
        )),
        None => Err(Error::invalid_item(
            key_of(item),
            format!("missing attribute {name}"),
        )),
    }
}

/// Reads an optional string attribute.
pub fn get_opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {name} is not a non-empty string (S)"),
        )),
    }
}

/// Reads a required non-negative integer attribute.
pub fn get_u64(item: &Item, name: &str) -> Result<u64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(|_| {
            Error::invalid_item(
                key_of(item),
                format!("attribute {name} is {n}, not a non-negative integer"),
            )
        }),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {name} is not a number (N)"),
        )),
        None => Err(Error::invalid_item(
            key_of(item),
            format!("missing attribute {name}"),
        )),
    }
}

fn get_opt_u64(item: &Item, name: &str) -> Result<u64> {
    if item.contains_key(name) {
        get_u64(item, name)
    } else {
        Ok(0)
    }
}

/// Reads a timestamp attribute.
pub fn get_ts(item: &Item, name: &str) -> Result<Timestamp> {
    let s = get_s(item, name)?;
    time::parse(s).map_err(|r| Error::invalid_item(key_of(item), format!("attribute {name}: {r}")))
}

/// Reads a URN attribute.
pub fn get_urn(item: &Item, name: &str) -> Result<AnyUrn> {
    let s = get_s(item, name)?;
    AnyUrn::parse(s)
        .map_err(|e| Error::invalid_item(key_of(item), format!("attribute {name}: {e}")))
}

fn get_opt_urn(item: &Item, name: &str) -> Result<Option<AnyUrn>> {
    match get_opt_s(item, name)? {
        None => Ok(None),
        Some(s) => AnyUrn::parse(s)
            .map(Some)
            .map_err(|e| Error::invalid_item(key_of(item), format!("attribute {name}: {e}"))),
    }
}

/// Reads a string set (absent = empty).
pub fn get_ss(item: &Item, name: &str) -> Result<Vec<String>> {
    match item.get(name) {
        None => Ok(Vec::new()),
        Some(AttributeValue::Ss(v)) => Ok(v.clone()),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {name} is not a string set (SS)"),
        )),
    }
}

fn get_urn_set(item: &Item, name: &str) -> Result<Vec<AnyUrn>> {
    let mut out = get_ss(item, name)?
        .iter()
        .map(|s| {
            AnyUrn::parse(s)
                .map_err(|e| Error::invalid_item(key_of(item), format!("attribute {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

fn get_urn_list(item: &Item, name: &str) -> Result<Vec<AnyUrn>> {
    match item.get(name) {
        None => Ok(Vec::new()),
        Some(AttributeValue::L(v)) => v
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => AnyUrn::parse(s).map_err(|e| {
                    Error::invalid_item(key_of(item), format!("attribute {name}: {e}"))
                }),
                _ => Err(Error::invalid_item(
                    key_of(item),
                    format!("attribute {name} holds a non-string element"),
                )),
            })
            .collect(),
        Some(_) => Err(Error::invalid_item(
            key_of(item),
            format!("attribute {name} is not a list (L)"),
        )),
    }
}

/// Checks `_type` and returns it.
pub fn record_type(item: &Item) -> Result<RecordType> {
    let t = get_s(item, attr::TYPE)?;
    RecordType::parse(t).ok_or_else(|| {
        Error::invalid_item(key_of(item), format!("unknown record type _type = {t:?}"))
    })
}

/// Decodes the reserved attributes of a Resource item.
pub fn decode_meta(item: &Item) -> Result<(AnyUrn, String, ResourceMeta)> {
    let t = record_type(item)?;
    if t != RecordType::Resource {
        return Err(Error::invalid_item(
            key_of(item),
            format!("_type is {}, not Resource", t.as_str()),
        ));
    }
    let pk = get_s(item, PK)?;
    let sk = get_s(item, SK)?;
    if pk != sk {
        return Err(Error::invalid_item(
            key_of(item),
            "a Resource record has PK = SK = its URN",
        ));
    }
    let urn = AnyUrn::parse(pk)
        .map_err(|e| Error::invalid_item(key_of(item), format!("PK is not a URN: {e}")))?;
    let resource_type = get_s(item, attr::RESOURCE_TYPE)?.to_string();
    if resource_type != urn.resource_type() {
        return Err(Error::invalid_item(
            key_of(item),
            format!("_resourceType {resource_type} differs from the URN's type"),
        ));
    }
    let schema_version = get_u64(item, attr::SCHEMA_VERSION)?;
    let schema_version = u32::try_from(schema_version)
        .map_err(|_| Error::invalid_item(key_of(item), "_schemaVersion is out of range"))?;
    let version = get_u64(item, attr::VERSION)?;
    if version == 0 {
        return Err(Error::invalid_item(
            key_of(item),
            "_version is 0; versions start at 1",
        ));
    }
    let meta = ResourceMeta {
        version,
        schema_version,
        created_at: get_ts(item, attr::CREATED_AT)?,
        updated_at: get_ts(item, attr::UPDATED_AT)?,
        account: get_opt_urn(item, attr::ACCOUNT_URN)?,
        parent: get_opt_urn(item, attr::PARENT_URN)?,
        ancestors: get_urn_list(item, attr::ANCESTORS)?,
        unique_keys: {
            let mut v = get_ss(item, attr::UNIQUE_KEYS)?;
            v.sort();
            v
        },
        member_of: get_urn_set(item, attr::MEMBER_OF)?,
        conveying_collections: get_urn_set(item, attr::CONVEYING_COLLECTIONS)?,
        child_count: get_opt_u64(item, attr::CHILD_COUNT)?,
        member_count: get_opt_u64(item, attr::MEMBER_COUNT)?,
        deleting: match item.get(attr::DELETING) {
            None => None,
            Some(_) => Some(get_ts(item, attr::DELETING)?),
        },
    };
    if meta.parent.is_none() && item.contains_key(attr::ANCESTORS) {
        return Err(Error::invalid_item(
            key_of(item),
            "_ancestors is present on a resource without _parentUrn",
        ));
    }
    if meta.parent.is_some() == meta.ancestors.is_empty()
        || meta.ancestors.last() != meta.parent.as_ref()
    {
        return Err(Error::invalid_item(
            key_of(item),
            "_ancestors must end with _parentUrn (and be absent exactly when _parentUrn is)",
        ));
    }
    Ok((urn, resource_type, meta))
}

/// Whether an attribute name belongs to the store (reserved) rather than to the entity.
pub fn is_reserved(name: &str) -> bool {
    name.starts_with('_') || matches!(name, "PK" | "SK" | "GSI1PK" | "GSI1SK")
}

/// Decodes a Resource item into entity `E`: checks the type, refuses newer schema versions,
/// migrates older ones, then decodes the entity's own fields.
pub fn decode<E: Entity>(item: Item) -> Result<(Urn<E>, E, ResourceMeta)> {
    decode_migrating(item).map(|(u, e, m, _)| (u, e, m))
}

/// [`decode`], also returning the entity attributes the item held before an on-read
/// migration (empty when it was current), so that the next write can drop what the migration
/// removed.
pub(crate) fn decode_migrating<E: Entity>(
    mut item: Item,
) -> Result<(Urn<E>, E, ResourceMeta, Vec<String>)> {
    let (urn, _, meta) = decode_meta(&item)?;
    let key = key_of(&item);
    let urn: Urn<E> = urn.typed().map_err(|e| {
        Error::invalid_item(
            &key,
            format!("expected a {} resource: {e}", E::RESOURCE_TYPE),
        )
    })?;
    if meta.schema_version > E::SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            key,
            found: meta.schema_version,
            supported: E::SCHEMA_VERSION,
        });
    }
    if meta.schema_version == 0 {
        return Err(Error::invalid_item(
            key,
            "_schemaVersion is 0; versions start at 1",
        ));
    }
    let mut before = Vec::new();
    if meta.schema_version < E::SCHEMA_VERSION {
        before = item.keys().filter(|k| !is_reserved(k)).cloned().collect();
        E::migrate(meta.schema_version, &mut item)?;
    }
    item.retain(|k, _| !is_reserved(k));
    let data: E = serde_dynamo::from_item(item).map_err(|e| {
        Error::invalid_item(
            &key,
            format!("does not decode as {}: {e}", E::RESOURCE_TYPE),
        )
    })?;
    Ok((urn, data, meta, before))
}

/// Encodes an entity's own fields, refusing reserved attribute names.
pub fn encode_fields<E: Entity>(urn: &str, data: &E) -> Result<Item> {
    let item: Item = serde_dynamo::to_item(data).map_err(|e| Error::Encode {
        what: urn.to_string(),
        reason: e.to_string(),
    })?;
    if let Some(name) = item.keys().find(|k| is_reserved(k)) {
        return Err(Error::Encode {
            what: urn.to_string(),
            reason: format!(
                "field {name:?} uses a reserved attribute name (names starting with `_`, PK, SK, GSI1PK, GSI1SK)"
            ),
        });
    }
    Ok(item)
}

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The size DynamoDB bills and limits an item at: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &str) -> usize {
    // DynamoDB: about 1 byte per two significant digits plus 1; never more than 21.
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    (digits.div_ceil(2) + 1).min(21)
}

/// The size of one attribute value as DynamoDB counts it (an upper bound for nested values).
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// Refuses an item over 400 KB or with a key over its limit, before anything is sent.
pub fn check_limits(item: &Item) -> Result<()> {
    for (name, limit) in [
        (PK, limits::MAX_PK_BYTES),
        (SK, limits::MAX_SK_BYTES),
        (GSI1PK, limits::MAX_PK_BYTES),
        (GSI1SK, limits::MAX_SK_BYTES),
        (attr::ACCOUNT_URN, limits::MAX_PK_BYTES),
    ] {
        if let Some(AttributeValue::S(v)) = item.get(name)
            && v.len() > limit
        {
            let mut end = 120.min(v.len());
            while !v.is_char_boundary(end) {
                end -= 1;
            }
            return Err(Error::KeyTooLong {
                attribute: name.to_string(),
                key: format!("{}…", &v[..end]),
                size: v.len(),
                limit,
            });
        }
    }
    let size = item_size(item);
    if size > limits::MAX_ITEM_BYTES {
        return Err(Error::ItemTooLarge {
            key: key_of(item),
            size,
            limit: limits::MAX_ITEM_BYTES,
        });
    }
    Ok(())
}

/// An item in DynamoDB JSON (`{"PK": {"S": "..."}, ...}`), the form `aws dynamodb` and
/// DynamoDB's exports use.
pub fn to_dynamodb_json(item: &Item) -> serde_json::Value {
    let map = item
        .iter()
        .map(|(k, v)| (k.clone(), value_to_json(v)))
        .collect::<serde_json::Map<_, _>>();
    serde_json::Value::Object(map)
}

fn value_to_json(v: &AttributeValue) -> serde_json::Value {
    use base64::Engine as _;
    use serde_json::json;
    let b64 = |b: &aws_sdk_dynamodb::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(value_to_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": to_dynamodb_json(m) }),
        _ => json!({ "NULL": true }),
    }
}

/// Parses an item in DynamoDB JSON; errors name the attribute.
pub fn from_dynamodb_json(value: &serde_json::Value) -> std::result::Result<Item, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| "an item must be a JSON object".to_string())?;
    obj.iter()
        .map(|(k, v)| {
            json_to_value(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| format!("{k}: {e}"))
        })
        .collect()
}

fn json_to_value(v: &serde_json::Value) -> std::result::Result<AttributeValue, String> {
    use base64::Engine as _;
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| "a value must be an object with one type key".to_string())?;
    let (t, inner) = obj.iter().next().ok_or("empty value")?;
    let str_of = |x: &serde_json::Value| {
        x.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{t} holds a non-string"))
    };
    let strs = |x: &serde_json::Value| -> std::result::Result<Vec<String>, String> {
        x.as_array()
            .ok_or_else(|| format!("{t} must be an array"))?
            .iter()
            .map(str_of)
            .collect()
    };
    let blob = |s: String| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(aws_sdk_dynamodb::primitives::Blob::new)
            .map_err(|e| format!("{t}: {e}"))
    };
    Ok(match t.as_str() {
        "S" => AttributeValue::S(str_of(inner)?),
        "N" => AttributeValue::N(str_of(inner)?),
        "B" => AttributeValue::B(blob(str_of(inner)?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL holds a non-boolean")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strs(inner)?),
        "NS" => AttributeValue::Ns(strs(inner)?),
        "BS" => AttributeValue::Bs(
            strs(inner)?
                .into_iter()
                .map(blob)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or("L must be an array")?
                .iter()
                .map(json_to_value)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(from_dynamodb_json(inner)?),
        other => return Err(format!("unknown type {other:?}")),
    })
}

/// An item as plain JSON (`{"PK": "...", "stars": 3}`), for people and scripts.
pub fn to_plain_json(item: &Item) -> serde_json::Value {
    serde_dynamo::from_item(item.clone()).unwrap_or_else(|_| to_dynamodb_json(item))
}
