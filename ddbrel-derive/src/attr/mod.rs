//! Reading the attributes: `#[urn]`, `#[entity]`, `#[parent]`, `#[account_scoped]`,
//! `#[collection]`, `#[unique]`, and the parts of `#[serde]` that decide attribute names.
//!
//! Syntax errors, unknown keys and repeated keys or attributes are recorded in the [`Ctxt`];
//! reading goes on so that every mistake is reported at once.

mod once;
mod read;
mod relation;
mod serde;
mod unique;
mod urn;

use syn::{Attribute, Meta, Path};

pub use crate::attr::relation::{Collection, OnDelete};
pub use crate::attr::serde::{SerdeContainer, SerdeField};
pub use crate::attr::unique::{Scope, Unique};
pub use crate::attr::urn::{Urn, Version};

use crate::attr::once::Once;
use crate::attr::relation::{parse_collection, parse_parent};
use crate::attr::serde::{parse_serde_container, parse_serde_field};
use crate::attr::unique::parse_unique;
use crate::attr::urn::{parse_entity, parse_urn};
use crate::ctxt::Ctxt;

/// The names of the attributes this derive owns.
pub const OWN_ATTRIBUTES: &[&str] = &[
    "urn",
    "entity",
    "parent",
    "account_scoped",
    "collection",
    "unique",
];

/// The struct-level attributes.
pub struct Container {
    pub urn: Option<Urn>,
    pub version: Option<Version>,
    /// `migrate = path` of `#[entity(..)]`.
    pub migrate: Option<Path>,
    /// The types of `#[parent(..)]`, the home parent first (empty for a root type).
    pub parents: Vec<Path>,
    /// `on_delete = ..` of `#[parent(..)]`.
    pub parent_on_delete: Option<OnDelete>,
    /// The `account_scoped` path of `#[account_scoped]`.
    pub account_scoped: Option<Path>,
    pub collection: Option<Collection>,
    pub unique: Vec<Unique>,
    pub serde: SerdeContainer,
}

/// A field's attributes.
pub struct Field {
    pub unique: Vec<Unique>,
    pub serde: SerdeField,
}

impl Container {
    /// Reads the struct's attributes, recording every mistake in `cx`.
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Container {
        let mut urn = Once::new(
            cx,
            "duplicate `#[urn(..)]`: an entity has one; merge the keys into the first",
        );
        let mut entity = Once::new(
            cx,
            "duplicate `#[entity(..)]`: merge the keys into the first",
        );
        let mut parent = Once::new(
            cx,
            "duplicate `#[parent(..)]`: list every parent type in one `#[parent(A, B)]` (and use `#[collection(..)]` for n:n relationships)",
        );
        let mut account_scoped = Once::new(cx, "duplicate `#[account_scoped]`: remove this one");
        let mut collection = Once::new(
            cx,
            "duplicate `#[collection(..)]`: list every member type in one `of(..)`",
        );
        let mut unique = Vec::new();
        let mut serde = SerdeContainer::default();

        for attr in attrs {
            let path = attr.path();
            if path.is_ident("urn") {
                if let Some(value) = parse_urn(cx, attr) {
                    urn.set(attr, value);
                }
            } else if path.is_ident("entity") {
                if let Some(value) = parse_entity(cx, attr) {
                    entity.set(attr, value);
                }
            } else if path.is_ident("parent") {
                if let Some(value) = parse_parent(cx, attr) {
                    parent.set(attr, value);
                }
            } else if path.is_ident("account_scoped") {
                if let Meta::Path(path) = &attr.meta {
                    account_scoped.set(attr, path.clone());
                } else {
                    cx.error_spanned_by(
                        &attr.meta,
                        "`#[account_scoped]` takes no arguments: write `#[account_scoped]`",
                    );
                }
            } else if path.is_ident("collection") {
                if let Some(value) = parse_collection(cx, attr) {
                    collection.set(attr, value);
                }
            } else if path.is_ident("unique") {
                if let Some(value) = parse_unique(cx, attr, true) {
                    unique.push(value);
                }
            } else if path.is_ident("serde") {
                parse_serde_container(attr, &mut serde);
            }
        }

        let (parents, parent_on_delete) = match parent.get() {
            Some(p) => (p.paths, p.on_delete),
            None => (Vec::new(), None),
        };
        let (version, migrate) = match entity.get() {
            Some(e) => (e.version, e.migrate),
            None => (None, None),
        };
        Container {
            urn: urn.get(),
            version,
            migrate,
            parents,
            parent_on_delete,
            account_scoped: account_scoped.get(),
            collection: collection.get(),
            unique,
            serde,
        }
    }
}

impl Field {
    /// Reads a field's attributes, recording every mistake in `cx`.
    pub fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Field {
        let mut unique = Vec::new();
        let mut serde = SerdeField::default();
        for attr in attrs {
            let path = attr.path();
            if path.is_ident("unique") {
                if let Some(value) = parse_unique(cx, attr, false) {
                    unique.push(value);
                }
            } else if path.is_ident("serde") {
                parse_serde_field(attr, &mut serde);
            } else if let Some(own) = OWN_ATTRIBUTES.iter().find(|name| path.is_ident(name)) {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "`#[{own}]` belongs on the struct, not on a field: move it above `struct`"
                    ),
                );
            }
        }
        Field { unique, serde }
    }
}
