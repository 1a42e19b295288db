//! Reading and writing single attributes: typed getters that name the item and the attribute
//! when something is wrong, and the `S`/`N` constructors.

use crate::time::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::error::{Error, Result};
use crate::schema::{PK, RecordType, SK, attr};
use crate::time;
use crate::urn::AnyUrn;

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

pub(crate) fn get_opt_u64(item: &Item, name: &str) -> Result<u64> {
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

pub(crate) fn get_opt_urn(item: &Item, name: &str) -> Result<Option<AnyUrn>> {
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

pub(crate) fn get_urn_set(item: &Item, name: &str) -> Result<Vec<AnyUrn>> {
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

pub(crate) fn get_urn_list(item: &Item, name: &str) -> Result<Vec<AnyUrn>> {
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

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
