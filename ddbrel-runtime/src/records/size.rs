//! Item sizes as DynamoDB counts them, and the limits checked before sending (SCHEMA.md §11).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::error::{Error, Result};
use crate::records::attrs::key_of;
use crate::schema::{GSI1PK, GSI1SK, PK, SK, attr, limits};

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
    check_size(item)
}

/// Refuses an item over 400 KB, before anything is sent.
pub fn check_size(item: &Item) -> Result<()> {
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
