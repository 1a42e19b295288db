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

/// Parses an item in DynamoDB JSON. Errors say where, as a path into the item (`tags.L[2]`,
/// `address.M.city`), and what is wrong: a value that is not one object with one type key, an
/// unknown type, a value of the wrong JSON type, an `N` that is not a number, a `NULL` that is
/// not `true`, an empty or repeating set, base64 that does not decode.
pub fn from_dynamodb_json(value: &serde_json::Value) -> std::result::Result<Item, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| "an item must be a JSON object".to_string())?;
    obj.iter()
        .map(|(k, v)| {
            json_to_value(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| at(k, e))
        })
        .collect()
}

/// `e` (a path and what is wrong, or just what) located under `step`.
fn at(step: &str, e: String) -> String {
    if e.starts_with('[') || e.starts_with('.') {
        format!("{step}{e}")
    } else {
        format!("{step}: {e}")
    }
}

/// Whether `s` is a number as DynamoDB writes one: an optional sign, digits with at most one
/// decimal point (at least one digit), and an optional exponent.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("");
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
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
    let num_of = |x: &serde_json::Value| {
        let n = str_of(x)?;
        if is_number(&n) {
            Ok(n)
        } else {
            Err(format!("{t} holds {n:?}, not a number"))
        }
    };
    let set = |x: &serde_json::Value,
               each: &dyn Fn(&serde_json::Value) -> std::result::Result<String, String>|
     -> std::result::Result<Vec<String>, String> {
        let items = x
            .as_array()
            .ok_or_else(|| format!("{t} must be an array"))?;
        if items.is_empty() {
            return Err(format!("{t} is empty (DynamoDB has no empty sets)"));
        }
        let mut seen = std::collections::BTreeSet::new();
        items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let v = each(x).map_err(|e| at(&format!(".{t}[{i}]"), e))?;
                if seen.insert(v.clone()) {
                    Ok(v)
                } else {
                    Err(format!(".{t}[{i}]: {v:?} is in the set twice"))
                }
            })
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
        "N" => AttributeValue::N(num_of(inner)?),
        "B" => AttributeValue::B(blob(str_of(inner)?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL holds a non-boolean")?),
        "NULL" if inner.as_bool() == Some(true) => AttributeValue::Null(true),
        "NULL" => return Err(format!("NULL holds {inner}, not true")),
        "SS" => AttributeValue::Ss(set(inner, &str_of)?),
        "NS" => AttributeValue::Ns(set(inner, &num_of)?),
        "BS" => AttributeValue::Bs(
            set(inner, &str_of)?
                .into_iter()
                .map(blob)
                .collect::<std::result::Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or("L must be an array")?
                .iter()
                .enumerate()
                .map(|(i, x)| json_to_value(x).map_err(|e| at(&format!(".L[{i}]"), e)))
                .collect::<std::result::Result<_, _>>()?,
        ),
        "M" if !inner.is_object() => return Err("M holds a non-object".to_string()),
        // An object's errors begin with the attribute's name.
        "M" => AttributeValue::M(from_dynamodb_json(inner).map_err(|e| format!(".M.{e}"))?),
        other => return Err(format!("unknown type {other:?}")),
    })
}

/// An item as plain JSON (`{"PK": "...", "stars": 3}`), for people and scripts.
pub fn to_plain_json(item: &Item) -> serde_json::Value {
    serde_dynamo::from_item(item.clone()).unwrap_or_else(|_| to_dynamodb_json(item))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: serde_json::Value) -> String {
        from_dynamodb_json(&v).expect_err("refused")
    }

    #[test]
    fn every_type_goes_there_and_back() {
        let v = json!({
            "s": {"S": "x"}, "n": {"N": "-12.5e3"}, "b": {"B": "AAE="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", ".5"]},
            "bs": {"BS": ["AA=="]}, "l": {"L": [{"S": "a"}, {"N": "1"}]},
            "m": {"M": {"k": {"S": "v"}}}
        });
        let item = from_dynamodb_json(&v).expect("valid");
        assert_eq!(to_dynamodb_json(&item), v);
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(
            err(json!({"a": {"N": "abc"}})),
            "a: N holds \"abc\", not a number"
        );
        assert_eq!(
            err(json!({"a": {"N": ""}})),
            "a: N holds \"\", not a number"
        );
        assert_eq!(
            err(json!({"a": {"NULL": false}})),
            "a: NULL holds false, not true"
        );
        assert_eq!(
            err(json!({"tags": {"L": [{"S": "x"}, {"S": 3}]}})),
            "tags.L[1]: S holds a non-string"
        );
        assert_eq!(
            err(json!({"addr": {"M": {"zip": {"M": {"n": {"N": "1x"}}}}}})),
            "addr.M.zip.M.n: N holds \"1x\", not a number"
        );
        assert_eq!(
            err(json!({"s": {"SS": []}})),
            "s: SS is empty (DynamoDB has no empty sets)"
        );
        assert_eq!(
            err(json!({"s": {"SS": ["a", "a"]}})),
            "s.SS[1]: \"a\" is in the set twice"
        );
        assert_eq!(
            err(json!({"s": {"NS": ["1", "x"]}})),
            "s.NS[1]: NS holds \"x\", not a number"
        );
        assert_eq!(err(json!({"m": {"M": 3}})), "m: M holds a non-object");
        assert_eq!(err(json!({"x": {"Q": 1}})), "x: unknown type \"Q\"");
    }

    #[test]
    fn numbers_as_dynamodb_writes_them() {
        for ok in [
            "0", "-1", "+2", "3.25", ".5", "5.", "1e10", "1E-7", "-0.5e+3",
        ] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in [
            "", "-", ".", "e5", "1e", "1.2.3", "1e5.5", "0x10", " 1", "NaN", "1_000",
        ] {
            assert!(!is_number(bad), "{bad}");
        }
    }
}
