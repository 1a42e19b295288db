//! `#[parent(P, Q, on_delete = ..)]` and
//! `#[collection(of(A, B), conveys_authorization = .., on_delete = ..)]`.

use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitBool, Path, Token};

use crate::attr::once::Once;
use crate::attr::read::{lit_bool, require_list, unknown_key};
use crate::ctxt::Ctxt;

/// What deleting the parent (or the collection) does to the relationship.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDelete {
    /// The child is deleted, the member leaves (the default).
    Cascade,
    /// The delete is refused while the relationship exists.
    Restrict,
}

/// `#[collection(of(A, B), conveys_authorization = .., on_delete = ..)]`.
pub struct Collection {
    pub attr: Path,
    pub members: Vec<Path>,
    pub conveys_authorization: Option<LitBool>,
    pub on_delete: Option<OnDelete>,
    /// An unknown key or a value that could not be read was reported: do not also report
    /// what is missing.
    pub incomplete: bool,
}

/// `#[parent(P, Q, on_delete = ..)]`: the parent types (the home parent first) and the rule.
pub struct Parent {
    pub paths: Vec<Path>,
    pub on_delete: Option<OnDelete>,
}

const ON_DELETE_EXPECTED: &str = "expected `on_delete = cascade` or `on_delete = restrict`";

/// What each rule means, for the error on an unknown one: of a parent, of a collection.
const PARENT_RULES: &str = "`cascade` (the default: deleting the parent deletes the child) or `restrict` (deleting the parent is refused while it has such children)";
const COLLECTION_RULES: &str = "`cascade` (the default: deleting the collection takes its members out of it) or `restrict` (deleting the collection is refused while it has members)";

/// Reads the value of `on_delete = ..`; an unknown rule is recorded (reading goes on).
fn on_delete_value(
    cx: &Ctxt,
    input: syn::parse::ParseStream,
    rules: &str,
) -> syn::Result<Option<OnDelete>> {
    let ident: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), ON_DELETE_EXPECTED))?;
    match ident.to_string().as_str() {
        "cascade" => Ok(Some(OnDelete::Cascade)),
        "restrict" => Ok(Some(OnDelete::Restrict)),
        _ => {
            cx.error_spanned_by(
                &ident,
                format!("unknown `on_delete` rule `{ident}`: expected {rules}"),
            );
            Ok(None)
        }
    }
}

pub fn parse_parent(cx: &Ctxt, attr: &Attribute) -> Option<Parent> {
    if !require_list(cx, attr, "#[parent(ParentType)]") {
        return None;
    }
    let mut on_delete = Once::key(cx, "on_delete", "#[parent(..)]");
    let result = attr.parse_args_with(|input: syn::parse::ParseStream| {
        let first: Path = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the parent entity type: `#[parent(ParentType)]`")
        })?;
        let mut paths = vec![first];
        let mut rule_seen = false;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Path = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected another parent type or `on_delete = cascade|restrict`",
                )
            })?;
            if !key.is_ident("on_delete") {
                if input.peek(Token![=]) {
                    return Err(syn::Error::new_spanned(
                        key,
                        "expected parent types, then at most `on_delete = cascade|restrict`: `#[parent(A, B, on_delete = restrict)]`",
                    ));
                }
                if rule_seen {
                    return Err(syn::Error::new_spanned(
                        key,
                        "list the parent types before `on_delete`: `#[parent(A, B, on_delete = ..)]`",
                    ));
                }
                paths.push(key);
                continue;
            }
            rule_seen = true;
            if !input.peek(Token![=]) {
                return Err(input.error(ON_DELETE_EXPECTED));
            }
            input.parse::<Token![=]>()?;
            if let Some(rule) = on_delete_value(cx, input, PARENT_RULES)? {
                on_delete.set(&key, rule);
            }
        }
        Ok(paths)
    });
    match result {
        Ok(paths) => Some(Parent {
            paths,
            on_delete: on_delete.get(),
        }),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

pub fn parse_collection(cx: &Ctxt, attr: &Attribute) -> Option<Collection> {
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
    let mut on_delete = Once::key(cx, "on_delete", "#[collection(..)]");
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
        } else if meta.path.is_ident("on_delete") {
            match on_delete_value(cx, meta.value()?, COLLECTION_RULES)? {
                Some(rule) => on_delete.set(&meta.path, rule),
                None => incomplete = true,
            }
        } else {
            incomplete = true;
            unknown_key(
                cx,
                &meta,
                "#[collection(..)]",
                "`of(MemberType, ..)`, `conveys_authorization = true|false` or `on_delete = cascade|restrict`",
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
        on_delete: on_delete.get(),
        incomplete,
    })
}
