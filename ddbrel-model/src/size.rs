//! Item sizes as DynamoDB counts them, estimated from requests.

use serde_json::Value;

/// The bytes a write request (or transaction action) writes, estimated from the request as
/// DynamoDB sizes items (attribute names plus values): a Put's `Item`; for an Update, its
/// `Key` plus its `ExpressionAttributeValues` (the request does not carry the rest of the
/// item, which DynamoDB would also count); for a Delete or ConditionCheck, its `Key`.
pub fn write_size(request: &Value) -> usize {
    match request.get("Item") {
        Some(item) => map_size(item),
        None => {
            request.get("Key").map(map_size).unwrap_or(0)
                + request
                    .get("ExpressionAttributeValues")
                    .and_then(Value::as_object)
                    .map(|o| o.values().map(value_size).sum())
                    .unwrap_or(0)
        }
    }
}

/// The size of an item (a map of attribute names to DynamoDB JSON values), as DynamoDB counts
/// it: names' and values' bytes.
pub fn map_size(map: &Value) -> usize {
    map.as_object()
        .map(|o| o.iter().map(|(k, v)| k.len() + value_size(v)).sum())
        .unwrap_or(0)
}

/// The size of one DynamoDB JSON value: strings their UTF-8 bytes, numbers their digits,
/// binaries their decoded bytes, booleans and nulls 1 byte, lists and maps 3 bytes plus 1 per
/// element plus the elements.
pub fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let text = |v: &Value| v.as_str().map(str::len).unwrap_or(0);
    let binary = |v: &Value| text(v) * 3 / 4;
    let set = |v: &Value, f: &dyn Fn(&Value) -> usize| {
        v.as_array().map(|a| a.iter().map(f).sum()).unwrap_or(0)
    };
    match kind.as_str() {
        "S" | "N" => text(v),
        "B" => binary(v),
        "SS" | "NS" => set(v, &text),
        "BS" => set(v, &binary),
        "L" => {
            3 + v
                .as_array()
                .map(|a| a.iter().map(|e| 1 + value_size(e)).sum())
                .unwrap_or(0)
        }
        "M" => {
            3 + v
                .as_object()
                .map(|o| o.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum())
                .unwrap_or(0)
        }
        _ => 1,
    }
}
