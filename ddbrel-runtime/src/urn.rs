//! URNs: `urn:{domain}:{resourceType}::{resourceId}`.
//!
//! - domain: `[a-z][a-z0-9-]{0,31}` (default `pp`);
//! - resourceType: one or more dot-separated PascalCase segments `[A-Z][A-Za-z0-9]*`;
//! - resourceId: a canonical lowercase hyphenated UUID of version 7 with the RFC 9562 variant.
//!
//! Parsing is strict and every rejection names the part that is wrong. [`AnyUrn`] is a URN of
//! any type; [`Urn<E>`] is a URN of entity type `E` and refuses any other type.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::entity::Entity;

// The grammar that needs nothing but `std` (shared with `ddbrel-derive`, which checks
// URN types and domains at compile time) lives in `ddbrel-grammar`.
pub use ddbrel_grammar::{
    DEFAULT_DOMAIN, MAX_URN_BYTES, UrnError, UrnPart, type_prefix, validate_domain,
    validate_resource_type,
};

/// Checks a resource id: canonical lowercase hyphenated UUID, version 7, RFC 9562 variant.
fn parse_id(id: &str) -> Result<Uuid, String> {
    if id.is_empty() {
        return Err("empty resource id".into());
    }
    if id.len() != 36 {
        return Err(format!(
            "resource id must be a 36-character hyphenated UUID, found {} characters",
            id.len()
        ));
    }
    for (i, b) in id.bytes().enumerate() {
        let hyphen = matches!(i, 8 | 13 | 18 | 23);
        if hyphen {
            if b != b'-' {
                return Err(format!("resource id needs `-` at position {}", i + 1));
            }
        } else if b.is_ascii_hexdigit() {
            if b.is_ascii_uppercase() {
                return Err("resource id must be lowercase hex (canonical form)".into());
            }
        } else {
            return Err(format!(
                "resource id holds {:?} at position {}, not a hex digit",
                b as char,
                i + 1
            ));
        }
    }
    let version = id.as_bytes()[14];
    if version != b'7' {
        return Err(format!(
            "resource id is a version {} UUID; ddbrel ids are version 7",
            version as char
        ));
    }
    if !matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b') {
        return Err(
            "resource id does not have the RFC 9562 variant (8, 9, a or b at position 20)".into(),
        );
    }
    Uuid::parse_str(id).map_err(|e| format!("resource id: {e}"))
}

/// Checks a UUID for use as a resource id: version 7, RFC 9562 variant.
fn check_uuid(id: Uuid) -> Result<(), String> {
    if id.get_version_num() != 7 {
        return Err(format!(
            "resource id is a version {} UUID; ddbrel ids are version 7",
            id.get_version_num()
        ));
    }
    if id.get_variant() != uuid::Variant::RFC4122 {
        return Err("resource id does not have the RFC 9562 variant".into());
    }
    Ok(())
}

/// A URN of any resource type.
///
/// Holds the canonical string, so formatting and key building cost nothing; the parts are
/// slices of it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnyUrn {
    text: String,
    /// Byte offset of the `:` that ends the domain.
    domain_end: usize,
    /// Byte offset of the `::` that ends the resource type.
    type_end: usize,
    id: Uuid,
}

impl AnyUrn {
    /// Builds a URN from its parts, checking each.
    pub fn new(domain: &str, resource_type: &str, id: Uuid) -> Result<Self, UrnError> {
        let text = format!("urn:{domain}:{resource_type}::{id}");
        validate_domain(domain).map_err(|r| UrnError::new(&text, UrnPart::Domain, r))?;
        validate_resource_type(resource_type)
            .map_err(|r| UrnError::new(&text, UrnPart::ResourceType, r))?;
        check_uuid(id).map_err(|r| UrnError::new(&text, UrnPart::ResourceId, r))?;
        if text.len() > MAX_URN_BYTES {
            return Err(UrnError::new(
                &text,
                UrnPart::Structure,
                format!(
                    "{} bytes long; a URN holds at most {MAX_URN_BYTES} bytes to fit DynamoDB's key limits",
                    text.len()
                ),
            ));
        }
        Ok(AnyUrn {
            domain_end: 4 + domain.len(),
            type_end: 4 + domain.len() + 1 + resource_type.len(),
            text,
            id,
        })
    }

    /// Parses a URN strictly.
    pub fn parse(input: &str) -> Result<Self, UrnError> {
        let err = |part, reason: String| UrnError::new(input, part, reason);
        if input.is_empty() {
            return Err(err(UrnPart::Structure, "empty string".into()));
        }
        if input.len() > MAX_URN_BYTES {
            return Err(err(
                UrnPart::Structure,
                format!(
                    "{} bytes long; a URN holds at most {MAX_URN_BYTES} bytes to fit DynamoDB's key limits",
                    input.len()
                ),
            ));
        }
        if let Some((i, c)) = input.char_indices().find(|(_, c)| !c.is_ascii()) {
            return Err(err(
                UrnPart::Structure,
                format!("non-ASCII character {c:?} at byte {i}"),
            ));
        }
        if let Some(i) = input
            .bytes()
            .position(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(err(
                UrnPart::Structure,
                format!("whitespace or control character at byte {i}"),
            ));
        }
        let Some(rest) = input.strip_prefix("urn:") else {
            return Err(err(UrnPart::Scheme, "must start with `urn:`".into()));
        };
        let Some((domain, rest)) = rest.split_once(':') else {
            return Err(err(
                UrnPart::Structure,
                "expected `urn:{domain}:{resourceType}::{resourceId}`, missing `:` after the domain"
                    .into(),
            ));
        };
        validate_domain(domain).map_err(|r| err(UrnPart::Domain, r))?;
        let Some((resource_type, id)) = rest.split_once("::") else {
            return Err(err(
                UrnPart::Structure,
                "missing `::` between the resource type and the resource id".into(),
            ));
        };
        if resource_type.contains(':') {
            return Err(err(
                UrnPart::Structure,
                "unexpected `:` before the resource type".into(),
            ));
        }
        validate_resource_type(resource_type).map_err(|r| err(UrnPart::ResourceType, r))?;
        if id.contains(':') {
            return Err(err(
                UrnPart::Structure,
                "unexpected `:` in or after the resource id".into(),
            ));
        }
        let uuid = parse_id(id).map_err(|r| err(UrnPart::ResourceId, r))?;
        Ok(AnyUrn {
            text: input.to_string(),
            domain_end: 4 + domain.len(),
            type_end: 4 + domain.len() + 1 + resource_type.len(),
            id: uuid,
        })
    }

    /// The domain, e.g. `pp`.
    pub fn domain(&self) -> &str {
        &self.text[4..self.domain_end]
    }
    /// The resource type, e.g. `System.Account.Job`.
    pub fn resource_type(&self) -> &str {
        &self.text[self.domain_end + 1..self.type_end]
    }
    /// The resource id.
    pub fn id(&self) -> Uuid {
        self.id
    }
    /// The canonical string form.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The key-condition prefix of this URN's type: `urn:{domain}:{resourceType}::`.
    pub fn type_prefix(&self) -> &str {
        &self.text[..self.type_end + 2]
    }
    /// Whether this URN is of entity type `E` (domain and resource type).
    pub fn is<E: Entity>(&self) -> bool {
        self.domain() == E::DOMAIN && self.resource_type() == E::RESOURCE_TYPE
    }
    /// Converts to a typed URN, refusing another type.
    pub fn typed<E: Entity>(self) -> Result<Urn<E>, UrnError> {
        Urn::try_from(self)
    }
}

impl fmt::Display for AnyUrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for AnyUrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyUrn({})", self.text)
    }
}

impl FromStr for AnyUrn {
    type Err = UrnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AnyUrn::parse(s)
    }
}

impl AsRef<str> for AnyUrn {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Serialize for AnyUrn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for AnyUrn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AnyUrn::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A URN of entity type `E`: parsing or converting refuses a URN of another type or domain.
pub struct Urn<E> {
    any: AnyUrn,
    _type: PhantomData<fn() -> E>,
}

impl<E: Entity> Urn<E> {
    /// A new URN with a fresh UUID v7 id.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::from_id(Uuid::now_v7()).expect(
            "now_v7 ids are version 7 with the RFC variant, and #[derive(Entity)] bounds the type length",
        )
    }
    /// The URN of `E` with this id (which must be a version 7 UUID).
    pub fn from_id(id: Uuid) -> Result<Self, UrnError> {
        Ok(Urn {
            any: AnyUrn::new(E::DOMAIN, E::RESOURCE_TYPE, id)?,
            _type: PhantomData,
        })
    }
    /// Parses a URN strictly, refusing one of another type.
    pub fn parse(input: &str) -> Result<Self, UrnError> {
        Self::try_from(AnyUrn::parse(input)?)
    }
    /// The key-condition prefix of `E`: `urn:{domain}:{resourceType}::`.
    pub fn prefix() -> String {
        type_prefix(E::DOMAIN, E::RESOURCE_TYPE)
    }
}

impl<E> Urn<E> {
    /// The resource id.
    pub fn id(&self) -> Uuid {
        self.any.id
    }
    /// The canonical string form.
    pub fn as_str(&self) -> &str {
        &self.any.text
    }
    /// The untyped URN.
    pub fn as_any(&self) -> &AnyUrn {
        &self.any
    }
    /// Into the untyped URN.
    pub fn into_any(self) -> AnyUrn {
        self.any
    }
    /// `any` as a `Urn<E>`, its type already checked by the caller (against a type known
    /// only through a trait's constants, as for a parent type).
    pub(crate) fn assume_typed(any: AnyUrn) -> Self {
        Urn {
            any,
            _type: PhantomData,
        }
    }
}

impl<E: Entity> TryFrom<AnyUrn> for Urn<E> {
    type Error = UrnError;
    fn try_from(any: AnyUrn) -> Result<Self, UrnError> {
        if any.domain() != E::DOMAIN {
            return Err(UrnError::new(
                any.as_str(),
                UrnPart::Domain,
                format!("expected domain {:?} of {}", E::DOMAIN, E::RESOURCE_TYPE),
            ));
        }
        if any.resource_type() != E::RESOURCE_TYPE {
            return Err(UrnError::new(
                any.as_str(),
                UrnPart::ResourceType,
                format!(
                    "expected a {} URN, found a {} URN",
                    E::RESOURCE_TYPE,
                    any.resource_type()
                ),
            ));
        }
        Ok(Urn {
            any,
            _type: PhantomData,
        })
    }
}

impl<E> From<Urn<E>> for AnyUrn {
    fn from(urn: Urn<E>) -> AnyUrn {
        urn.any
    }
}

impl<E: Entity> FromStr for Urn<E> {
    type Err = UrnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Urn::parse(s)
    }
}

impl<E> Clone for Urn<E> {
    fn clone(&self) -> Self {
        Urn {
            any: self.any.clone(),
            _type: PhantomData,
        }
    }
}
impl<E> PartialEq for Urn<E> {
    fn eq(&self, other: &Self) -> bool {
        self.any == other.any
    }
}
impl<E> Eq for Urn<E> {}
impl<E> PartialEq<AnyUrn> for Urn<E> {
    fn eq(&self, other: &AnyUrn) -> bool {
        &self.any == other
    }
}
impl<E> Hash for Urn<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.any.hash(state)
    }
}
impl<E> PartialOrd for Urn<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Urn<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.any.cmp(&other.any)
    }
}
impl<E> fmt::Display for Urn<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.any.text)
    }
}
impl<E> fmt::Debug for Urn<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Urn({})", self.any.text)
    }
}
impl<E> AsRef<str> for Urn<E> {
    fn as_ref(&self) -> &str {
        &self.any.text
    }
}
impl<E> AsRef<AnyUrn> for Urn<E> {
    fn as_ref(&self) -> &AnyUrn {
        &self.any
    }
}
impl<E> Serialize for Urn<E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.any.text)
    }
}
impl<'de, E: Entity> Deserialize<'de> for Urn<E> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Urn::parse(&s).map_err(serde::de::Error::custom)
    }
}
