//! The URN grammar of ddbrel: `urn:{domain}:{resourceType}::{resourceId}`.
//!
//! - domain: `[a-z][a-z0-9-]{0,31}` (default [`DEFAULT_DOMAIN`]);
//! - resourceType: one or more dot-separated PascalCase segments `[A-Z][A-Za-z0-9]*`;
//! - resourceId: a canonical lowercase hyphenated UUID of version 7 (checked by the runtime,
//!   which owns the UUID type).
//!
//! This crate holds the rules that need nothing but `std`, so that `ddbrel-runtime` (at run
//! time) and `ddbrel-derive` (at compile time) apply the same ones. Use them through
//! `ddbrel_runtime::urn`, which re-exports everything here.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

/// The default URN domain.
pub const DEFAULT_DOMAIN: &str = "pp";

/// The longest URN, in bytes: the longest key that embeds one is `GSI1SK` =
/// `collection#` + URN, and a sort key holds at most 1024 bytes.
pub const MAX_URN_BYTES: usize = 1024 - "collection#".len();

/// The longest domain, in characters.
const MAX_DOMAIN_CHARS: usize = 32;

/// The length of a resource id: a hyphenated UUID.
const ID_BYTES: usize = 36;

/// Which part of a URN is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrnPart {
    /// The text as a whole: empty, non-ASCII, whitespace, or the `:` structure.
    Structure,
    /// The `urn:` prefix.
    Scheme,
    /// The domain.
    Domain,
    /// The resource type.
    ResourceType,
    /// The resource id (the UUID).
    ResourceId,
}

impl fmt::Display for UrnPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrnPart::Structure => "structure",
            UrnPart::Scheme => "scheme",
            UrnPart::Domain => "domain",
            UrnPart::ResourceType => "resource type",
            UrnPart::ResourceId => "resource id",
        })
    }
}

/// A URN was rejected: [`UrnError::part`] says which part, the message says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrnError {
    input: String,
    part: UrnPart,
    reason: String,
}

/// How much of a rejected input an error keeps, in bytes.
const MAX_INPUT_IN_ERROR: usize = 200;

impl UrnError {
    /// An error about `part` of `input`. Used by `ddbrel-runtime`'s parser; not part of its
    /// public API.
    #[doc(hidden)]
    pub fn new(input: &str, part: UrnPart, reason: impl Into<String>) -> Self {
        // Keep messages readable when someone passes a megabyte of text.
        let input = if input.len() > MAX_INPUT_IN_ERROR {
            let mut end = MAX_INPUT_IN_ERROR;
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &input[..end])
        } else {
            input.to_string()
        };
        UrnError {
            input,
            part,
            reason: reason.into(),
        }
    }
    /// The part of the URN that is wrong.
    pub fn part(&self) -> UrnPart {
        self.part
    }
    /// Why it is wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// The rejected input (cut to 200 bytes).
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for UrnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid URN {:?}: {}: {}",
            self.input, self.part, self.reason
        )
    }
}

impl std::error::Error for UrnError {}

/// Checks a domain: `[a-z][a-z0-9-]{0,31}`.
pub fn validate_domain(domain: &str) -> Result<(), String> {
    let Some(first) = domain.chars().next() else {
        return Err("empty domain".into());
    };
    if !first.is_ascii_lowercase() {
        return Err(format!(
            "domain must start with a lowercase letter, found {first:?}"
        ));
    }
    if domain.len() > MAX_DOMAIN_CHARS {
        return Err(format!(
            "domain is {} characters, at most {MAX_DOMAIN_CHARS} allowed",
            domain.chars().count()
        ));
    }
    if let Some(c) = domain
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "domain may hold only a-z, 0-9 and `-`, found {c:?}"
        ));
    }
    Ok(())
}

/// Checks a resource type: dot-separated PascalCase segments `[A-Z][A-Za-z0-9]*`.
pub fn validate_resource_type(resource_type: &str) -> Result<(), String> {
    if resource_type.is_empty() {
        return Err("empty resource type".into());
    }
    for (i, segment) in resource_type.split('.').enumerate() {
        let Some(first) = segment.chars().next() else {
            return Err(format!("segment {} of the resource type is empty", i + 1));
        };
        if !first.is_ascii_uppercase() {
            return Err(format!(
                "segment {segment:?} must start with an uppercase letter A-Z"
            ));
        }
        if let Some(c) = segment.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(format!(
                "segment {segment:?} may hold only A-Z, a-z and 0-9, found {c:?}"
            ));
        }
    }
    Ok(())
}

/// The key-condition prefix of a type: `urn:{domain}:{resourceType}::`. It ends with `::`
/// because `System.Account.Job` is a prefix of `System.Account.JobCollection`.
pub fn type_prefix(domain: &str, resource_type: &str) -> String {
    format!("urn:{domain}:{resource_type}::")
}

/// The length in bytes of every URN of a type: its [`type_prefix`] and a 36-character id.
/// A type whose URNs are longer than [`MAX_URN_BYTES`] cannot be stored.
pub fn urn_len(domain: &str, resource_type: &str) -> usize {
    "urn:".len() + domain.len() + ":".len() + resource_type.len() + "::".len() + ID_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(validate_domain("pp").is_ok());
        assert!(validate_domain("a-1").is_ok());
        assert!(validate_domain(&"a".repeat(32)).is_ok());
        assert_eq!(validate_domain("").unwrap_err(), "empty domain");
        assert!(validate_domain("PP").is_err());
        assert!(validate_domain("1a").is_err());
        assert!(validate_domain("a_b").is_err());
        assert!(validate_domain("é").is_err());
        assert_eq!(
            validate_domain(&"a".repeat(33)).unwrap_err(),
            "domain is 33 characters, at most 32 allowed"
        );
    }

    #[test]
    fn resource_types() {
        assert!(validate_resource_type("System").is_ok());
        assert!(validate_resource_type("System.Account.JobCollection.Job").is_ok());
        assert!(validate_resource_type("").is_err());
        assert!(validate_resource_type("system.Job").is_err());
        assert!(validate_resource_type("System.Job_2").is_err());
        assert_eq!(
            validate_resource_type("System..Job").unwrap_err(),
            "segment 2 of the resource type is empty"
        );
    }

    #[test]
    fn lengths() {
        let prefix = type_prefix("pp", "System.Job");
        assert_eq!(prefix, "urn:pp:System.Job::");
        assert_eq!(urn_len("pp", "System.Job"), prefix.len() + 36);
        assert_eq!(MAX_URN_BYTES, 1013);
    }

    #[test]
    fn errors() {
        let error = UrnError::new("urn:PP:System::x", UrnPart::Domain, "why");
        assert_eq!(
            error.to_string(),
            "invalid URN \"urn:PP:System::x\": domain: why"
        );
        assert_eq!(error.part(), UrnPart::Domain);
        assert_eq!(error.reason(), "why");
        let long = "é".repeat(150);
        let error = UrnError::new(&long, UrnPart::Structure, "long");
        assert_eq!(error.input(), format!("{}…", "é".repeat(100)));
    }
}
