//! Typed filters over an entity's stored fields: a DynamoDB FilterExpression built from the
//! derive's field paths, so a filter on a field the entity does not have, or with a value of
//! the wrong type, is a compile error.
//!
//! ```
//! use ddbrel_runtime::{Entity, Filter};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
//! #[urn(type = "Docs.Task")]
//! struct Task {
//!     title: String,
//!     priority: u8,
//!     owner: Option<String>,
//! }
//!
//! let f = Task::fields();
//! let urgent_and_mine: Filter<Task> = f
//!     .priority
//!     .ge(3)
//!     .and(f.title.begins_with("fix"))
//!     .and(f.owner.equals(Some("ada".to_string())));
//! let unowned = f.owner.not_exists();
//! let either = urgent_and_mine.or(!unowned);
//! # let _ = either;
//! ```
//!
//! A filter narrows what a listing returns; it does **not** reduce what the listing reads:
//! DynamoDB applies a FilterExpression after reading a page (and bills the page), and the
//! listings of related data apply it to the resources they read. A page can therefore hold
//! fewer items than its limit, or none, and still have a cursor to the next.
//!
//! Comparisons follow DynamoDB's rules, here and where a filter is evaluated on resources
//! already read: numbers compare as numbers, strings by their UTF-8 bytes, a missing attribute
//! or a value of another type makes `=`, `<`, `<=`, `>`, `>=`, `BETWEEN` and `begins_with`
//! false and `<>` true.

use std::cmp::Ordering;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::Item;
use crate::entity::Field;
use crate::error::{Error, Result};
use crate::wire::expr::Expr;

/// A condition on the stored fields of entity `E`. Built from the field paths the derive
/// generates (`Job::fields().status.equals(JobStatus::Active)`), combined with
/// [`and`](Filter::and), [`or`](Filter::or) and `!`.
pub struct Filter<E> {
    node: Node,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Filter<E> {
    fn clone(&self) -> Self {
        Filter {
            node: self.node.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Filter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = Vec::new();
        let text = self.node.text(&mut names, &mut Vec::new());
        let mut shown = text;
        for (i, attr) in names.iter().enumerate().rev() {
            shown = shown.replace(&format!("#f{i}"), attr);
        }
        f.debug_tuple("Filter").field(&shown).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Compare(&'static str, Op, AttributeValue),
    Between(&'static str, AttributeValue, AttributeValue),
    BeginsWith(&'static str, String),
    Exists(&'static str, bool),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// A value that did not encode: reported when the filter is used.
    Invalid(&'static str, String),
}

impl<E> Filter<E> {
    fn new(node: Node) -> Self {
        Filter {
            node,
            _entity: PhantomData,
        }
    }

    /// Both conditions.
    pub fn and(self, other: Filter<E>) -> Filter<E> {
        Filter::new(Node::And(Box::new(self.node), Box::new(other.node)))
    }

    /// Either condition.
    pub fn or(self, other: Filter<E>) -> Filter<E> {
        Filter::new(Node::Or(Box::new(self.node), Box::new(other.node)))
    }

    /// The FilterExpression, with placeholders `#f0…` and `:f0…` (apart from those of any key
    /// condition). [`Error::Encode`] when a value given to the filter did not encode.
    pub fn expression(&self) -> Result<Expr> {
        if let Some(e) = self.node.invalid() {
            return Err(e);
        }
        let (mut names, mut values) = (Vec::new(), Vec::new());
        let text = self.node.text(&mut names, &mut values);
        let mut expr = Expr::new(text);
        for (i, n) in names.iter().enumerate() {
            expr = expr.name(&format!("#f{i}"), n);
        }
        for (i, v) in values.into_iter().enumerate() {
            expr = expr.value(&format!(":f{i}"), v);
        }
        Ok(expr)
    }

    /// Whether a stored item satisfies the filter, by DynamoDB's rules (see the module docs).
    pub fn matches(&self, item: &Item) -> Result<bool> {
        if let Some(e) = self.node.invalid() {
            return Err(e);
        }
        Ok(self.node.eval(item))
    }
}

impl<E> std::ops::Not for Filter<E> {
    type Output = Filter<E>;

    /// The condition does not hold.
    fn not(self) -> Filter<E> {
        Filter::new(Node::Not(Box::new(self.node)))
    }
}

impl Node {
    fn invalid(&self) -> Option<Error> {
        match self {
            Node::Invalid(attr, reason) => Some(Error::Encode {
                what: format!("the filter value for `{attr}`"),
                reason: reason.clone(),
            }),
            Node::And(a, b) | Node::Or(a, b) => a.invalid().or_else(|| b.invalid()),
            Node::Not(a) => a.invalid(),
            _ => None,
        }
    }

    fn text(&self, names: &mut Vec<&'static str>, values: &mut Vec<AttributeValue>) -> String {
        let mut name = |a: &'static str| {
            let i = names.iter().position(|n| *n == a).unwrap_or_else(|| {
                names.push(a);
                names.len() - 1
            });
            format!("#f{i}")
        };
        let value = |v: AttributeValue, values: &mut Vec<AttributeValue>| {
            values.push(v);
            format!(":f{}", values.len() - 1)
        };
        match self {
            Node::Compare(a, op, v) => {
                let n = name(a);
                format!("{n} {} {}", op.symbol(), value(v.clone(), values))
            }
            Node::Between(a, lo, hi) => {
                let n = name(a);
                let lo = value(lo.clone(), values);
                format!("{n} BETWEEN {lo} AND {}", value(hi.clone(), values))
            }
            Node::BeginsWith(a, p) => {
                let n = name(a);
                format!(
                    "begins_with({n}, {})",
                    value(AttributeValue::S(p.clone()), values)
                )
            }
            Node::Exists(a, true) => format!("attribute_exists({})", name(a)),
            Node::Exists(a, false) => format!("attribute_not_exists({})", name(a)),
            Node::And(a, b) => format!(
                "({}) AND ({})",
                a.text(names, values),
                b.text(names, values)
            ),
            Node::Or(a, b) => format!("({}) OR ({})", a.text(names, values), b.text(names, values)),
            Node::Not(a) => format!("NOT ({})", a.text(names, values)),
            Node::Invalid(..) => String::new(),
        }
    }

    fn eval(&self, item: &Item) -> bool {
        match self {
            Node::Compare(a, op, v) => {
                let ord = item.get(*a).and_then(|x| compare(x, v));
                match op {
                    Op::Eq => ord == Some(Ordering::Equal),
                    Op::Ne => ord != Some(Ordering::Equal),
                    Op::Lt => ord == Some(Ordering::Less),
                    Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    Op::Gt => ord == Some(Ordering::Greater),
                    Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
            Node::Between(a, lo, hi) => item.get(*a).is_some_and(|x| {
                matches!(compare(x, lo), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(compare(x, hi), Some(Ordering::Less | Ordering::Equal))
            }),
            Node::BeginsWith(a, p) => {
                matches!(item.get(*a), Some(AttributeValue::S(s)) if s.starts_with(p.as_str()))
            }
            Node::Exists(a, present) => item.contains_key(*a) == *present,
            Node::And(a, b) => a.eval(item) && b.eval(item),
            Node::Or(a, b) => a.eval(item) || b.eval(item),
            Node::Not(a) => !a.eval(item),
            Node::Invalid(..) => false,
        }
    }
}

/// How two values compare by DynamoDB's rules: `None` when they cannot be compared (other
/// types; sets, lists and maps are only equal or not).
fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    use AttributeValue as V;
    match (a, b) {
        (V::S(x), V::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::N(x), V::N(y)) => compare_numbers(x, y),
        (V::B(x), V::B(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Bool(x), V::Bool(y)) => (x == y).then_some(Ordering::Equal),
        (V::Null(_), V::Null(_)) => Some(Ordering::Equal),
        (V::Ss(x), V::Ss(y)) => same_set(x, y),
        (V::Ns(x), V::Ns(y)) => {
            let eq = x.len() == y.len()
                && x.iter().all(|a| {
                    y.iter()
                        .any(|b| compare_numbers(a, b) == Some(Ordering::Equal))
                });
            eq.then_some(Ordering::Equal)
        }
        (V::L(x), V::L(y)) => {
            let eq = x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| compare(a, b) == Some(Ordering::Equal));
            eq.then_some(Ordering::Equal)
        }
        (V::M(x), V::M(y)) => {
            let eq = x.len() == y.len()
                && x.iter().all(|(k, a)| {
                    y.get(k)
                        .is_some_and(|b| compare(a, b) == Some(Ordering::Equal))
                });
            eq.then_some(Ordering::Equal)
        }
        _ => None,
    }
}

fn same_set(x: &[String], y: &[String]) -> Option<Ordering> {
    let mut x: Vec<&String> = x.iter().collect();
    let mut y: Vec<&String> = y.iter().collect();
    x.sort();
    y.sort();
    x.dedup();
    y.dedup();
    (x == y).then_some(Ordering::Equal)
}

/// Two DynamoDB numbers (decimal strings of up to 38 digits) compared exactly; `None` if
/// either is not a number.
fn compare_numbers(a: &str, b: &str) -> Option<Ordering> {
    let (na, ia, fa) = parse_number(a)?;
    let (nb, ib, fb) = parse_number(b)?;
    let zero_a = ia.is_empty() && fa.is_empty();
    let zero_b = ib.is_empty() && fb.is_empty();
    let (na, nb) = (na && !zero_a, nb && !zero_b);
    if na != nb {
        return Some(if na {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let magnitude = ia
        .len()
        .cmp(&ib.len())
        .then_with(|| ia.cmp(ib))
        .then_with(|| fa.cmp(fb));
    Some(if na { magnitude.reverse() } else { magnitude })
}

/// A decimal's sign and its digits before and after the point, without leading zeros before
/// and trailing zeros after (`-007.50` is `(true, "7", "5")`). Exponents are expanded.
fn parse_number(s: &str) -> Option<(bool, &str, &str)> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if s.contains(['e', 'E']) {
        // Rare in stored numbers (serde writes plain decimals); not ordered exactly here.
        return None;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    Some((neg, int.trim_start_matches('0'), frac.trim_end_matches('0')))
}

fn encode<T: serde::Serialize>(value: &T) -> std::result::Result<AttributeValue, String> {
    serde_dynamo::to_attribute_value(value).map_err(|e| e.to_string())
}

impl<E, T: serde::Serialize> Field<E, T> {
    fn compare(self, op: Op, value: &T) -> Filter<E> {
        Filter::new(match encode(value) {
            Ok(v) => Node::Compare(self.attribute(), op, v),
            Err(reason) => Node::Invalid(self.attribute(), reason),
        })
    }

    /// The field equals `value` (as stored: an enum by its serde name, a number as a number).
    pub fn equals(self, value: T) -> Filter<E> {
        self.compare(Op::Eq, &value)
    }

    /// The field does not equal `value`; true also where the field is absent.
    pub fn not_equals(self, value: T) -> Filter<E> {
        self.compare(Op::Ne, &value)
    }
}

impl<E, T: serde::Serialize + PartialOrd> Field<E, T> {
    /// The field is less than `value`.
    pub fn lt(self, value: T) -> Filter<E> {
        self.compare(Op::Lt, &value)
    }

    /// The field is at most `value`.
    pub fn le(self, value: T) -> Filter<E> {
        self.compare(Op::Le, &value)
    }

    /// The field is greater than `value`.
    pub fn gt(self, value: T) -> Filter<E> {
        self.compare(Op::Gt, &value)
    }

    /// The field is at least `value`.
    pub fn ge(self, value: T) -> Filter<E> {
        self.compare(Op::Ge, &value)
    }

    /// The field is between `low` and `high`, both included.
    pub fn between(self, low: T, high: T) -> Filter<E> {
        Filter::new(match (encode(&low), encode(&high)) {
            (Ok(lo), Ok(hi)) => Node::Between(self.attribute(), lo, hi),
            (Err(reason), _) | (_, Err(reason)) => Node::Invalid(self.attribute(), reason),
        })
    }
}

/// A field stored as a string: `String`, or `Option<String>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not stored as a string, so a filter cannot test what it begins with",
    label = "a field of type `{Self}`",
    note = "`begins_with` is for `String` and `Option<String>` fields"
)]
pub trait Text: text_sealed::Sealed {}

mod text_sealed {
    pub trait Sealed {}
    impl Sealed for String {}
    impl Sealed for Option<String> {}
}

impl Text for String {}
impl Text for Option<String> {}

impl<E, T> Field<E, T> {
    /// The field is a string that begins with `prefix` (byte-wise, case-sensitive).
    pub fn begins_with(self, prefix: impl Into<String>) -> Filter<E>
    where
        T: Text,
    {
        Filter::new(Node::BeginsWith(self.attribute(), prefix.into()))
    }
}

impl<E, T> Field<E, Option<T>> {
    /// The field is present (an `Option` field that is `Some`).
    pub fn exists(self) -> Filter<E> {
        Filter::new(Node::Exists(self.attribute(), true))
    }

    /// The field is absent (an `Option` field that is `None`).
    pub fn not_exists(self) -> Filter<E> {
        Filter::new(Node::Exists(self.attribute(), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly_and_by_value() {
        use Ordering::*;
        let cases = [
            ("1", "1.0", Equal),
            ("-0", "0", Equal),
            ("10", "9", Greater),
            ("-10", "-9", Less),
            ("0.5", "0.45", Greater),
            (
                "12345678901234567890123456789012345678",
                "12345678901234567890123456789012345677",
                Greater,
            ),
            ("-1", "0.1", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_numbers(a, b), Some(want), "{a} vs {b}");
            assert_eq!(compare_numbers(b, a), Some(want.reverse()), "{b} vs {a}");
        }
        assert_eq!(compare_numbers("x", "1"), None);
        assert_eq!(compare_numbers(".", "1"), None);
    }
}
