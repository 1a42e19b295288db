//! What a request does, read from its JSON body: the operation (from `X-Amz-Target`), the
//! items a write touches and the transaction's ClientRequestToken.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub use crate::size::{map_size, value_size, write_size};

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

impl ItemKey {
    /// The item's partition: the value of its `partition_key` attribute.
    pub fn partition(&self, partition_key: &str) -> Option<Partition> {
        let parsed: Value = serde_json::from_str(&self.key).ok()?;
        Partition::of_map(&self.table, &parsed, partition_key)
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

/// One partition of one table: the table name and the partition key's value as canonical
/// DynamoDB JSON (`{"S":".."}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    /// The table.
    pub table: String,
    /// The partition key's value, as canonical DynamoDB JSON.
    pub value: String,
}

impl Partition {
    /// The partition of an item given as a DynamoDB JSON map: its `partition_key` attribute.
    pub fn of_map(table: &str, map: &Value, partition_key: &str) -> Option<Partition> {
        let value = map.as_object()?.get(partition_key)?;
        Some(Partition {
            table: table.to_string(),
            // Serializing a JSON value cannot fail.
            value: serde_json::to_string(value).unwrap_or_default(),
        })
    }
}

/// One read of a GetItem, BatchGetItem or Query, as the model sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    /// The item read (GetItem, BatchGetItem); `None` for a Query, which reads a partition.
    pub item: Option<ItemKey>,
    /// The partition read.
    pub partition: Partition,
    /// Whether the read is strongly consistent (`ConsistentRead: true`).
    pub consistent: bool,
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
        /// Per action, in order: the partition it writes and the bytes it writes, estimated
        /// from the request ([`write_size`]); `None` where the model could not read it.
        writes: Vec<Option<(Partition, usize)>>,
    },
    /// A PutItem, UpdateItem or DeleteItem on one item.
    SingleWrite {
        /// The operation.
        operation: String,
        /// The whole request, parsed (read again for the index writes it implies).
        request: Value,
        /// The item written.
        item: ItemKey,
        /// The item's partition and the bytes written, estimated from the request
        /// ([`write_size`]).
        write: Option<(Partition, usize)>,
    },
    /// A GetItem, a BatchGetItem, or a Query of the table (not of an index) whose key
    /// condition names the partition key's value.
    Read {
        /// The operation.
        operation: String,
        /// One entry per item read (per partition, for a Query).
        reads: Vec<Read>,
    },
    /// A TransactGetItems: the item of each action, in order (`None` for an action the model
    /// could not read), and the same as reads.
    TransactGet {
        /// One entry per action, in the request's order.
        items: Vec<Option<ItemKey>>,
        /// The reads, one per item the model could read.
        reads: Vec<Read>,
    },
    /// A Query of a secondary index; which index partition it reads depends on the index's
    /// key schema, which the model learns from CreateTable ([`crate::index`]).
    IndexQuery {
        /// The table.
        table: String,
        /// The index.
        index: String,
        /// The whole request, parsed.
        request: Value,
    },
    /// A CreateTable, with the table's global secondary indexes.
    CreateTable {
        /// The table.
        table: String,
        /// Its global secondary indexes.
        indexes: Vec<crate::index::IndexDef>,
    },
    /// Anything else (scans, batch writes, other table operations): passed through untouched.
    Other,
}

/// Reads a request: `operation` is the part of `X-Amz-Target` after the dot.
pub fn shape(operation: &str, body: &[u8], key_attributes: &[String]) -> Shape {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Shape::Other;
    };
    match operation {
        "TransactWriteItems" => transaction(value, key_attributes),
        "PutItem" | "UpdateItem" | "DeleteItem" => single_write(operation, value, key_attributes),
        "GetItem" => {
            let table = value.get("TableName").and_then(Value::as_str);
            let key = value.get("Key");
            let consistent = consistent_read(&value);
            match (table, key) {
                (Some(table), Some(key)) => {
                    let reads = read_of(table, key, consistent, key_attributes)
                        .into_iter()
                        .collect();
                    read_shape(operation, reads)
                }
                _ => Shape::Other,
            }
        }
        "BatchGetItem" => batch_get(&value, key_attributes),
        "TransactGetItems" => transact_get(&value, key_attributes),
        "CreateTable" => match value.get("TableName").and_then(Value::as_str) {
            Some(table) => Shape::CreateTable {
                table: table.to_string(),
                indexes: crate::index::table_indexes(&value),
            },
            None => Shape::Other,
        },
        "Query" if value.get("IndexName").is_some() => {
            match (
                value.get("TableName").and_then(Value::as_str),
                value.get("IndexName").and_then(Value::as_str),
            ) {
                (Some(table), Some(index)) => Shape::IndexQuery {
                    table: table.to_string(),
                    index: index.to_string(),
                    request: value.clone(),
                },
                _ => Shape::Other,
            }
        }
        "Query" => match query_partition(&value, key_attributes) {
            Some(partition) => read_shape(
                operation,
                vec![Read {
                    item: None,
                    partition,
                    consistent: consistent_read(&value),
                }],
            ),
            None => Shape::Other,
        },
        _ => Shape::Other,
    }
}

fn transaction(value: Value, key_attributes: &[String]) -> Shape {
    let actions = value.get("TransactItems").and_then(Value::as_array);
    let items = actions
        .map(|a| a.iter().map(|a| action_item(a, key_attributes)).collect())
        .unwrap_or_default();
    let writes = actions
        .map(|a| a.iter().map(|a| action_write(a, key_attributes)).collect())
        .unwrap_or_default();
    let token = value
        .get("ClientRequestToken")
        .and_then(Value::as_str)
        .map(str::to_string);
    Shape::Transaction {
        items,
        token,
        body: value,
        writes,
    }
}

fn single_write(operation: &str, value: Value, key_attributes: &[String]) -> Shape {
    let table = value.get("TableName").and_then(Value::as_str);
    let map = if operation == "PutItem" {
        value.get("Item")
    } else {
        value.get("Key")
    };
    let (Some(table), Some(map)) = (table, map) else {
        return Shape::Other;
    };
    let Some(item) = ItemKey::from_map(table, map, key_attributes) else {
        return Shape::Other;
    };
    let write = key_attributes
        .first()
        .and_then(|pk| Some((Partition::of_map(table, map, pk)?, write_size(&value))));
    Shape::SingleWrite {
        operation: operation.to_string(),
        item,
        write,
        request: value,
    }
}

fn batch_get(value: &Value, key_attributes: &[String]) -> Shape {
    let mut reads = Vec::new();
    if let Some(tables) = value.get("RequestItems").and_then(Value::as_object) {
        for (table, request) in tables {
            let consistent = consistent_read(request);
            for key in request
                .get("Keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                reads.extend(read_of(table, key, consistent, key_attributes));
            }
        }
    }
    read_shape("BatchGetItem", reads)
}

fn transact_get(value: &Value, key_attributes: &[String]) -> Shape {
    let gets: Vec<Option<(&str, &Value)>> = value
        .get("TransactItems")
        .and_then(Value::as_array)
        .map(|actions| {
            actions
                .iter()
                .map(|a| {
                    let get = a.get("Get")?;
                    Some((get.get("TableName")?.as_str()?, get.get("Key")?))
                })
                .collect()
        })
        .unwrap_or_default();
    let items = gets
        .iter()
        .map(|g| g.and_then(|(t, k)| ItemKey::from_map(t, k, key_attributes)))
        .collect();
    let reads = gets
        .iter()
        .flatten()
        .filter_map(|(t, k)| read_of(t, k, true, key_attributes))
        .collect();
    Shape::TransactGet { items, reads }
}

fn read_shape(operation: &str, reads: Vec<Read>) -> Shape {
    if reads.is_empty() {
        Shape::Other
    } else {
        Shape::Read {
            operation: operation.to_string(),
            reads,
        }
    }
}

fn consistent_read(request: &Value) -> bool {
    request
        .get("ConsistentRead")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn read_of(table: &str, key: &Value, consistent: bool, key_attributes: &[String]) -> Option<Read> {
    let item = ItemKey::from_map(table, key, key_attributes)?;
    let partition = Partition::of_map(table, key, key_attributes.first()?)?;
    Some(Read {
        item: Some(item),
        partition,
        consistent,
    })
}

/// The partition a Query of the table reads: the value its key condition gives the partition
/// key (`PK = :v`, either side, names through `ExpressionAttributeNames`). `None` for an
/// index query or a key condition the model cannot read.
fn query_partition(query: &Value, key_attributes: &[String]) -> Option<Partition> {
    if query.get("IndexName").is_some() {
        return None;
    }
    let table = query.get("TableName")?.as_str()?;
    let value = key_condition_value(query, key_attributes.first()?)?;
    Some(Partition {
        table: table.to_string(),
        value,
    })
}

/// The value a Query's key condition gives `attribute` (`attribute = :v`, either side, names
/// through `ExpressionAttributeNames`), as canonical DynamoDB JSON. `None` when the key
/// condition does not name it in an equality the model can read.
pub fn key_condition_value(query: &Value, attribute: &str) -> Option<String> {
    let partition_key = attribute;
    let condition = query.get("KeyConditionExpression")?.as_str()?;
    let names = query.get("ExpressionAttributeNames");
    let values = query.get("ExpressionAttributeValues")?;
    let resolve_name = |t: &str| -> Option<String> {
        if t.starts_with('#') {
            names?.get(t)?.as_str().map(str::to_string)
        } else {
            Some(t.to_string())
        }
    };
    let lower = condition.to_ascii_lowercase();
    let mut start = 0;
    let mut clauses = Vec::new();
    // Split on ` and ` (any case); the byte offsets of the lowercased ASCII text are the
    // original's.
    while let Some(i) = lower[start..].find(" and ") {
        clauses.push(&condition[start..start + i]);
        start += i + 5;
    }
    clauses.push(&condition[start..]);
    for clause in clauses {
        let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
        let parts: Vec<&str> = clause.split('=').collect();
        let [left, right] = parts.as_slice() else {
            continue;
        };
        if left.ends_with(['<', '>', '!']) {
            continue;
        }
        let (left, right) = (left.trim(), right.trim());
        let (name, placeholder) = if right.starts_with(':') {
            (left, right)
        } else {
            (right, left)
        };
        if resolve_name(name).as_deref() == Some(partition_key) {
            let value = values.get(placeholder)?;
            // Serializing a JSON value cannot fail.
            return Some(serde_json::to_string(value).unwrap_or_default());
        }
    }
    None
}

/// The partition and bytes one TransactWriteItems action writes (a ConditionCheck counts as
/// a write of its key, as DynamoDB charges it write capacity).
fn action_write(action: &Value, key_attributes: &[String]) -> Option<(Partition, usize)> {
    for (kind, field) in [
        ("Put", "Item"),
        ("Update", "Key"),
        ("Delete", "Key"),
        ("ConditionCheck", "Key"),
    ] {
        if let Some(a) = action.get(kind) {
            let table = a.get("TableName")?.as_str()?;
            let partition = Partition::of_map(table, a.get(field)?, key_attributes.first()?)?;
            return Some((partition, write_size(a)));
        }
    }
    None
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
        assert!(matches!(
            shape("GetItem", upd, &keys()),
            Shape::Read { ref reads, .. } if reads.len() == 1 && !reads[0].consistent
        ));
        assert_eq!(shape("PutItem", b"not json", &keys()), Shape::Other);
    }

    #[test]
    fn query_partitions() {
        let q = br##"{"TableName":"t","ConsistentRead":true,
            "KeyConditionExpression":"#p = :v AND begins_with(SK, :s)",
            "ExpressionAttributeNames":{"#p":"PK"},
            "ExpressionAttributeValues":{":v":{"S":"a"},":s":{"S":"x"}}}"##;
        let Shape::Read { reads, .. } = shape("Query", q, &keys()) else {
            panic!("a read");
        };
        assert_eq!(reads[0].partition.value, r#"{"S":"a"}"#);
        assert!(reads[0].consistent && reads[0].item.is_none());
        let index = br#"{"TableName":"t","IndexName":"g","KeyConditionExpression":"PK = :v",
            "ExpressionAttributeValues":{":v":{"S":"a"}}}"#;
        assert!(matches!(
            shape("Query", index, &keys()),
            Shape::IndexQuery { ref index, .. } if index == "g"
        ));
    }
}
