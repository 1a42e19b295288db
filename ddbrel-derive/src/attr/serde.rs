//! The parts of `#[serde(..)]` that decide stored attribute names. Malformed serde
//! attributes are serde's to report, so errors here are dropped.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr, Path, Token};

use crate::attr::read::skip_value;
use crate::case::RenameRule;

/// The parts of a container's `#[serde(..)]` that change attribute names.
#[derive(Default)]
pub struct SerdeContainer {
    pub rename_all: Option<RenameRule>,
    pub rename_all_lit: Option<LitStr>,
    /// `#[serde(transparent)]`.
    pub transparent: Option<Path>,
    /// `#[serde(into = "..")]`.
    pub into: Option<Path>,
    /// `#[serde(tag = "..")]`: the struct is written with one more attribute.
    pub tag: Option<LitStr>,
}

/// The parts of a field's `#[serde(..)]` that change attribute names.
#[derive(Default)]
pub struct SerdeField {
    /// `rename = ".."` or `rename(serialize = "..")`: the stored name.
    pub rename: Option<LitStr>,
    /// `skip` or `skip_serializing`: the field is never written.
    pub skip: Option<Path>,
    /// `flatten`.
    pub flatten: Option<Path>,
    /// `default`: absent attributes read as the default.
    pub default: bool,
    /// `with` or `serialize_with`: the stored form is not the field type's own.
    pub custom: bool,
    /// `skip_serializing_if = ".."`.
    pub skip_if: bool,
}

/// Reads `rename = ".."` or `rename(serialize = "..", ..)`: the serialized name.
pub fn serde_rename(meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            serialize = Some(inner.value()?.parse()?);
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(serialize)
}

/// Reads the container's `#[serde(..)]`. Malformed serde attributes are serde's to report, so
/// errors here are dropped.
pub fn parse_serde_container(attr: &Attribute, serde: &mut SerdeContainer) {
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("rename_all") {
            if let Some(lit) = serde_rename(&meta)? {
                serde.rename_all = RenameRule::from_name(&lit.value());
                serde.rename_all_lit = Some(lit);
            }
        } else if meta.path.is_ident("transparent") {
            serde.transparent = Some(meta.path.clone());
        } else if meta.path.is_ident("into") {
            serde.into = Some(meta.path.clone());
            skip_value(&meta)?;
        } else if meta.path.is_ident("tag") {
            serde.tag = Some(meta.value()?.parse()?);
        } else {
            skip_value(&meta)?;
        }
        Ok(())
    });
}

/// Reads a field's `#[serde(..)]` (errors are serde's to report).
pub fn parse_serde_field(attr: &Attribute, serde: &mut SerdeField) {
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("rename") {
            if let Some(lit) = serde_rename(&meta)? {
                serde.rename = Some(lit);
            }
        } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
            serde.skip = Some(meta.path.clone());
        } else if meta.path.is_ident("flatten") {
            serde.flatten = Some(meta.path.clone());
        } else if meta.path.is_ident("default") {
            serde.default = true;
            skip_value(&meta)?;
        } else if meta.path.is_ident("skip_serializing_if") {
            serde.skip_if = true;
            skip_value(&meta)?;
        } else if meta.path.is_ident("with") || meta.path.is_ident("serialize_with") {
            serde.custom = true;
            skip_value(&meta)?;
        } else {
            skip_value(&meta)?;
        }
        Ok(())
    });
}
