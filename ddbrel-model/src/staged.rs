//! Read-committed commits ([`crate::ModelConfig::read_committed`]): a TransactWriteItems is
//! split into a transaction of ConditionChecks, sent at arrival (every condition evaluated at
//! once, on items the transaction holds, so nobody can change them until they are written),
//! and one single write per action, sent over the commit window in action order. A read in
//! the window executes on the engine at once and sees what DynamoDB's read-committed
//! isolation allows: the items written so far new, the others old.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

/// The operation and request body of one write of a staged transaction, for the action at
/// that index (`None` for a ConditionCheck, which writes nothing).
pub type Staged = Vec<Option<(&'static str, Vec<u8>)>>;

/// The transaction of ConditionChecks that stands for `body` (a TransactWriteItems request):
/// each action's condition (or one that always holds) on its item, with the names and values
/// the condition uses and its `ReturnValuesOnConditionCheckFailure`. `None` when an action
/// cannot be read.
pub fn checks(body: &Value, key_attributes: &[String]) -> Option<Value> {
    let actions = body.get("TransactItems")?.as_array()?;
    let mut out = Vec::with_capacity(actions.len());
    for action in actions {
        let (kind, a) = action.as_object()?.iter().next()?;
        let key = match kind.as_str() {
            "Put" => key_of(a.get("Item")?, key_attributes)?,
            _ => a.get("Key")?.clone(),
        };
        let mut check = Map::new();
        check.insert("TableName".into(), a.get("TableName")?.clone());
        check.insert("Key".into(), key);
        match a.get("ConditionExpression").and_then(Value::as_str) {
            Some(cond) => {
                check.insert("ConditionExpression".into(), json!(cond));
                used(a, &[cond], &mut check);
            }
            None => {
                let first = key_attributes.first()?;
                check.insert(
                    "ConditionExpression".into(),
                    json!(
                        "attribute_exists(#ddbrel_model_k) OR attribute_not_exists(#ddbrel_model_k)"
                    ),
                );
                check.insert(
                    "ExpressionAttributeNames".into(),
                    json!({ "#ddbrel_model_k": first }),
                );
            }
        }
        if let Some(r) = a.get("ReturnValuesOnConditionCheckFailure") {
            check.insert("ReturnValuesOnConditionCheckFailure".into(), r.clone());
        }
        out.push(json!({ "ConditionCheck": Value::Object(check) }));
    }
    let mut b = body.as_object()?.clone();
    b.insert("TransactItems".into(), Value::Array(out));
    // The token belongs to the client's transaction, which the model answers itself.
    b.remove("ClientRequestToken");
    Some(Value::Object(b))
}

/// The single writes that apply `body`'s actions, one per action, without their conditions
/// (already checked): PutItem, UpdateItem (its update expression with the names and values
/// it uses) or DeleteItem. `None` when an action cannot be read.
pub fn writes(body: &Value) -> Option<Staged> {
    let actions = body.get("TransactItems")?.as_array()?;
    let mut out = Vec::with_capacity(actions.len());
    for action in actions {
        let (kind, a) = action.as_object()?.iter().next()?;
        let mut w = Map::new();
        w.insert("TableName".into(), a.get("TableName")?.clone());
        let op = match kind.as_str() {
            "Put" => {
                w.insert("Item".into(), a.get("Item")?.clone());
                "PutItem"
            }
            "Update" => {
                let update = a.get("UpdateExpression")?.as_str()?;
                w.insert("Key".into(), a.get("Key")?.clone());
                w.insert("UpdateExpression".into(), json!(update));
                used(a, &[update], &mut w);
                "UpdateItem"
            }
            "Delete" => {
                w.insert("Key".into(), a.get("Key")?.clone());
                "DeleteItem"
            }
            _ => {
                out.push(None);
                continue;
            }
        };
        out.push(Some((op, serde_json::to_vec(&Value::Object(w)).ok()?)));
    }
    Some(out)
}

/// The key attributes of `item`.
fn key_of(item: &Value, key_attributes: &[String]) -> Option<Value> {
    let mut key = Map::new();
    for k in key_attributes {
        key.insert(k.clone(), item.get(k)?.clone());
    }
    Some(Value::Object(key))
}

/// Copies into `out` the entries of `action`'s ExpressionAttributeNames and
/// ExpressionAttributeValues that `exprs` use (DynamoDB refuses unused ones).
fn used(action: &Value, exprs: &[&str], out: &mut Map<String, Value>) {
    let tokens: HashSet<String> = exprs.iter().flat_map(|e| placeholders(e)).collect();
    for field in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
        if let Some(map) = action.get(field).and_then(Value::as_object) {
            let kept: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| tokens.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                out.insert(field.into(), Value::Object(kept));
            }
        }
    }
}

/// The `#name` and `:value` placeholders of an expression.
fn placeholders(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' || c == ':' {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            if end > i + 1 {
                out.push(expr[i..end].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["PK".into(), "SK".into()]
    }

    #[test]
    fn a_transaction_becomes_checks_and_single_writes() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}, "SK": {"S": "a"}, "x": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(#pk)",
                     "ExpressionAttributeNames": {"#pk": "PK"},
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "p"}, "SK": {"S": "p"}},
                        "UpdateExpression": "ADD #cc :d",
                        "ConditionExpression": "attribute_exists(#pk) AND #ca = :ca",
                        "ExpressionAttributeNames": {"#cc": "_childCount", "#pk": "PK", "#ca": "_createdAt"},
                        "ExpressionAttributeValues": {":d": {"N": "1"}, ":ca": {"S": "t0"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "d"}, "SK": {"S": "d"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "c"}, "SK": {"S": "c"}},
                                "ConditionExpression": "attribute_exists(#pk)",
                                "ExpressionAttributeNames": {"#pk": "PK"}}}
        ], "ClientRequestToken": "tok"});
        let c = checks(&body, &keys()).unwrap();
        let items = c["TransactItems"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert!(c.get("ClientRequestToken").is_none());
        assert_eq!(
            items[0]["ConditionCheck"]["Key"],
            json!({"PK": {"S": "a"}, "SK": {"S": "a"}})
        );
        assert_eq!(
            items[0]["ConditionCheck"]["ReturnValuesOnConditionCheckFailure"],
            "ALL_OLD"
        );
        // The update's check keeps the condition's placeholders, not the update's.
        assert_eq!(
            items[1]["ConditionCheck"]["ExpressionAttributeNames"],
            json!({"#pk": "PK", "#ca": "_createdAt"})
        );
        assert_eq!(
            items[1]["ConditionCheck"]["ExpressionAttributeValues"],
            json!({":ca": {"S": "t0"}})
        );
        // An action without a condition is checked with one that always holds.
        assert!(
            items[2]["ConditionCheck"]["ConditionExpression"]
                .as_str()
                .unwrap()
                .contains("OR")
        );

        let w = writes(&body).unwrap();
        assert_eq!(w.len(), 4);
        assert!(w[3].is_none());
        let (op, update) = w[1].as_ref().unwrap();
        assert_eq!(*op, "UpdateItem");
        let update: Value = serde_json::from_slice(update).unwrap();
        assert_eq!(
            update["ExpressionAttributeNames"],
            json!({"#cc": "_childCount"})
        );
        assert_eq!(
            update["ExpressionAttributeValues"],
            json!({":d": {"N": "1"}})
        );
        assert!(update.get("ConditionExpression").is_none());
        assert_eq!(w[0].as_ref().unwrap().0, "PutItem");
        assert_eq!(w[2].as_ref().unwrap().0, "DeleteItem");
    }

    #[test]
    fn placeholders_are_found_whole() {
        assert_eq!(
            placeholders("#a = :b AND size(#mo_1) > :zero"),
            vec!["#a", ":b", "#mo_1", ":zero"]
        );
    }
}
