//! Unique constraints: the values that can be unique keys, their normalization and the
//! injective encoding of a marker's key.
//!
//! A `UniqueKeyValue` marker's key is
//! `unique#{resourceType}#{constraint}#{scope}#{value}`, where scope is `global` or the scoping
//! URN, and value is the normalized parts, each escaped (`%` → `%25`, `#` → `%23`) and joined
//! with `#`. Escaping makes the encoding injective: no value, and no composite, can produce the
//! key of another.

use unicode_normalization::UnicodeNormalization;

use crate::entity::{UniqueConstraint, UniqueScope};
use crate::error::{Error, Result};
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

/// The value segment of a marker key: each part normalized, escaped, joined with `#`.
pub fn encode_value(parts: &[String], case_insensitive: bool) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('#');
        }
        escape(&normalize(part, case_insensitive), &mut out);
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
    let key = format!(
        "unique#{resource_type}#{}#{scope}#{}",
        constraint.name,
        encode_value(parts, constraint.case_insensitive)
    );
    if key.len() > MAX_MARKER_KEY_BYTES {
        let mut end = 120;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        return Err(Error::KeyTooLong {
            attribute: format!("unique constraint {resource_type}.{}", constraint.name),
            key: format!("{}…", &key[..end]),
            size: key.len(),
            limit: MAX_MARKER_KEY_BYTES,
        });
    }
    Ok(key)
}

/// Resolves a constraint's scope to the text in the marker key.
pub fn scope_text<'a>(
    resource_type: &str,
    constraint: &UniqueConstraint,
    account: Option<&'a AnyUrn>,
    parent: Option<&'a AnyUrn>,
) -> Result<&'a str> {
    let missing = |what: &str| Error::Encode {
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
        out.push(Marker {
            constraint: constraint.name,
            key: marker_key(E::RESOURCE_TYPE, constraint, scope, &parts)?,
            value: encode_value(&parts, constraint.case_insensitive),
        });
    }
    Ok(out)
}

impl crate::Store {
    /// Looks a resource up by the value of one of its unique constraints: two strongly
    /// consistent reads (the marker, then its owner). `scope` is the account URN for
    /// `scope = account` constraints and the parent URN for `scope = parent`; `parts` are the
    /// raw values (one per field of the constraint), normalized here as on write.
    ///
    /// The generated `find_by_<constraint>` functions call this.
    #[tracing::instrument(name = "ddbrel.find_unique", skip_all, fields(resource_type = E::RESOURCE_TYPE, constraint))]
    pub async fn find_unique<E: crate::Entity>(
        &self,
        constraint: &str,
        scope: Option<&AnyUrn>,
        parts: Vec<String>,
    ) -> Result<Option<crate::Stored<E>>> {
        match self
            .find_unique_item(E::descriptor(), constraint, scope, parts)
            .await?
        {
            None => Ok(None),
            Some(item) => crate::Stored::from_item(item).map(Some),
        }
    }

    /// [`Store::find_unique`] for a type known only by its descriptor: returns the owner's raw
    /// item.
    pub async fn find_unique_item(
        &self,
        descriptor: &crate::EntityDescriptor,
        constraint: &str,
        scope: Option<&AnyUrn>,
        parts: Vec<String>,
    ) -> Result<Option<crate::Item>> {
        let rt = descriptor.resource_type;
        let c = descriptor
            .unique
            .iter()
            .find(|c| c.name == constraint)
            .ok_or_else(|| Error::Encode {
                what: format!("lookup on {rt}"),
                reason: format!(
                    "{rt} has no unique constraint {constraint:?} (it has: {})",
                    descriptor
                        .unique
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        if parts.len() != c.fields.len() {
            return Err(Error::Encode {
                what: format!("lookup on {rt}.{constraint}"),
                reason: format!("expected {} values, got {}", c.fields.len(), parts.len()),
            });
        }
        let scope_text = match c.scope {
            UniqueScope::Global => "global",
            _ => scope
                .ok_or_else(|| Error::Encode {
                    what: format!("lookup on {rt}.{constraint}"),
                    reason: format!("scope {} needs the scoping URN", c.scope.as_str()),
                })?
                .as_str(),
        };
        let key = marker_key(rt, c, scope_text, &parts)?;
        let Some(marker) = self.get_item(&key, &key).await? else {
            return Ok(None);
        };
        let owner = crate::codec::get_urn(&marker, crate::schema::attr::OWNER_URN)?;
        if owner.resource_type() != rt {
            return Err(Error::invalid_item(
                &key,
                format!("marker owner {owner} is not a {rt}"),
            ));
        }
        match self.get_item(owner.as_str(), owner.as_str()).await? {
            Some(item)
                if crate::codec::get_ss(&item, crate::schema::attr::UNIQUE_KEYS)?
                    .contains(&key) =>
            {
                Ok(Some(item))
            }
            _ => {
                tracing::warn!(marker = %key, owner = %owner, "dangling uniqueness marker");
                Ok(None)
            }
        }
    }
}
