//! The checker and its attribute readers: each reports what is wrong with an attribute and
//! returns what it could read.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use super::records::{Count, describe};
use super::repair::Action;
use super::{Finding, FindingKind};
use crate::Item;
use crate::schema::{GSI1PK, GSI1SK, PK, SK, attr};
use crate::urn::AnyUrn;

/// Collects the findings of both passes.
#[derive(Default)]
pub(super) struct Checker {
    /// The findings so far, in the order found.
    pub(super) out: Vec<Finding>,
}

impl Checker {
    /// Reports a finding with no automatic fix.
    pub(super) fn push(
        &mut self,
        kind: FindingKind,
        invariant: &'static str,
        key: &str,
        message: impl Into<String>,
    ) {
        self.push_fix(kind, invariant, key, message, Vec::new());
    }

    /// Reports a finding that [`super::repair()`] fixes with `actions`.
    pub(super) fn push_fix(
        &mut self,
        kind: FindingKind,
        invariant: &'static str,
        key: &str,
        message: impl Into<String>,
        actions: Vec<Action>,
    ) {
        self.out.push(Finding {
            kind,
            invariant,
            key: key.to_string(),
            message: message.into(),
            actions,
        });
    }

    /// A layout problem (sections 4 and 5).
    pub(super) fn layout(&mut self, key: &str, message: impl Into<String>) {
        self.push(FindingKind::Schema, "record", key, message);
    }

    // --- attribute readers: each reports what is wrong and returns what it could read ---

    /// A required non-empty string.
    pub(super) fn req_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        match item.get(name) {
            None => {
                self.layout(key, format!("missing attribute {name}"));
                None
            }
            Some(v) => self.s_value(key, name, v),
        }
    }

    /// An optional non-empty string.
    pub(super) fn opt_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name).and_then(|v| self.s_value(key, name, v))
    }

    fn s_value<'a>(&mut self, key: &str, name: &str, v: &'a AttributeValue) -> Option<&'a str> {
        match v {
            AttributeValue::S(s) if !s.is_empty() => Some(s),
            AttributeValue::S(_) => {
                self.layout(key, format!("attribute {name} is an empty string"));
                None
            }
            other => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not S", describe(other)),
                );
                None
            }
        }
    }

    /// A URN; `what` names the attribute in the message.
    pub(super) fn urn(&mut self, key: &str, what: &str, s: &str) -> Option<AnyUrn> {
        match AnyUrn::parse(s) {
            Ok(u) => Some(u),
            Err(e) => {
                self.layout(key, format!("{what} is not a URN: {e}"));
                None
            }
        }
    }

    pub(super) fn req_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.req_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    pub(super) fn opt_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.opt_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    /// A required integer (N).
    pub(super) fn req_n(&mut self, key: &str, item: &Item, name: &str) -> Option<i128> {
        match item.get(name) {
            None => {
                self.layout(key, format!("missing attribute {name}"));
                None
            }
            Some(v) => self.n_value(key, name, v),
        }
    }

    fn n_value(&mut self, key: &str, name: &str, v: &AttributeValue) -> Option<i128> {
        match v {
            AttributeValue::N(n) => match n.parse::<i128>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.layout(key, format!("attribute {name} = {n} is not an integer"));
                    None
                }
            },
            other => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not N", describe(other)),
                );
                None
            }
        }
    }

    /// An optional count (N >= 0), absent = 0.
    pub(super) fn count(&mut self, key: &str, item: &Item, name: &str) -> Count {
        match item.get(name) {
            None => Count {
                value: 0,
                present: false,
                readable: true,
            },
            Some(v) => match self.n_value(key, name, v) {
                Some(n) => {
                    if n < 0 {
                        self.push(
                            FindingKind::CountMismatch,
                            "counts",
                            key,
                            format!("{name} is negative ({n})"),
                        );
                    }
                    Count {
                        value: n,
                        present: true,
                        readable: true,
                    }
                }
                None => Count {
                    value: 0,
                    present: true,
                    readable: false,
                },
            },
        }
    }

    /// A timestamp in the exact `YYYY-MM-DDTHH:MM:SS.mmmZ` form.
    pub(super) fn timestamp(
        &mut self,
        key: &str,
        name: &str,
        s: &str,
    ) -> Option<crate::time::Timestamp> {
        match crate::time::parse(s) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.layout(key, format!("attribute {name}: {reason}"));
                None
            }
        }
    }

    /// An optional string set (absent = empty; DynamoDB sets are never empty).
    pub(super) fn ss(&mut self, key: &str, item: &Item, name: &str) -> Vec<String> {
        match item.get(name) {
            None => Vec::new(),
            Some(AttributeValue::Ss(v)) => {
                if v.is_empty() {
                    self.layout(key, format!("attribute {name} is an empty set"));
                }
                v.clone()
            }
            Some(other) => {
                self.layout(
                    key,
                    format!("attribute {name} is {}, not SS", describe(other)),
                );
                Vec::new()
            }
        }
    }

    /// An optional string set of URNs.
    pub(super) fn urn_set(&mut self, key: &str, item: &Item, name: &str) -> BTreeSet<AnyUrn> {
        self.ss(key, item, name)
            .iter()
            .filter_map(|s| self.urn(key, &format!("an element of {name}"), s))
            .collect()
    }

    /// Reports reserved attributes (and, on records without entity fields, any attribute)
    /// that `known` does not list.
    pub(super) fn known_attributes(
        &mut self,
        key: &str,
        item: &Item,
        known: &[&str],
        entity_fields: bool,
    ) {
        let mut names: Vec<&String> = item.keys().collect();
        names.sort();
        for name in names {
            // Index keys out of place have rules of their own (I5, I7).
            if known.contains(&name.as_str())
                || [PK, SK, GSI1PK, GSI1SK, attr::ACCOUNT_URN].contains(&name.as_str())
            {
                continue;
            }
            if name.starts_with('_') || !entity_fields {
                self.layout(
                    key,
                    format!("attribute {name} does not belong on this record type"),
                );
            }
        }
    }
}
