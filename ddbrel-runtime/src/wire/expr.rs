//! Expressions that carry their own attribute names and values.
//!
//! DynamoDB takes an expression's text apart from the `#name` and `:value` placeholders it
//! uses, in maps shared by every expression of one request. An [`Expr`] keeps the three
//! together, so a condition built in one place and an update built in another can be joined
//! ([`Expr::and`], [`Expr::merge`]) and sent without anyone keeping the maps in step.
//!
//! ```
//! use ddbrel_runtime::wire::expr::Expr;
//! use ddbrel_runtime::records::attrs::n;
//!
//! let fresh = Expr::new("#v = :v").name("#v", "_version").value(":v", n(3));
//! let live = Expr::new("attribute_not_exists(#del)").name("#del", "_deleting");
//! let both = fresh.and(live);
//! assert_eq!(both.text(), "(#v = :v) AND (attribute_not_exists(#del))");
//! assert_eq!(both.names().len(), 2);
//! ```

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::records::size::value_size;

/// `#name` placeholders to attribute names, as a request carries them.
pub type Names = HashMap<String, String>;
/// `:value` placeholders to values, as a request carries them.
pub type Values = HashMap<String, AttributeValue>;

/// An expression's text with the names and values its placeholders stand for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// An expression with no placeholders bound yet.
    pub fn new(text: impl Into<String>) -> Expr {
        Expr {
            text: text.into(),
            ..Expr::default()
        }
    }

    /// The same placeholders under another text (for expressions whose clauses are gathered
    /// while their placeholders are bound).
    pub fn with_text(mut self, text: impl Into<String>) -> Expr {
        self.text = text.into();
        self
    }

    /// Binds `#placeholder` to an attribute name.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Expr {
        self.names
            .insert(placeholder.to_string(), attribute.to_string());
        self
    }

    /// Binds `:placeholder` to a value.
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Expr {
        self.values.insert(placeholder.to_string(), value);
        self
    }

    /// Both conditions: `(self) AND (other)`, with the placeholders of both.
    pub fn and(self, other: Expr) -> Expr {
        let text = match (self.text.is_empty(), other.text.is_empty()) {
            (true, _) => other.text.clone(),
            (_, true) => self.text.clone(),
            _ => format!("({}) AND ({})", self.text, other.text),
        };
        let mut out = self.merge_maps(other);
        out.text = text;
        out
    }

    /// Either condition: `(self) OR (other)`, with the placeholders of both.
    pub fn or(self, other: Expr) -> Expr {
        let text = format!("({}) OR ({})", self.text, other.text);
        let mut out = self.merge_maps(other);
        out.text = text;
        out
    }

    /// Update clauses of both, with the placeholders of both: `SET a = :a` and `ADD b :b`
    /// give `SET a = :a ADD b :b`, and clauses of one kind in both are joined into one
    /// (`ADD a :a` and `ADD b :b` give `ADD a :a, b :b`), since DynamoDB allows each kind
    /// once. The clause keywords are found as whole words; ddbrel writes every attribute and
    /// value as a placeholder, so no name or value can look like one.
    pub fn merge(self, other: Expr) -> Expr {
        let mut clauses: Vec<(&str, Vec<String>)> = Vec::new();
        for text in [self.text.as_str(), other.text.as_str()] {
            for (keyword, body) in update_clauses(text) {
                match clauses.iter_mut().find(|(k, _)| *k == keyword) {
                    Some((_, bodies)) => bodies.push(body),
                    None => clauses.push((keyword, vec![body])),
                }
            }
        }
        let text = clauses
            .iter()
            .map(|(keyword, bodies)| format!("{keyword} {}", bodies.join(", ")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut out = self.merge_maps(other);
        out.text = text;
        out
    }

    fn merge_maps(mut self, other: Expr) -> Expr {
        self.names.extend(other.names);
        self.values.extend(other.values);
        self
    }

    /// The expression's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The `#name` placeholders and the attributes they stand for.
    pub fn names(&self) -> &HashMap<String, String> {
        &self.names
    }

    /// The `:value` placeholders and their values.
    pub fn values(&self) -> &HashMap<String, AttributeValue> {
        &self.values
    }

    /// The bytes this expression adds to a request (text, names and values).
    pub fn size(&self) -> usize {
        self.text.len()
            + self
                .names
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
            + self
                .values
                .iter()
                .map(|(k, v)| k.len() + value_size(v))
                .sum::<usize>()
    }
}

/// The shared name and value maps of a request's expressions, `None` when empty (DynamoDB
/// refuses empty maps). A placeholder bound twice must mean the same thing in both; the
/// constructors of this crate use one spelling per attribute.
pub(crate) fn shared_maps<'a>(
    exprs: impl IntoIterator<Item = &'a Expr>,
) -> (Option<Names>, Option<Values>) {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    for e in exprs {
        names.extend(e.names.iter().map(|(k, v)| (k.clone(), v.clone())));
        values.extend(e.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    (
        (!names.is_empty()).then_some(names),
        (!values.is_empty()).then_some(values),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_keeps_both_sets_of_placeholders_and_skips_empty_sides() {
        let a = Expr::new("#a = :a")
            .name("#a", "x")
            .value(":a", AttributeValue::N("1".into()));
        let b = Expr::new("attribute_exists(#b)").name("#b", "y");
        let both = a.clone().and(b.clone());
        assert_eq!(both.text(), "(#a = :a) AND (attribute_exists(#b))");
        assert_eq!(both.names().len(), 2);
        assert_eq!(both.values().len(), 1);
        assert_eq!(Expr::default().and(b.clone()), b);
        assert_eq!(a.clone().and(Expr::default()), a);
    }

    #[test]
    fn merge_joins_update_clauses() {
        let set = Expr::new("SET #a = :a")
            .name("#a", "x")
            .value(":a", AttributeValue::S("v".into()));
        let add = Expr::new("ADD #c :one")
            .name("#c", "n")
            .value(":one", AttributeValue::N("1".into()));
        let m = set.merge(add);
        assert_eq!(m.text(), "SET #a = :a ADD #c :one");
        let (names, values) = shared_maps([&m]);
        assert_eq!(names.map(|n| n.len()), Some(2));
        assert_eq!(values.map(|v| v.len()), Some(2));
        assert_eq!(shared_maps([&Expr::new("x")]), (None, None));
    }
}

/// The clauses of an update expression: each keyword (`SET`, `REMOVE`, `ADD`, `DELETE`) with
/// the text up to the next one.
fn update_clauses(text: &str) -> Vec<(&'static str, String)> {
    const KEYWORDS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for word in text.split_whitespace() {
        match KEYWORDS.iter().find(|k| **k == word) {
            Some(keyword) => out.push((keyword, String::new())),
            None => match out.last_mut() {
                Some((_, body)) => {
                    if !body.is_empty() {
                        body.push(' ');
                    }
                    body.push_str(word);
                }
                // Text before any keyword is not an update expression; keep it as it is.
                None => out.push(("", word.to_string())),
            },
        }
    }
    out
}

#[cfg(test)]
mod merge_tests {
    use super::Expr;

    #[test]
    fn clauses_of_one_kind_are_joined() {
        let a = Expr::new("SET #a = :a, #b = :b ADD #v :one DELETE #s :s");
        let b = Expr::new("ADD #cc :cc, #mo :mo");
        assert_eq!(
            a.merge(b).text(),
            "SET #a = :a, #b = :b ADD #v :one, #cc :cc, #mo :mo DELETE #s :s"
        );
        let c = Expr::new("SET #x = if_not_exists(#x, :z) REMOVE #r");
        assert_eq!(
            c.merge(Expr::new("SET #y = :y")).text(),
            "SET #x = if_not_exists(#x, :z), #y = :y REMOVE #r"
        );
        assert_eq!(
            Expr::default().merge(Expr::new("ADD #a :a")).text(),
            "ADD #a :a"
        );
    }
}
