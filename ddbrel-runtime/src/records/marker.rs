//! The UniqueKeyValue record (SCHEMA.md §5.4, §6): a uniqueness marker, `PK = SK` its key.
//!
//! A marker's key is `unique#{resourceType}#{constraint}#{scope}#{value}`, where scope is
//! `global` or the scoping URN, and value is the normalized parts, each escaped (`%` → `%25`,
//! `#` → `%23`) and joined with `#`. Escaping makes the encoding injective: no value, and no
//! composite, can produce the key of another.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::Item;
use crate::entity::Entity;
use crate::entity::{UniqueConstraint, UniqueScope};
use crate::error::{Error, Result};
use crate::records::attrs::{n, s};
use crate::schema::{PK, RecordType, SK, attr, keys};
use crate::time;
use crate::urn::{AnyUrn, Urn};

/// The largest key a marker may have (it is both `PK` and `SK`; DynamoDB's sort-key limit).
pub const MAX_MARKER_KEY_BYTES: usize = 1024;

/// A value that can be (part of) a unique key: text, integers, booleans, UUIDs and URNs, and
/// `Option`s of them (`None` holds no marker).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a unique key",
    label = "not a unique-key type",
    note = "unique keys are text, integers, booleans, chars, UUIDs, URNs, or an `Option` of one; floats, lists, maps and nested structs have no canonical form"
)]
pub trait UniqueKeyPart {
    /// The value's text before normalization, or `None` when it holds no marker.
    fn unique_key_part(&self) -> Option<String>;
}

macro_rules! display_parts {
    ($($t:ty),*) => {$(
        impl UniqueKeyPart for $t {
            fn unique_key_part(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
display_parts!(
    String,
    str,
    char,
    bool,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    uuid::Uuid,
    AnyUrn
);

impl<E> UniqueKeyPart for Urn<E> {
    fn unique_key_part(&self) -> Option<String> {
        Some(self.as_str().to_string())
    }
}
impl<T: UniqueKeyPart + ?Sized> UniqueKeyPart for &T {
    fn unique_key_part(&self) -> Option<String> {
        (**self).unique_key_part()
    }
}
impl<T: UniqueKeyPart> UniqueKeyPart for Option<T> {
    fn unique_key_part(&self) -> Option<String> {
        self.as_ref().and_then(UniqueKeyPart::unique_key_part)
    }
}
impl<T: UniqueKeyPart + ?Sized> UniqueKeyPart for Box<T> {
    fn unique_key_part(&self) -> Option<String> {
        (**self).unique_key_part()
    }
}

/// Normalizes one part: Unicode NFC, then lowercase when the constraint is case-insensitive.
pub fn normalize(part: &str, case_insensitive: bool) -> String {
    // ASCII text is already NFC, and its lowercase is ASCII: skip the Unicode tables.
    if part.is_ascii() {
        return if case_insensitive {
            part.to_ascii_lowercase()
        } else {
            part.to_string()
        };
    }
    let nfc: String = part.nfc().collect();
    if case_insensitive {
        // Lowercasing can leave a string that is no longer NFC; normalize again.
        nfc.to_lowercase().nfc().collect()
    } else {
        nfc
    }
}

/// Escapes one normalized part so that `#` separates parts unambiguously.
fn escape(part: &str, out: &mut String) {
    for c in part.chars() {
        match c {
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
}

/// Normalizes and escapes one part onto `out`. ASCII text (already NFC) is lowercased and
/// escaped in one pass, without an intermediate string.
fn push_part(part: &str, case_insensitive: bool, out: &mut String) {
    if part.is_ascii() {
        out.reserve(part.len());
        for b in part.bytes() {
            match b {
                b'%' => out.push_str("%25"),
                b'#' => out.push_str("%23"),
                b if case_insensitive => out.push(char::from(b.to_ascii_lowercase())),
                b => out.push(char::from(b)),
            }
        }
    } else {
        escape(&normalize(part, case_insensitive), out);
    }
}

/// The value segment of a marker key: each part normalized, escaped, joined with `#`.
pub fn encode_value(parts: &[String], case_insensitive: bool) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('#');
        }
        push_part(part, case_insensitive, &mut out);
    }
    out
}

/// The full marker key `unique#{resourceType}#{constraint}#{scope}#{value}`, refused when over
/// [`MAX_MARKER_KEY_BYTES`]. `scope` is `global` or the account or parent URN, resolved by the
/// caller from the constraint's [`crate::UniqueScope`].
pub fn marker_key(
    resource_type: &str,
    constraint: &UniqueConstraint,
    scope: &str,
    parts: &[String],
) -> Result<String> {
    marker_key_of(
        resource_type,
        constraint.name,
        constraint.case_insensitive,
        scope,
        parts,
    )
}

/// [`marker_key`] from the constraint's name and case rule (for a declaration read from the
/// type registry rather than compiled in).
pub fn marker_key_of(
    resource_type: &str,
    constraint: &str,
    case_insensitive: bool,
    scope: &str,
    parts: &[String],
) -> Result<String> {
    let value = encode_value(parts, case_insensitive);
    key_of_value(resource_type, constraint, scope, &value)
}

/// [`marker_key`] from the encoded value.
fn key_of_value(resource_type: &str, constraint: &str, scope: &str, value: &str) -> Result<String> {
    let key = keys::marker_key(resource_type, constraint, scope, value);
    if key.len() > MAX_MARKER_KEY_BYTES {
        let mut end = 120;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        return Err(Error::KeyTooLong {
            attribute: format!("unique constraint {resource_type}.{constraint}"),
            key: format!("{}…", &key[..end]),
            size: key.len(),
            limit: MAX_MARKER_KEY_BYTES,
        });
    }
    Ok(key)
}

/// Splits a marker key `unique#{resourceType}#{constraint}#{scope}#{value}` back into its
/// resource type, constraint name, scope (`global` or the scoping URN) and encoded value
/// (SCHEMA.md §6: the encoding is injective, so the split is unique). `None` when the key does
/// not have that form. The value may be empty (an empty string holds a marker).
pub fn split_key(key: &str) -> Option<(&str, &str, &str, &str)> {
    let rest = key.strip_prefix(crate::schema::UNIQUE_PREFIX)?;
    let (resource_type, rest) = rest.split_once('#')?;
    let (constraint, rest) = rest.split_once('#')?;
    let (scope, value) = rest.split_once('#')?;
    if resource_type.is_empty() || constraint.is_empty() || scope.is_empty() {
        return None;
    }
    Some((resource_type, constraint, scope, value))
}

/// The parts of an encoded value ([`encode_value`]) as normalized: split at `#`, each part
/// unescaped (`%23` → `#`, `%25` → `%`). Normalization is not undone: a case-insensitive
/// constraint's parts come back lowercased.
pub fn decode_value(value: &str) -> Vec<String> {
    value
        .split('#')
        .map(|part| part.replace("%23", "#").replace("%25", "%"))
        .collect()
}

/// Resolves a constraint's scope to the text in the marker key.
pub fn scope_text<'a>(
    resource_type: &str,
    constraint: &UniqueConstraint,
    account: Option<&'a AnyUrn>,
    parent: Option<&'a AnyUrn>,
) -> Result<&'a str> {
    let missing = |what: &str| Error::InvalidArgument {
        what: format!("unique constraint {resource_type}.{}", constraint.name),
        reason: format!(
            "scope {} needs the resource's {what}, which it has none of",
            constraint.scope.as_str()
        ),
    };
    Ok(match constraint.scope {
        UniqueScope::Global => "global",
        UniqueScope::Account => account.ok_or_else(|| missing("account"))?.as_str(),
        UniqueScope::Parent => parent.ok_or_else(|| missing("parent"))?.as_str(),
    })
}

/// A marker a resource holds: which constraint, its key, its encoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The constraint's name.
    pub constraint: &'static str,
    /// The marker's key (`PK` = `SK`).
    pub key: String,
    /// The normalized, encoded value.
    pub value: String,
    /// The value as the caller wrote it (the fields' values joined by `", "`), for messages.
    pub written: String,
}

/// The markers an entity's values need, given its account and parent.
pub fn markers_for<E: crate::Entity>(
    data: &E,
    account: Option<&AnyUrn>,
    parent: Option<&AnyUrn>,
) -> Result<Vec<Marker>> {
    let constraints = E::descriptor().unique;
    let parts = data.unique_parts();
    let mut out = Vec::new();
    for (constraint, parts) in constraints.iter().zip(parts) {
        let Some(parts) = parts else { continue };
        let scope = scope_text(E::RESOURCE_TYPE, constraint, account, parent)?;
        let value = encode_value(&parts, constraint.case_insensitive);
        out.push(Marker {
            constraint: constraint.name,
            key: key_of_value(E::RESOURCE_TYPE, constraint.name, scope, &value)?,
            value,
            written: parts.join(", "),
        });
    }
    Ok(out)
}

/// A UniqueKeyValue record of an entity type's constraint.
pub(crate) fn marker_item<E: Entity>(
    m: &Marker,
    owner: &str,
    now: &crate::time::Timestamp,
) -> Item {
    marker_record(
        &m.key,
        owner,
        &format!("{}.{}", E::RESOURCE_TYPE, m.constraint),
        now,
    )
}

/// A UniqueKeyValue record: `key` held by `owner` for `constraint`
/// (`{resourceType}.{constraint}`).
pub(crate) fn marker_record(
    key: &str,
    owner: &str,
    constraint: &str,
    now: &crate::time::Timestamp,
) -> Item {
    HashMap::from([
        (PK.into(), s(key)),
        (SK.into(), s(key)),
        (attr::TYPE.into(), s(RecordType::UniqueKeyValue.as_str())),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::OWNER_URN.into(), s(owner)),
        (attr::CONSTRAINT.into(), s(constraint)),
    ])
}
