//! Resolving type names given on the command line.

use ddbrel_runtime::EntityDescriptor;
use ddbrel_runtime::urn::{DEFAULT_DOMAIN, type_prefix, validate_resource_type};

use crate::failure::Failure;

/// The descriptor of a known entity type, by Rust name (`Job`, any case) or resource type
/// (`System.Account.JobCollection.Job`).
pub fn descriptor(name: &str) -> Option<&'static EntityDescriptor> {
    entities::all()
        .into_iter()
        .find(|d| d.type_name.eq_ignore_ascii_case(name) || d.resource_type == name)
}

/// The descriptor of a known entity type, or a failure naming the known types.
pub fn require(name: &str) -> Result<&'static EntityDescriptor, Failure> {
    descriptor(name)
        .ok_or_else(|| Failure::new(format!("unknown type {name:?}: one of {}", known())))
}

/// The key-condition prefix (ending in `::`) for a type given on the command line: a known
/// entity type, or any resource type of the default domain.
pub fn prefix(name: &str) -> Result<String, Failure> {
    if let Some(d) = descriptor(name) {
        return Ok(type_prefix(d.domain, d.resource_type));
    }
    validate_resource_type(name).map_err(|e| {
        Failure::new(format!(
            "unknown type {name:?}: not one of {} and not a resource type ({e})",
            known()
        ))
    })?;
    Ok(type_prefix(DEFAULT_DOMAIN, name))
}

/// The known type names, for messages.
pub fn known() -> String {
    entities::all()
        .iter()
        .map(|d| d.type_name)
        .collect::<Vec<_>>()
        .join(", ")
}
