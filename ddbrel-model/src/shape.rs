//! What a request does, read from its JSON body: the operation (from `X-Amz-Target`), the
//! items a write touches and the transaction's ClientRequestToken.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// One item of one table: the table name and the item's key attributes, canonically encoded
/// (attribute names sorted, values as DynamoDB JSON).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    /// The table.
    pub table: String,
    /// The key attributes as canonical DynamoDB JSON (`{"PK":{"S":".."},"SK":{"S":".."}}`).
    pub key: String,
}

impl ItemKey {
    /// The key of an item given as a DynamoDB JSON map, keeping only `key_attributes`
    /// (all of them when `key_attributes` is empty). `None` when the map is not an object or
    /// holds none of them.
    pub fn from_map(table: &str, map: &Value, key_attributes: &[String]) -> Option<ItemKey> {
        let obj = map.as_object()?;
        let key: BTreeMap<&String, &Value> = obj
            .iter()
            .filter(|(k, _)| key_attributes.is_empty() || key_attributes.contains(k))
            .collect();
        if key.is_empty() {
            return None;
        }
        Some(ItemKey {
            table: table.to_string(),
            // Serializing a map of strings to JSON values cannot fail.
            key: serde_json::to_string(&key).unwrap_or_default(),
        })
    }
}

impl fmt::Display for ItemKey {
    /// `table/value` of each key attribute (`/`-joined), a value shown once when the partition
    /// and sort key are equal (a ddbrel resource: `PK = SK = urn`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parsed: BTreeMap<String, Value> = serde_json::from_str(&self.key).unwrap_or_default();
        let mut parts: Vec<String> = Vec::new();
        for v in parsed.values() {
            let text = v
                .as_object()
                .and_then(|o| o.values().next())
                .map(|s| match s {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| v.to_string());
            if !parts.contains(&text) {
                parts.push(text);
            }
        }
        write!(f, "{}/{}", self.table, parts.join("/"))
    }
}

/// What the model needs to know about a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A TransactWriteItems: the item of each action, in order (`None` for an action the
    /// model could not read; the engine will judge it), and its ClientRequestToken.
    Transaction {
        /// One entry per action, in the request's order.
        items: Vec<Option<ItemKey>>,
        /// The ClientRequestToken, if any.
        token: Option<String>,
        /// The whole request, parsed (compared for idempotency, independent of key order).
        body: Value,
    },
    /// A PutItem, UpdateItem or DeleteItem on one item.
    SingleWrite {
        /// The operation.
        operation: String,
        /// The item written.
        item: ItemKey,
    },
    /// Anything else (reads, batches, table operations): passed through untouched.
    Other,
}

/// Reads a request: `operation` is the part of `X-Amz-Target` after the dot.
pub fn shape(operation: &str, body: &[u8], key_attributes: &[String]) -> Shape {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Shape::Other;
    };
    match operation {
        "TransactWriteItems" => {
            let items = value
                .get("TransactItems")
                .and_then(Value::as_array)
                .map(|actions| {
                    actions
                        .iter()
                        .map(|a| action_item(a, key_attributes))
                        .collect()
                })
                .unwrap_or_default();
            let token = value
                .get("ClientRequestToken")
                .and_then(Value::as_str)
                .map(str::to_string);
            Shape::Transaction {
                items,
                token,
                body: value,
            }
        }
        "PutItem" | "UpdateItem" | "DeleteItem" => {
            let table = value.get("TableName").and_then(Value::as_str);
            let map = if operation == "PutItem" {
                value.get("Item")
            } else {
                value.get("Key")
            };
            match (table, map) {
                (Some(table), Some(map)) => match ItemKey::from_map(table, map, key_attributes) {
                    Some(item) => Shape::SingleWrite {
                        operation: operation.to_string(),
                        item,
                    },
                    None => Shape::Other,
                },
                _ => Shape::Other,
            }
        }
        _ => Shape::Other,
    }
}

/// The item one TransactWriteItems action touches.
fn action_item(action: &Value, key_attributes: &[String]) -> Option<ItemKey> {
    for (kind, field) in [
        ("Put", "Item"),
        ("Update", "Key"),
        ("Delete", "Key"),
        ("ConditionCheck", "Key"),
    ] {
        if let Some(a) = action.get(kind) {
            let table = a.get("TableName")?.as_str()?;
            return ItemKey::from_map(table, a.get(field)?, key_attributes);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["PK".into(), "SK".into()]
    }

    #[test]
    fn transaction_items_of_all_four_kinds() {
        let body = br#"{"ClientRequestToken":"t1","TransactItems":[
            {"Put":{"TableName":"t","Item":{"PK":{"S":"a"},"SK":{"S":"a"},"x":{"N":"1"}}}},
            {"Update":{"TableName":"t","Key":{"SK":{"S":"b"},"PK":{"S":"b"}},"UpdateExpression":"SET x = :x"}},
            {"Delete":{"TableName":"t","Key":{"PK":{"S":"c"},"SK":{"S":"d"}}}},
            {"ConditionCheck":{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"a"}},"ConditionExpression":"attribute_exists(PK)"}}
        ]}"#;
        let Shape::Transaction { items, token, .. } = shape("TransactWriteItems", body, &keys())
        else {
            panic!("a transaction");
        };
        assert_eq!(token.as_deref(), Some("t1"));
        assert_eq!(items.len(), 4);
        // The Put's item and the ConditionCheck's key name the same item.
        assert_eq!(items[0], items[3]);
        assert_eq!(
            items[1].as_ref().map(|k| k.key.clone()).as_deref(),
            Some(r#"{"PK":{"S":"b"},"SK":{"S":"b"}}"#)
        );
        assert_eq!(
            items[2].as_ref().map(ToString::to_string).as_deref(),
            Some("t/c/d")
        );
        assert_eq!(
            items[0].as_ref().map(ToString::to_string).as_deref(),
            Some("t/a")
        );
    }

    #[test]
    fn single_writes_and_reads() {
        let put = br#"{"TableName":"t","Item":{"PK":{"S":"a"},"SK":{"S":"a"},"v":{"S":"x"}}}"#;
        let upd = br#"{"TableName":"t","Key":{"PK":{"S":"a"},"SK":{"S":"a"}}}"#;
        let a = shape("PutItem", put, &keys());
        let b = shape("UpdateItem", upd, &keys());
        match (a, b) {
            (Shape::SingleWrite { item: x, .. }, Shape::SingleWrite { item: y, .. }) => {
                assert_eq!(x, y)
            }
            other => panic!("single writes: {other:?}"),
        }
        assert_eq!(shape("GetItem", upd, &keys()), Shape::Other);
        assert_eq!(shape("PutItem", b"not json", &keys()), Shape::Other);
    }
}
