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
/// unknown type, a value of the wrong JSON type, an `N` that is not a number DynamoDB can store
/// (at most 38 significant digits, from 1E-130 to below 1E+126), a `NULL` that is not `true`,
/// an empty set or one with an element twice (`NS` elements compared as numbers, so `1` and
/// `1.0` are the same), base64 that does not decode.
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

/// A number as DynamoDB stores one, in a canonical form that equal numbers share (`1`, `1.0`
/// and `10e-1` alike), or why `s` is not one: it must be an optional sign, digits with at most
/// one decimal point (at least one digit) and an optional exponent, with at most 38
/// significant digits and a magnitude from 1E-130 to below 1E+126, as DynamoDB requires.
fn number(s: &str) -> std::result::Result<String, &'static str> {
    const NOT: &str = "not a number";
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) || whole.is_empty() && fraction.is_empty() {
        return Err(NOT);
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err(NOT);
            }
            // Too many digits to parse is far outside DynamoDB's range either way.
            e.parse()
                .map_err(|_| "outside DynamoDB's range (1E-130 to below 1E+126)")?
        }
    };
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    if trimmed.is_empty() {
        return Ok("0".to_string());
    }
    if trimmed.len() > 38 {
        return Err("more than 38 significant digits");
    }
    // The value is 0.{significant} × 10^scale; its first digit is at 10^(scale - 1).
    // Saturating: an exponent near i64's limits is out of range whatever the digits.
    let scale = exponent
        .saturating_add(whole.len() as i64)
        .saturating_sub((digits.len() - significant.len()) as i64);
    if !(-129..=126).contains(&scale) {
        return Err("outside DynamoDB's range (1E-130 to below 1E+126)");
    }
    Ok(format!(
        "{}0.{trimmed}e{scale}",
        if negative { "-" } else { "" }
    ))
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
    // A number, and its canonical form (what makes two elements of a set the same).
    let num_of = |x: &serde_json::Value| {
        let n = str_of(x)?;
        match number(&n) {
            Ok(same) => Ok((n, same)),
            Err(why) => Err(format!("{t} holds {n:?}, {why}")),
        }
    };
    let str_of_set = |x: &serde_json::Value| str_of(x).map(|v| (v.clone(), v));
    type Element = std::result::Result<(String, String), String>;
    let set = |x: &serde_json::Value,
               each: &dyn Fn(&serde_json::Value) -> Element|
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
                let (v, same) = each(x).map_err(|e| at(&format!(".{t}[{i}]"), e))?;
                if seen.insert(same) {
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
        "N" => AttributeValue::N(num_of(inner)?.0),
        "B" => AttributeValue::B(blob(str_of(inner)?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL holds a non-boolean")?),
        "NULL" if inner.as_bool() == Some(true) => AttributeValue::Null(true),
        "NULL" => return Err(format!("NULL holds {inner}, not true")),
        "SS" => AttributeValue::Ss(set(inner, &str_of_set)?),
        "NS" => AttributeValue::Ns(set(inner, &num_of)?),
        "BS" => AttributeValue::Bs(
            set(inner, &str_of_set)?
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
            "0",
            "-1",
            "+2",
            "3.25",
            ".5",
            "5.",
            "1e10",
            "1E-7",
            "-0.5e+3",
            "1e-130",
            "9.9999999999999999999999999999999999999E+125",
            "0e999",
            "000.000",
        ] {
            assert!(number(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", ".", "e5", "1e", "1.2.3", "1e5.5", "0x10", " 1", "NaN", "1_000", "--1",
        ] {
            assert_eq!(number(bad), Err("not a number"), "{bad}");
        }
        for big in [
            "1e126",
            "1e-131",
            "0.01e-129",
            "1e99999999999999999999",
            "1e9223372036854775807",
            "0.1e-9223372036854775808",
        ] {
            assert!(number(big).unwrap_err().starts_with("outside"), "{big}");
        }
        let digits = |n: usize| format!("1.{}1", "0".repeat(n - 2));
        assert!(number(&digits(38)).is_ok());
        assert_eq!(number(&digits(39)), Err("more than 38 significant digits"));
        // Zeros around the significant digits do not count.
        assert!(number(&format!("000{}000", digits(38))).is_ok());
    }

    #[test]
    fn equal_numbers_are_one_set_element() {
        for (a, b) in [
            ("1", "1.0"),
            ("10e-1", "+1"),
            ("0.5", ".50"),
            ("-0", "0"),
            ("120", "1.2e2"),
        ] {
            assert_eq!(number(a), number(b), "{a} = {b}");
        }
        for (a, b) in [("1", "-1"), ("1", "10"), ("0.1", "1"), ("12", "21")] {
            assert_ne!(number(a), number(b), "{a} != {b}");
        }
        assert_eq!(
            err(json!({"s": {"NS": ["1", "1.0"]}})),
            "s.NS[1]: \"1.0\" is in the set twice"
        );
        assert_eq!(
            err(json!({"n": {"N": "1e200"}})),
            "n: N holds \"1e200\", outside DynamoDB's range (1E-130 to below 1E+126)"
        );
    }

    proptest::proptest! {
        /// No input panics; and a number written two ways (plain, scientific) is one number.
        #[test]
        fn any_text_is_judged_and_equal_numbers_agree(text in ".{0,40}", x in proptest::num::f64::NORMAL) {
            let _ = number(&text);
            let plain = format!("{x}");
            let scientific = format!("{x:e}");
            proptest::prop_assert_eq!(number(&plain), number(&scientific));
        }
    }
}
