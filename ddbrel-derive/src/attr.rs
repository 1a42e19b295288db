//! Reading the attributes: `#[urn]`, `#[entity]`, `#[parent]`, `#[account_scoped]`,
//! `#[collection]`, `#[unique]`, and the parts of `#[serde]` that decide attribute names.
//!
//! Syntax errors, unknown keys and repeated keys or attributes are recorded in the [`Ctxt`];
//! reading goes on so that every mistake is reported at once.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitBool, LitInt, LitStr, Meta, Path, Token};

use crate::case::RenameRule;
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

/// A value that may be given once; a second one is an error at the second occurrence.
struct Once<'c, T> {
    cx: &'c Ctxt,
    /// The error when it is given twice.
    duplicate: String,
    value: Option<T>,
}

impl<'c, T> Once<'c, T> {
    fn new(cx: &'c Ctxt, duplicate: impl Into<String>) -> Self {
        Once {
            cx,
            duplicate: duplicate.into(),
            value: None,
        }
    }

    /// A key of an attribute, e.g. `key(cx, "type", "#[urn(..)]")`.
    fn key(cx: &'c Ctxt, key: &str, attribute: &str) -> Self {
        Once::new(
            cx,
            format!("duplicate key `{key}` in `{attribute}`: give it once"),
        )
    }

    fn set<S: ToTokens>(&mut self, at: S, value: T) {
        if self.value.is_some() {
            self.cx.error_spanned_by(at, &self.duplicate);
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// `#[urn(type = "...", domain = "...")]`.
pub struct Urn {
    /// The attribute, for errors about it as a whole.
    pub attr: Path,
    pub resource_type: Option<LitStr>,
    pub domain: Option<LitStr>,
    /// An unknown key or a value that could not be read was reported: do not also report
    /// what is missing.
    pub incomplete: bool,
}

/// `#[entity(version = N)]`.
pub struct Version {
    pub value: u32,
    pub lit: LitInt,
}

/// `#[entity(version = N, migrate = path)]`.
pub struct EntityAttr {
    pub version: Option<Version>,
    /// The function that upgrades items of older versions.
    pub migrate: Option<Path>,
}

/// `#[collection(of(A, B), conveys_authorization = ..)]`.
pub struct Collection {
    pub attr: Path,
    pub members: Vec<Path>,
    pub conveys_authorization: Option<LitBool>,
    /// An unknown key or a value that could not be read was reported: do not also report
    /// what is missing.
    pub incomplete: bool,
}

/// Where a unique value must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Account,
    Parent,
}

/// `#[unique(..)]` on the struct (with `fields(..)`) or on a field.
pub struct Unique {
    /// The attribute's path, for errors about the constraint as a whole.
    pub attr: Path,
    /// `fields(a, b)`: only on the struct.
    pub fields: Option<(Path, Vec<Ident>)>,
    pub scope: Option<(Scope, Ident)>,
    pub case_insensitive: bool,
    pub name: Option<LitStr>,
}

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
}

/// The struct-level attributes.
pub struct Container {
    pub urn: Option<Urn>,
    pub version: Option<Version>,
    /// `migrate = path` of `#[entity(..)]`.
    pub migrate: Option<Path>,
    pub parent: Option<Path>,
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
            "duplicate `#[parent(..)]`: an entity has one parent type (use `#[collection(..)]` for n:n relationships)",
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

        let (version, migrate) = match entity.get() {
            Some(e) => (e.version, e.migrate),
            None => (None, None),
        };
        Container {
            urn: urn.get(),
            version,
            migrate,
            parent: parent.get(),
            account_scoped: account_scoped.get(),
            collection: collection.get(),
            unique,
            serde,
        }
    }
}

impl Field {
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

/// Records an unknown key and skips its value so that the keys after it are still read.
fn unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attribute: &str,
    expected: &str,
) -> syn::Result<()> {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    cx.error_spanned_by(
        &meta.path,
        format!("unknown key `{key}` in `{attribute}`: expected {expected}"),
    );
    skip_value(meta)
}

/// Consumes `= value` or `(..)` after a key.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Looks through the invisible groups `macro_rules!` puts around `$value:literal`/`expr`.
fn ungroup(mut expr: syn::Expr) -> syn::Expr {
    while let syn::Expr::Group(group) = expr {
        expr = *group.expr;
    }
    expr
}

/// Reads `= "text"`. A value that is not a string is recorded and gives `None` (reading goes
/// on); a missing `=` stops reading the attribute.
fn lit_str(cx: &Ctxt, meta: &ParseNestedMeta, example: &str) -> syn::Result<Option<LitStr>> {
    let key = meta.path.to_token_stream().to_string();
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = {example}`")));
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(other, format!("expected a string: `{key} = {example}`"));
            Ok(None)
        }
    }
}

/// Reads `= true` / `= false`, like [`lit_str`].
fn lit_bool(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<LitBool>> {
    let key = meta.path.to_token_stream().to_string();
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = true` or `{key} = false`")));
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(other, format!("expected `{key} = true` or `{key} = false`"));
            Ok(None)
        }
    }
}

/// Checks that `attr` is written `#[name(..)]`, explaining the form otherwise.
fn require_list(cx: &Ctxt, attr: &Attribute, example: &str) -> bool {
    match &attr.meta {
        Meta::List(_) => true,
        Meta::Path(_) | Meta::NameValue(_) => {
            cx.error_spanned_by(attr, format!("expected `{example}`"));
            false
        }
    }
}

fn parse_urn(cx: &Ctxt, attr: &Attribute) -> Option<Urn> {
    if !require_list(cx, attr, "#[urn(type = \"System.Account.Job\")]") {
        return None;
    }
    let mut resource_type = Once::key(cx, "type", "#[urn(..)]");
    let mut domain = Once::key(cx, "domain", "#[urn(..)]");
    let mut incomplete = false;
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("type") {
            match lit_str(cx, &meta, "\"System.Account.Job\"")? {
                Some(lit) => resource_type.set(&meta.path, lit),
                None => incomplete = true,
            }
        } else if meta.path.is_ident("domain") {
            if let Some(lit) = lit_str(cx, &meta, "\"pp\"")? {
                domain.set(&meta.path, lit);
            }
        } else {
            incomplete = true;
            unknown_key(
                cx,
                &meta,
                "#[urn(..)]",
                "`type = \"..\"` or `domain = \"..\"`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        incomplete = true;
        cx.syn_error(e);
    }
    Some(Urn {
        attr: attr.path().clone(),
        resource_type: resource_type.get(),
        domain: domain.get(),
        incomplete,
    })
}

fn parse_entity(cx: &Ctxt, attr: &Attribute) -> Option<EntityAttr> {
    if !require_list(cx, attr, "#[entity(version = 1)]") {
        return None;
    }
    let mut once = Once::key(cx, "version", "#[entity(..)]");
    let mut migrate = Once::key(cx, "migrate", "#[entity(..)]");
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("version") {
            let lit: LitInt = meta
                .value()?
                .parse()
                .map_err(|e| syn::Error::new(e.span(), "expected a whole number: `version = 2`"))?;
            match lit.base10_parse::<u32>() {
                Ok(value) => once.set(&meta.path, Version { value, lit }),
                Err(_) => cx.error_spanned_by(
                    &lit,
                    "`version` must be a whole number from 1 to 4294967295",
                ),
            }
        } else if meta.path.is_ident("migrate") {
            let path: Path = meta.value()?.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the path of a function: `migrate = migrate_job` (fn(u32, &mut ddbrel_runtime::Item) -> ddbrel_runtime::Result<()>)",
                )
            })?;
            migrate.set(&meta.path, path);
        } else {
            unknown_key(
                cx,
                &meta,
                "#[entity(..)]",
                "`version = N` or `migrate = function`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
    Some(EntityAttr {
        version: once.get(),
        migrate: migrate.get(),
    })
}

fn parse_parent(cx: &Ctxt, attr: &Attribute) -> Option<Path> {
    if !require_list(cx, attr, "#[parent(ParentType)]") {
        return None;
    }
    let result = attr.parse_args_with(|input: syn::parse::ParseStream| {
        let path: Path = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the parent entity type: `#[parent(ParentType)]`")
        })?;
        if !input.is_empty() {
            return Err(input.error(
                "expected one parent type: an entity has a single parent (use `#[collection(..)]` for n:n)",
            ));
        }
        Ok(path)
    });
    match result {
        Ok(path) => Some(path),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

fn parse_collection(cx: &Ctxt, attr: &Attribute) -> Option<Collection> {
    if !require_list(
        cx,
        attr,
        "#[collection(of(MemberType), conveys_authorization = false)]",
    ) {
        return None;
    }
    let mut members = Once::new(
        cx,
        "duplicate key `of` in `#[collection(..)]`: list every member type in one `of(..)`",
    );
    let mut conveys = Once::key(cx, "conveys_authorization", "#[collection(..)]");
    let mut incomplete = false;
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("of") {
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error("expected the member types: `of(MemberType, OtherType)`"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
            members.set(&meta.path, list.into_iter().collect::<Vec<_>>());
        } else if meta.path.is_ident("conveys_authorization") {
            match lit_bool(cx, &meta)? {
                Some(lit) => conveys.set(&meta.path, lit),
                None => incomplete = true,
            }
        } else {
            incomplete = true;
            unknown_key(
                cx,
                &meta,
                "#[collection(..)]",
                "`of(MemberType, ..)` or `conveys_authorization = true|false`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        incomplete = true;
        cx.syn_error(e);
    }
    Some(Collection {
        attr: attr.path().clone(),
        members: members.get().unwrap_or_default(),
        conveys_authorization: conveys.get(),
        incomplete,
    })
}

fn parse_unique(cx: &Ctxt, attr: &Attribute, on_struct: bool) -> Option<Unique> {
    let mut unique = Unique {
        attr: attr.path().clone(),
        fields: None,
        scope: None,
        case_insensitive: false,
        name: None,
    };
    match &attr.meta {
        Meta::Path(_) => {
            if on_struct {
                cx.error_spanned_by(
                    attr,
                    "a `#[unique]` on the struct needs its fields: `#[unique(fields(a, b), name = \"a_b\")]`, or put `#[unique]` on the field",
                );
                return None;
            }
            return Some(unique);
        }
        Meta::NameValue(_) => {
            cx.error_spanned_by(
                attr,
                "expected `#[unique]` or `#[unique(scope = global|account|parent, case_insensitive, name = \"..\")]`",
            );
            return None;
        }
        Meta::List(_) => {}
    }
    let mut fields = Once::key(cx, "fields", "#[unique(..)]");
    let mut scope = Once::key(cx, "scope", "#[unique(..)]");
    let mut case_insensitive = Once::key(cx, "case_insensitive", "#[unique(..)]");
    let mut name = Once::key(cx, "name", "#[unique(..)]");
    let expected = if on_struct {
        "`fields(a, b)`, `scope = global|account|parent`, `case_insensitive` or `name = \"..\"`"
    } else {
        "`scope = global|account|parent`, `case_insensitive` or `name = \"..\"`"
    };
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("fields") {
            if !on_struct {
                cx.error_spanned_by(
                    &meta.path,
                    "`fields(..)` belongs in a `#[unique(..)]` on the struct (a composite constraint); on a field, `#[unique]` constrains that field",
                );
                return skip_value(&meta);
            }
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error("expected the fields of the constraint: `fields(a, b)`"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            fields.set(&meta.path, (meta.path.clone(), list.into_iter().collect()));
        } else if meta.path.is_ident("scope") {
            let ident: Ident = meta.value()?.parse().map_err(|e| {
                syn::Error::new(e.span(), "expected `scope = global`, `scope = account` or `scope = parent`")
            })?;
            let value = match ident.to_string().as_str() {
                "global" => Some(Scope::Global),
                "account" => Some(Scope::Account),
                "parent" => Some(Scope::Parent),
                _ => None,
            };
            match value {
                Some(value) => scope.set(&meta.path, (value, ident)),
                None => cx.error_spanned_by(
                    &ident,
                    format!("unknown scope `{ident}`: expected `global`, `account` or `parent`"),
                ),
            }
        } else if meta.path.is_ident("case_insensitive") {
            if meta.input.peek(Token![=]) {
                if let Some(lit) = lit_bool(cx, &meta)? {
                    case_insensitive.set(&meta.path, lit.value);
                }
            } else {
                case_insensitive.set(&meta.path, true);
            }
        } else if meta.path.is_ident("name") {
            if let Some(lit) = lit_str(cx, &meta, "\"constraint_name\"")? {
                name.set(&meta.path, lit);
            }
        } else {
            unknown_key(cx, &meta, "#[unique(..)]", expected)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
    unique.fields = fields.get();
    unique.scope = scope.get();
    unique.case_insensitive = case_insensitive.get().unwrap_or(false);
    unique.name = name.get();
    Some(unique)
}

/// Reads `rename = ".."` or `rename(serialize = "..", ..)`: the serialized name.
fn serde_rename(meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
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
fn parse_serde_container(attr: &Attribute, serde: &mut SerdeContainer) {
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
fn parse_serde_field(attr: &Attribute, serde: &mut SerdeField) {
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
        } else {
            skip_value(&meta)?;
        }
        Ok(())
    });
}
