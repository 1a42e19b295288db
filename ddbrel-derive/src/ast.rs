//! What was parsed: the struct, its fields with their stored attribute names, and its unique
//! constraints with their fields resolved.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Generics, Ident, LitStr, Type};

use crate::attr::{self, Scope};
use crate::ctxt::Ctxt;

/// The struct `#[derive(Entity)]` is on.
pub struct Container<'a> {
    pub ident: &'a Ident,
    /// The struct's visibility (the generated field paths have the same).
    pub vis: &'a syn::Visibility,
    pub generics: &'a Generics,
    pub attrs: attr::Container,
    /// Named fields in declaration order; empty when the input is not a struct with named
    /// fields (an error is recorded then).
    pub fields: Vec<Field<'a>>,
    /// Field-level then struct-level constraints, in declaration order.
    pub constraints: Vec<Constraint>,
}

/// How a field's stored attribute name was decided.
pub enum NameSource {
    /// The field's own name.
    Ident,
    /// `#[serde(rename = "..")]`.
    Rename(LitStr),
    /// The container's `#[serde(rename_all = "..")]`.
    RenameAll(LitStr),
}

/// A named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: attr::Field,
    /// The top-level attribute name serde writes the field as.
    pub attr_name: String,
    pub name_source: NameSource,
}

impl Field<'_> {
    /// Whether serde writes the field (not `skip` / `skip_serializing`).
    pub fn stored(&self) -> bool {
        self.attrs.serde.skip.is_none()
    }

    /// The tokens to point at when the attribute name is wrong.
    pub fn name_tokens(&self) -> TokenStream {
        match &self.name_source {
            NameSource::Rename(lit) => lit.to_token_stream(),
            NameSource::Ident | NameSource::RenameAll(_) => self.ident.to_token_stream(),
        }
    }
}

/// A unique constraint, field-level or composite.
pub struct Constraint {
    /// The constraint's name: `name = ".."`, the field's name, or the fields joined by `_`.
    pub name: String,
    /// Where to point when the name is wrong.
    pub name_tokens: TokenStream,
    /// Indexes into [`Container::fields`], in order.
    pub fields: Vec<usize>,
    /// Where to point when one of the fields is wrong: the name in `fields(..)`, or the
    /// field-level `unique`.
    pub field_tokens: Vec<TokenStream>,
    pub scope: Scope,
    /// The `scope` value as written, for errors.
    pub scope_token: Option<Ident>,
    pub case_insensitive: bool,
    /// Whether it was written on the struct with `fields(..)`.
    pub composite: bool,
    /// Whether the name was given with `name = ".."`.
    pub explicit_name: bool,
}

impl<'a> Container<'a> {
    /// Reads the derive input, recording every mistake in `cx`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Container<'a> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let ident = &input.ident;
        let mut fields = Vec::new();
        match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => {
                    for field in &named.named {
                        if let Some(field_ident) = &field.ident {
                            fields.push(Field::from_ast(cx, field_ident, field, &attrs.serde));
                        }
                    }
                }
                Fields::Unnamed(unnamed) => cx.error_spanned_by(
                    unnamed,
                    format!(
                        "`#[derive(Entity)]` needs named fields, found a tuple struct: the field names are the stored attribute names; write `struct {ident} {{ name: Type, .. }}`"
                    ),
                ),
                Fields::Unit => cx.error_spanned_by(
                    ident,
                    format!(
                        "`#[derive(Entity)]` needs a struct with named fields, found a unit struct: write `struct {ident} {{ name: Type, .. }}`"
                    ),
                ),
            },
            Data::Enum(data) => {
                let enum_token = data.enum_token;
                cx.error_spanned_by(
                    quote!(#enum_token #ident),
                    format!(
                        "`#[derive(Entity)]` cannot be used on an enum: an entity is a struct whose named fields are its stored attributes; keep the enum as a field type, e.g. `struct Thing {{ kind: {ident} }}`, and derive `Entity` on that struct"
                    ),
                );
            }
            Data::Union(data) => {
                let union_token = data.union_token;
                cx.error_spanned_by(
                    quote!(#union_token #ident),
                    "`#[derive(Entity)]` cannot be used on a union: write a struct with named fields",
                );
            }
        }

        let constraints = constraints(cx, &fields, &attrs);
        Container {
            ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            fields,
            constraints,
        }
    }
}

impl<'a> Field<'a> {
    fn from_ast(
        cx: &Ctxt,
        ident: &'a Ident,
        field: &'a syn::Field,
        serde: &attr::SerdeContainer,
    ) -> Field<'a> {
        let attrs = attr::Field::from_ast(cx, &field.attrs);
        let rust_name = ident.unraw().to_string();
        let (attr_name, name_source) = match (&attrs.serde.rename, serde.rename_all) {
            (Some(lit), _) => (lit.value(), NameSource::Rename(lit.clone())),
            (None, Some(rule)) => match &serde.rename_all_lit {
                Some(lit) => (
                    rule.apply_to_field(&rust_name),
                    NameSource::RenameAll(lit.clone()),
                ),
                None => (rust_name, NameSource::Ident),
            },
            (None, None) => (rust_name, NameSource::Ident),
        };
        Field {
            ident,
            ty: &field.ty,
            attrs,
            attr_name,
            name_source,
        }
    }
}

/// Builds the constraints: one per field-level `#[unique]`, then one per struct-level
/// `#[unique(fields(..))]`, with field names resolved.
fn constraints(cx: &Ctxt, fields: &[Field], attrs: &attr::Container) -> Vec<Constraint> {
    let mut out = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        for unique in &field.attrs.unique {
            let (name, name_tokens) = match &unique.name {
                Some(lit) => (lit.value(), lit.to_token_stream()),
                None => (
                    field.ident.unraw().to_string(),
                    field.ident.to_token_stream(),
                ),
            };
            out.push(Constraint {
                name,
                name_tokens,
                fields: vec![index],
                field_tokens: vec![unique.attr.to_token_stream()],
                scope: unique
                    .scope
                    .as_ref()
                    .map_or(Scope::Global, |(scope, _)| *scope),
                scope_token: unique.scope.as_ref().map(|(_, token)| token.clone()),
                case_insensitive: unique.case_insensitive,
                composite: false,
                explicit_name: unique.name.is_some(),
            });
        }
    }
    for unique in &attrs.unique {
        let Some((fields_path, names)) = &unique.fields else {
            continue;
        };
        if names.is_empty() {
            cx.error_spanned_by(
                fields_path,
                "`fields(..)` is empty: list the fields the value is made of, e.g. `fields(first_name, last_name)`",
            );
            continue;
        }
        let mut indexes = Vec::new();
        for name in names {
            match fields.iter().position(|f| f.ident.unraw() == name.unraw()) {
                Some(index) if indexes.contains(&index) => cx.error_spanned_by(
                    name,
                    format!("`{name}` is listed twice in `fields(..)`: list each field once"),
                ),
                Some(index) => indexes.push(index),
                None => {
                    let known: Vec<String> =
                        fields.iter().map(|f| format!("`{}`", f.ident)).collect();
                    cx.error_spanned_by(
                        name,
                        format!(
                            "no field `{name}` in this struct: `fields(..)` lists Rust field names ({})",
                            if known.is_empty() { "none".to_string() } else { known.join(", ") }
                        ),
                    );
                }
            }
        }
        if indexes.len() != names.len() {
            continue;
        }
        let (name, name_tokens) = match &unique.name {
            Some(lit) => (lit.value(), lit.to_token_stream()),
            None => (
                names
                    .iter()
                    .map(|n| n.unraw().to_string())
                    .collect::<Vec<_>>()
                    .join("_"),
                fields_path.to_token_stream(),
            ),
        };
        out.push(Constraint {
            name,
            name_tokens,
            fields: indexes,
            field_tokens: names.iter().map(ToTokens::to_token_stream).collect(),
            scope: unique
                .scope
                .as_ref()
                .map_or(Scope::Global, |(scope, _)| *scope),
            scope_token: unique.scope.as_ref().map(|(_, token)| token.clone()),
            case_insensitive: unique.case_insensitive,
            composite: true,
            explicit_name: unique.name.is_some(),
        });
    }
    out
}
