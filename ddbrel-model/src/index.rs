//! Global secondary indexes: which index partitions a write writes, and how many bytes.
//!
//! The model learns a table's indexes from the CreateTable that made it (or from
//! [`crate::Model::add_index`]), and remembers, per item, the index entries the writes it has
//! passed on gave it (an item written before the model saw it has none it knows of). From
//! these, each write's index writes follow DynamoDB's rules: a Put writes the entry of every
//! index whose key attributes the item has; an update writes an entry it touches a projected
//! attribute of (with `ALL`, any attribute), and one that changes the entry's key deletes the
//! old entry and writes the new one; a delete deletes every entry.

use serde_json::Value;

use crate::size::{map_size, value_size, write_size};

/// One global secondary index of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    /// The index's name.
    pub name: String,
    /// Its partition key attribute.
    pub partition_key: String,
    /// Its sort key attribute, if any.
    pub sort_key: Option<String>,
    /// What it projects.
    pub projection: Projection,
}

/// The attributes an index projects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// The table's and the index's key attributes.
    KeysOnly,
    /// The key attributes and these.
    Include(Vec<String>),
}

/// One partition of a global secondary index: table, index and the index partition key's
/// value as canonical DynamoDB JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexPartition {
    /// The table.
    pub table: String,
    /// The index.
    pub index: String,
    /// The index partition key's value, as canonical DynamoDB JSON.
    pub value: String,
}

impl std::fmt::Display for IndexPartition {
    /// `table/index/value`, the value's text without its type.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::from_str::<Value>(&self.value)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(|s| s.as_str().map(str::to_string))
            })
            .unwrap_or_else(|| self.value.clone());
        write!(f, "{}/{}/{}", self.table, self.index, text)
    }
}

/// An item's entry in one index, as the model last saw it written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The index.
    pub index: String,
    /// The index partition key's value, as canonical DynamoDB JSON.
    pub value: String,
    /// The entry's size in bytes.
    pub size: usize,
}

/// What one write does to a table's indexes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// The index partitions written (a put or a delete of an entry) and the bytes of each.
    pub writes: Vec<(IndexPartition, usize)>,
    /// The item's entries once the write is applied (`None`: as before).
    pub after: Option<Vec<Entry>>,
}

/// The global secondary indexes a CreateTable request defines.
pub fn table_indexes(create_table: &Value) -> Vec<IndexDef> {
    let Some(indexes) = create_table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    indexes.iter().filter_map(index_def).collect()
}

fn index_def(index: &Value) -> Option<IndexDef> {
    let name = index.get("IndexName")?.as_str()?.to_string();
    let mut partition_key = None;
    let mut sort_key = None;
    for k in index.get("KeySchema")?.as_array()? {
        let attribute = k.get("AttributeName")?.as_str()?.to_string();
        match k.get("KeyType")?.as_str()? {
            "HASH" => partition_key = Some(attribute),
            _ => sort_key = Some(attribute),
        }
    }
    let projection = index.get("Projection");
    let projection = match projection
        .and_then(|p| p.get("ProjectionType"))
        .and_then(Value::as_str)
    {
        Some("KEYS_ONLY") => Projection::KeysOnly,
        Some("INCLUDE") => Projection::Include(
            projection
                .and_then(|p| p.get("NonKeyAttributes"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => Projection::All,
    };
    Some(IndexDef {
        name,
        partition_key: partition_key?,
        sort_key,
        projection,
    })
}

impl IndexDef {
    /// Whether the index projects `attribute` (given the table's key attributes).
    fn projects(&self, attribute: &str, table_keys: &[String]) -> bool {
        let key = attribute == self.partition_key
            || self.sort_key.as_deref() == Some(attribute)
            || table_keys.iter().any(|k| k == attribute);
        key || match &self.projection {
            Projection::All => true,
            Projection::KeysOnly => false,
            Projection::Include(names) => names.iter().any(|n| n == attribute),
        }
    }

    /// The size of `item`'s entry in this index.
    fn entry_size(&self, item: &Value, table_keys: &[String]) -> usize {
        item.as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| self.projects(k, table_keys))
                    .map(|(k, v)| k.len() + value_size(v))
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// What the write `operation` (`Put`/`PutItem`, `Update`/`UpdateItem`, `Delete`/`DeleteItem`;
/// anything else writes no index) with `request` (the action or request body) does to the
/// indexes of `table`, for an item whose entries were `before`.
pub fn effect(
    table: &str,
    indexes: &[IndexDef],
    table_keys: &[String],
    before: &[Entry],
    operation: &str,
    request: &Value,
) -> Effect {
    let partition = |index: &str, value: &str| IndexPartition {
        table: table.to_string(),
        index: index.to_string(),
        value: value.to_string(),
    };
    let after: Vec<Entry> = match operation {
        "Put" | "PutItem" => {
            let item = request.get("Item").cloned().unwrap_or(Value::Null);
            indexes
                .iter()
                .filter_map(|ix| {
                    let value = item.get(&ix.partition_key)?;
                    if let Some(sk) = &ix.sort_key {
                        item.get(sk)?;
                    }
                    Some(Entry {
                        index: ix.name.clone(),
                        value: canonical(value),
                        size: ix.entry_size(&item, table_keys),
                    })
                })
                .collect()
        }
        "Update" | "UpdateItem" => updated(indexes, table_keys, before, request),
        "Delete" | "DeleteItem" => Vec::new(),
        _ => return Effect::default(),
    };
    let touched = match operation {
        "Update" | "UpdateItem" => Some(update_paths(request)),
        _ => None,
    };
    let mut writes = Vec::new();
    for old in before {
        match after.iter().find(|e| e.index == old.index) {
            Some(new) if new.value == old.value => {
                let projected = match (&touched, indexes.iter().find(|ix| ix.name == new.index)) {
                    (Some(t), Some(ix)) => t.iter().any(|a| ix.projects(a, table_keys)),
                    _ => true,
                };
                if projected {
                    writes.push((partition(&new.index, &new.value), new.size));
                }
            }
            // Deleted, or moved to another index partition: the old entry is deleted.
            _ => writes.push((partition(&old.index, &old.value), old.size)),
        }
    }
    for new in &after {
        let moved_or_new = before
            .iter()
            .find(|e| e.index == new.index)
            .is_none_or(|old| old.value != new.value);
        if moved_or_new {
            writes.push((partition(&new.index, &new.value), new.size));
        }
    }
    Effect {
        writes,
        after: Some(after),
    }
}

/// The entries after an update: an entry stays unless the update removes one of its index's
/// key attributes, moves to the value the update sets its partition key to (when that value
/// is a placeholder the model can read; otherwise it stays where it was), and appears when
/// the update gives an item the index's key attributes (from its key or the update).
fn updated(
    indexes: &[IndexDef],
    table_keys: &[String],
    before: &[Entry],
    request: &Value,
) -> Vec<Entry> {
    let (assigned, removed) = assignments(request);
    let key = request.get("Key").cloned().unwrap_or(Value::Null);
    let size = write_size(request);
    let mut after = Vec::new();
    for ix in indexes {
        let keys = std::iter::once(&ix.partition_key).chain(ix.sort_key.as_ref());
        if keys.clone().any(|k| removed.contains(k)) {
            continue;
        }
        let old = before.iter().find(|e| e.index == ix.name);
        let set_value = assigned
            .iter()
            .find(|(a, _)| *a == ix.partition_key)
            .map(|(_, v)| v.clone());
        let value = match (set_value, old) {
            (Some(Some(v)), _) => Some(v),
            (_, Some(old)) => Some(old.value.clone()),
            (Some(None), None) => None,
            (None, None) => key.get(&ix.partition_key).map(canonical),
        };
        let has_sort = |sk: &String| {
            old.is_some()
                || key.get(sk).is_some()
                || assigned.iter().any(|(a, _)| a == sk)
                || table_keys.contains(sk) && key.get(sk).is_some()
        };
        if let Some(value) = value
            && ix.sort_key.as_ref().is_none_or(has_sort)
        {
            after.push(Entry {
                index: ix.name.clone(),
                value,
                size: old.map_or(size, |o| o.size.max(size)),
            });
        }
    }
    after
}

/// The canonical DynamoDB JSON of a value.
fn canonical(value: &Value) -> String {
    // Serializing a JSON value cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// The clauses of an update expression, split at the top-level clause keywords (a whole word
/// after whitespace, outside parentheses): `(keyword upper-cased, body)`.
fn clauses(expression: &str) -> Vec<(String, &str)> {
    let bytes = expression.as_bytes();
    let mut starts: Vec<(usize, usize, String)> = Vec::new();
    let mut depth = 0usize;
    for (i, c) in expression.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                let word: String = expression[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let upper = word.to_ascii_uppercase();
                let ends = expression[i + word.len()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace);
                if ends && matches!(upper.as_str(), "SET" | "REMOVE" | "ADD" | "DELETE") {
                    starts.push((i, i + word.len(), upper));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, (_, body_start, keyword)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(expression.len(), |n| n.0);
        out.push((keyword.clone(), &expression[*body_start..end]));
    }
    out
}

/// Splits `text` at its top-level commas.
fn top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// The top-level attribute a document path names (`#a.b[0]` → the name `#a` stands for).
fn top_attribute(path: &str, names: Option<&Value>) -> String {
    let head = path
        .trim()
        .split(['.', '['])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if head.starts_with('#') {
        names
            .and_then(|n| n.get(&head))
            .and_then(Value::as_str)
            .map_or(head, str::to_string)
    } else {
        head
    }
}

/// An update's SET assignments to whole attributes (`(attribute, Some(value))` when the value
/// is a placeholder, `None` otherwise) and the attributes it REMOVEs.
fn assignments(request: &Value) -> (Vec<(String, Option<String>)>, Vec<String>) {
    let names = request.get("ExpressionAttributeNames");
    let values = request.get("ExpressionAttributeValues");
    let expression = request
        .get("UpdateExpression")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut assigned = Vec::new();
    let mut removed = Vec::new();
    for (keyword, body) in clauses(expression) {
        for action in top_level(body) {
            match keyword.as_str() {
                "SET" => {
                    let Some((path, rhs)) = action.split_once('=') else {
                        continue;
                    };
                    let rhs = rhs.trim();
                    let value = rhs
                        .starts_with(':')
                        .then(|| values.and_then(|v| v.get(rhs)).map(canonical))
                        .flatten();
                    assigned.push((top_attribute(path, names), value));
                }
                "REMOVE" => removed.push(top_attribute(action, names)),
                _ => {}
            }
        }
    }
    (assigned, removed)
}

/// Every top-level attribute an update expression writes (SET, REMOVE, ADD, DELETE).
fn update_paths(request: &Value) -> Vec<String> {
    let names = request.get("ExpressionAttributeNames");
    let expression = request
        .get("UpdateExpression")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut out = Vec::new();
    for (keyword, body) in clauses(expression) {
        for action in top_level(body) {
            let path = match keyword.as_str() {
                "SET" => action.split_once('=').map_or(action, |(p, _)| p),
                _ => action.split_whitespace().next().unwrap_or(""),
            };
            out.push(top_attribute(path, names));
        }
    }
    out
}

/// The size of a whole item, for callers sizing an entry themselves.
pub fn item_size(item: &Value) -> usize {
    map_size(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn indexes() -> Vec<IndexDef> {
        table_indexes(&json!({"GlobalSecondaryIndexes": [
            {"IndexName": "byAccount", "KeySchema": [
                {"AttributeName": "acct", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "keys", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}
        ]}))
    }

    fn keys() -> Vec<String> {
        vec!["PK".into(), "SK".into()]
    }

    #[test]
    fn reads_create_table() {
        let ix = indexes();
        assert_eq!(ix.len(), 2);
        assert_eq!(ix[0].partition_key, "acct");
        assert_eq!(ix[0].sort_key.as_deref(), Some("SK"));
        assert_eq!(ix[1].projection, Projection::KeysOnly);
    }

    #[test]
    fn a_put_writes_the_indexes_whose_keys_it_has() {
        let put = json!({"Item": {"PK": {"S": "a"}, "SK": {"S": "a"}, "acct": {"S": "x"}}});
        let e = effect("t", &indexes(), &keys(), &[], "Put", &put);
        assert_eq!(e.writes.len(), 1);
        assert_eq!(e.writes[0].0.to_string(), "t/byAccount/x");
        let after = e.after.expect("entries");
        assert_eq!(after.len(), 1);
        // A second put in place rewrites the entry once.
        let again = effect("t", &indexes(), &keys(), &after, "Put", &put);
        assert_eq!(again.writes.len(), 1);
        // A delete deletes it.
        let delete = effect("t", &indexes(), &keys(), &after, "Delete", &json!({}));
        assert_eq!(delete.writes.len(), 1);
        assert_eq!(delete.after, Some(vec![]));
    }

    #[test]
    fn an_update_rewrites_moves_or_removes_an_entry() {
        let before = vec![Entry {
            index: "byAccount".into(),
            value: r#"{"S":"x"}"#.into(),
            size: 100,
        }];
        let count = json!({"Key": {"PK": {"S": "a"}, "SK": {"S": "a"}},
            "UpdateExpression": "SET #v = #v + :one ADD n :one",
            "ExpressionAttributeNames": {"#v": "_version"},
            "ExpressionAttributeValues": {":one": {"N": "1"}}});
        let e = effect("t", &indexes(), &keys(), &before, "Update", &count);
        assert_eq!(
            e.writes,
            vec![(
                IndexPartition {
                    table: "t".into(),
                    index: "byAccount".into(),
                    value: r#"{"S":"x"}"#.into()
                },
                100
            )]
        );
        let moved = json!({"Key": {"PK": {"S": "a"}, "SK": {"S": "a"}},
            "UpdateExpression": "set acct = :y", "ExpressionAttributeValues": {":y": {"S": "y"}}});
        let e = effect("t", &indexes(), &keys(), &before, "Update", &moved);
        let written: Vec<String> = e.writes.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(written, ["t/byAccount/x", "t/byAccount/y"]);
        let removed = json!({"Key": {"PK": {"S": "a"}, "SK": {"S": "a"}},
            "UpdateExpression": "REMOVE acct"});
        let e = effect("t", &indexes(), &keys(), &before, "Update", &removed);
        assert_eq!(e.writes.len(), 1);
        assert_eq!(e.after, Some(vec![]));
    }

    #[test]
    fn keys_only_is_not_written_by_an_update_of_other_attributes() {
        let before = vec![Entry {
            index: "keys".into(),
            value: r#"{"S":"g1"}"#.into(),
            size: 10,
        }];
        let update = json!({"Key": {"PK": {"S": "a"}, "SK": {"S": "a"}},
            "UpdateExpression": "SET other = :v", "ExpressionAttributeValues": {":v": {"S": "v"}}});
        let e = effect("t", &indexes(), &keys(), &before, "Update", &update);
        assert!(e.writes.is_empty());
    }

    #[test]
    fn clause_keywords_split_only_at_the_top_level() {
        let c = clauses("SET a = if_not_exists(a, :z) + :one, #b = :v REMOVE c, d ADD n :one");
        let kinds: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["SET", "REMOVE", "ADD"]);
        assert_eq!(top_level(c[0].1).len(), 2);
        // An attribute named like a keyword inside a path is not a clause.
        let c = clauses("SET settled = :v, added = :w");
        assert_eq!(c.len(), 1);
    }
}
