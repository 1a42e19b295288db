//! DynamoDB-JSON (`{"PK": {"S": "..."}}`), the form `aws dynamodb` and DynamoDB's exports use,
//! and plain JSON for display.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;

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
