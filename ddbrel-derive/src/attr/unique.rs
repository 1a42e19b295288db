//! `#[unique(..)]`, on the struct (with `fields(..)`) or on a field.

use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Meta, Path, Token};

use crate::attr::once::Once;
use crate::attr::read::{lit_bool, lit_str, skip_value, unknown_key};
use crate::ctxt::Ctxt;

/// Where a unique value must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Across the table.
    Global,
    /// Within the resource's account.
    Account,
    /// Among the children of the resource's parent.
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

pub fn parse_unique(cx: &Ctxt, attr: &Attribute, on_struct: bool) -> Option<Unique> {
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
