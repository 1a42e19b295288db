//! Printing: aligned tables for people, one JSON object per line for scripts.

/// `println!` that stops quietly when the reader has gone (`ddbrel ... | head`).
macro_rules! say {
    ($($t:tt)*) => {
        $crate::output::write_line(&format!($($t)*))
    };
}

use serde_json::Value;

/// Prints rows: with `json`, each row as an object of the columns (numbers and booleans as
/// JSON numbers and booleans); else an aligned table.
pub fn rows(json: bool, columns: &[&str], rows: &[Vec<Value>]) {
    if json {
        for row in rows {
            let obj: serde_json::Map<String, Value> = columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.to_string(), v.clone()))
                .collect();
            say!("{}", Value::Object(obj));
        }
        return;
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(text).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len()).collect();
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            widths[i] = widths[i].max(v.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        say!("{}", out.trim_end());
    };
    line(
        columns
            .iter()
            .map(|c| c.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    if rows.is_empty() {
        say!("(none)");
    }
}

/// A cell as people read it: a string without quotes, anything else as JSON writes it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints the cursor of a page, if any.
pub fn cursor(json: bool, cursor: &Option<String>) {
    if let Some(c) = cursor {
        if json {
            say!("{}", serde_json::json!({ "cursor": c }));
        } else {
            say!("more: --cursor {c}");
        }
    }
}

/// Prints one JSON value (pretty for people, one line for scripts).
pub fn value(json: bool, v: &Value) {
    if json {
        say!("{v}");
    } else {
        say!(
            "{}",
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        );
    }
}

/// Writes one line to stdout; if the reader has gone away (a closed pipe), exits quietly with
/// success, as `head` expects.
pub fn write_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}
