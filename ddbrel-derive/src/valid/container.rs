//! Rules about the struct itself and its `#[urn]`, `#[entity]`, `#[parent]`,
//! `#[account_scoped]` and `#[collection]` attributes.

use ddbrel_grammar::{
    DEFAULT_DOMAIN, MAX_URN_BYTES, urn_len, validate_domain, validate_resource_type,
};
use quote::ToTokens;
use syn::{GenericParam, Path};

use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::prop::path_text;
use crate::valid::suggest::{suggest_domain, suggest_resource_type};

/// DynamoDB's limit on the actions of one transaction.
const MAX_TRANSACTION_ACTIONS: usize = 100;

/// An entity is one concrete owned type: no type or lifetime parameters, no `where` clause.
pub fn check_generics(cx: &Ctxt, cont: &Container) {
    let generics = cont.generics;
    let ident = cont.ident;
    if generics.params.is_empty() {
        if let Some(where_clause) = &generics.where_clause {
            cx.error_spanned_by(
                where_clause,
                "an entity cannot have a `where` clause: it is one concrete type; remove it",
            );
        }
        return;
    }
    let message = if generics
        .params
        .iter()
        .all(|p| matches!(p, GenericParam::Lifetime(_)))
    {
        format!(
            "an entity cannot borrow: `{ident}` is read back as an owned value; remove the lifetime parameters and use owned types such as `String`"
        )
    } else {
        format!(
            "an entity cannot be generic: `{ident}` has one URN type and one stored form; remove the type parameters and write one struct per entity type"
        )
    };
    cx.error_spanned_by(generics, message);
}

/// `#[urn(type = "..")]` is required; the type follows the URN grammar and so does the
/// domain, when one is given.
pub fn check_urn(cx: &Ctxt, cont: &Container) {
    let ident = cont.ident;
    let Some(urn) = &cont.attrs.urn else {
        cx.error_spanned_by(
            ident,
            format!(
                "missing `#[urn(type = \"..\")]` on `{ident}`: every entity names its URN resource type, e.g. `#[urn(type = \"System.Account.{ident}\")]`"
            ),
        );
        return;
    };
    match &urn.resource_type {
        None if urn.incomplete => {}
        None => cx.error_spanned_by(
            &urn.attr,
            format!("`#[urn(..)]` needs `type`: write `#[urn(type = \"System.Account.{ident}\")]`"),
        ),
        Some(lit) => check_resource_type(cx, lit),
    }
    if let Some(lit) = &urn.domain {
        check_domain(cx, lit);
    }
}

/// A URN type is dot-separated PascalCase segments (`ddbrel_grammar::validate_resource_type`).
fn check_resource_type(cx: &Ctxt, lit: &syn::LitStr) {
    let value = lit.value();
    let Err(problem) = validate_resource_type(&value) else {
        return;
    };
    let fix = match suggest_resource_type(&value) {
        Some(fixed) => format!("write `#[urn(type = \"{fixed}\")]`"),
        None => "write e.g. `#[urn(type = \"System.Account.Job\")]`".to_string(),
    };
    cx.error_spanned_by(
        lit,
        format!(
            "invalid URN type {value:?}: {problem}; a URN type is dot-separated PascalCase segments ([A-Z][A-Za-z0-9]*): {fix}"
        ),
    );
}

/// A domain is 1 to 32 of a-z, 0-9 and `-`, starting with a letter
/// (`ddbrel_grammar::validate_domain`).
fn check_domain(cx: &Ctxt, lit: &syn::LitStr) {
    let value = lit.value();
    let Err(problem) = validate_domain(&value) else {
        return;
    };
    let fix = match suggest_domain(&value) {
        Some(fixed) => format!("write `domain = \"{fixed}\"`"),
        None => format!("write e.g. `domain = \"{DEFAULT_DOMAIN}\"`"),
    };
    cx.error_spanned_by(
        lit,
        format!(
            "invalid URN domain {value:?}: {problem}; a domain is 1 to 32 of a-z, 0-9 and `-`, starting with a letter: {fix} (or leave `domain` out for \"{DEFAULT_DOMAIN}\")"
        ),
    );
}

/// Schema versions start at 1.
pub fn check_version(cx: &Ctxt, cont: &Container) {
    if let Some(version) = &cont.attrs.version
        && version.value == 0
    {
        cx.error_spanned_by(
            &version.lit,
            "schema versions start at 1: write `#[entity(version = 1)]`, or leave it out (the default is 1)",
        );
    }
}

/// A relationship names another type, never `Self`.
fn check_not_self(cx: &Ctxt, path: &Path, cont: &Container, what: &str) -> bool {
    if path.is_ident("Self") {
        cx.error_spanned_by(
            path,
            format!("`Self` cannot be {what} of `{}`: name the type", cont.ident),
        );
        return false;
    }
    true
}

/// A child's URN type is its home parent's (the first type in `#[parent(..)]`) plus one
/// segment, so a type with one segment is a root and has no parent, and the home parent is
/// never the type itself. (That the home parent's type is the right one is checked by the
/// generated code, where the parent's URN type is known.)
pub fn check_parent(cx: &Ctxt, cont: &Container) {
    let Some(parent) = cont.parent() else {
        return;
    };
    if parent.is_ident("Self") || parent.is_ident(cont.ident) {
        let name = cont.type_name();
        cx.error_spanned_by(
            parent,
            format!(
                "the first type in `#[parent(..)]` is `{name}`'s home parent, whose URN type `{name}`'s extends by one segment, so it cannot be `{name}` itself: list the type at the top of the nesting first, e.g. `#[parent(Workspace, {name})]`"
            ),
        );
        return;
    }
    if let Some(segments) = cont.segments()
        && segments.len() < 2
    {
        let parent_name = path_text(parent);
        cx.error_spanned_by(
            parent,
            format!(
                "`{}` has the one-segment URN type {:?}, so it is a root and cannot have a parent: a child's URN type is its home parent's URN type plus one segment; write `#[urn(type = \"<URN type of {parent_name}>.{}\")]` or remove `#[parent(..)]`",
                cont.ident, segments[0], cont.ident
            ),
        );
    }
}

/// Each parent type is listed once, and no two end in the same name (the name of a type's
/// variant in the generated `{Type}Parent` enum).
pub fn check_parent_list(cx: &Ctxt, cont: &Container) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for path in &cont.attrs.parents {
        let (text, name) = if path.is_ident("Self") {
            (cont.type_name(), cont.type_name())
        } else {
            let name = path
                .segments
                .last()
                .map_or_else(String::new, |segment| segment.ident.to_string());
            (path_text(path), name)
        };
        if let Some((first, _)) = seen.iter().find(|(t, n)| *t == text || *n == name) {
            let message = if *first == text {
                format!("`{text}` is listed twice in `#[parent(..)]`: list each parent type once")
            } else {
                format!(
                    "two parent types are named `{name}` (`{first}` and `{text}`): the `{}Parent` enum names its variants after them; import one under another name (`use .. as ..`)",
                    cont.type_name()
                )
            };
            cx.error_spanned_by(path, message);
        } else {
            seen.push((text, name));
        }
    }
}

/// An account-scoped resource takes its account from its parent, so it has one.
pub fn check_account_scoped(cx: &Ctxt, cont: &Container) {
    if let (Some(path), None) = (&cont.attrs.account_scoped, cont.parent()) {
        cx.error_spanned_by(
            path,
            format!(
                "`#[account_scoped]` needs `#[parent(..)]`: an account-scoped resource takes its account from its parent (the Account, or an account-scoped ancestor); add e.g. `#[parent(Account)]` to `{}`, or remove `#[account_scoped]`",
                cont.ident
            ),
        );
    }
}

/// A collection lists its member types, each once and none `Self`, and says whether
/// membership conveys authorization (there is no default for that decision).
pub fn check_collection(cx: &Ctxt, cont: &Container) {
    let Some(collection) = &cont.attrs.collection else {
        return;
    };
    if collection.members.is_empty() && !collection.incomplete {
        cx.error_spanned_by(
            &collection.attr,
            "`#[collection(..)]` needs its member types: `#[collection(of(MemberType, ..), conveys_authorization = false)]`",
        );
    }
    if collection.conveys_authorization.is_none() && !collection.incomplete {
        cx.error_spanned_by(
            &collection.attr,
            "`#[collection(..)]` needs `conveys_authorization = true` or `conveys_authorization = false`: whether a new membership grants access to the member by default (an authorization decision, so there is no implicit default)",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for member in &collection.members {
        if !check_not_self(cx, member, cont, "a member") {
            continue;
        }
        let text = member.to_token_stream().to_string().replace(' ', "");
        if seen.contains(&text) {
            cx.error_spanned_by(
                member,
                format!("`{text}` is listed twice in `of(..)`: list each member type once"),
            );
        } else {
            seen.push(text);
        }
    }
}

/// Every URN of the type fits DynamoDB's key limits (`ddbrel_grammar::MAX_URN_BYTES`).
pub fn check_urn_length(cx: &Ctxt, cont: &Container) {
    let Some(lit) = cont
        .attrs
        .urn
        .as_ref()
        .and_then(|urn| urn.resource_type.as_ref())
    else {
        return;
    };
    let longest = urn_len(&cont.domain(), &lit.value());
    if longest > MAX_URN_BYTES {
        cx.error_spanned_by(
            lit,
            format!(
                "URNs of this type would be {longest} bytes, over the {MAX_URN_BYTES} that fit DynamoDB's key limits: shorten the type path"
            ),
        );
    }
}

/// An update that changes every unique value fits in one transaction: the resource, and for
/// each constraint a marker deleted and one put. (Since contract 2 no write checks an
/// ancestor, so the depth of the tree, unbounded for a type nested in itself, does not count;
/// a create under a parent is the resource, the parent-child record, the parent's count and
/// one marker per constraint, which is fewer.)
pub fn check_transaction_size(cx: &Ctxt, cont: &Container) {
    if cont.resource_type().is_none() {
        return;
    }
    let k = cont.constraints.len();
    let actions = 1 + 2 * k;
    if actions > MAX_TRANSACTION_ACTIONS {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has {k} unique constraints: an update changing all of them needs {actions} actions, over DynamoDB's {MAX_TRANSACTION_ACTIONS} per transaction; declare at most {} constraints",
                cont.ident,
                (MAX_TRANSACTION_ACTIONS - 1) / 2
            ),
        );
    }
}
