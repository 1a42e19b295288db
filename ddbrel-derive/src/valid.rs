//! Every rule an entity declaration must follow, each reported at the token that breaks it
//! and saying what to write instead.

use ddbrel_grammar::{validate_domain, validate_resource_type};
use quote::ToTokens;
use syn::{GenericParam, Path};

use crate::ast::{Container, Field, NameSource};
use crate::attr::Scope;
use crate::ctxt::Ctxt;

pub use ddbrel_grammar::DEFAULT_DOMAIN;

/// Attribute names of the table's keys, which fields cannot use.
const KEY_ATTRIBUTES: &[&str] = &["PK", "SK", "GSI1PK", "GSI1SK"];

/// Checks everything that can be checked before type checking.
pub fn check(cx: &Ctxt, cont: &Container) {
    check_generics(cx, cont);
    check_urn(cx, cont);
    check_version(cx, cont);
    check_parent(cx, cont);
    check_account_scoped(cx, cont);
    check_serde_container(cx, cont);
    check_fields(cx, cont);
    check_constraints(cx, cont);
    check_collection(cx, cont);
    check_limits(cx, cont);
}

/// What DynamoDB's limits make impossible, known at compile time: a URN too long for its keys,
/// and more unique constraints than one transaction can move.
fn check_limits(cx: &Ctxt, cont: &Container) {
    let Some(urn) = &cont.attrs.urn else { return };
    let Some(lit) = &urn.resource_type else {
        return;
    };
    let resource_type = lit.value();
    let domain = urn
        .domain
        .as_ref()
        .map_or_else(|| DEFAULT_DOMAIN.to_string(), |d| d.value());
    // `urn:` + domain + `:` + type + `::` + 36-character id, within 1013 bytes (SCHEMA.md).
    let longest = 4 + domain.len() + 1 + resource_type.len() + 2 + 36;
    if longest > 1013 {
        cx.error_spanned_by(
            lit,
            format!(
                "URNs of this type would be {longest} bytes, over the 1013 that fit DynamoDB's key limits: shorten the type path"
            ),
        );
    }
    // An update that changes every unique value: the resource, a check of each ancestor,
    // and for each constraint a marker deleted and one put.
    let segments = resource_type.split('.').count();
    let k = cont.constraints.len();
    let actions = 1 + segments.saturating_sub(1) + 2 * k;
    if actions > 100 {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has {k} unique constraints: an update changing all of them needs {actions} actions, over DynamoDB's 100 per transaction; declare at most {} constraints",
                cont.ident,
                (100 - 1 - segments.saturating_sub(1)) / 2
            ),
        );
    }
}

fn check_generics(cx: &Ctxt, cont: &Container) {
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

fn check_urn(cx: &Ctxt, cont: &Container) {
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
        Some(lit) => {
            let value = lit.value();
            if let Err(problem) = validate_resource_type(&value) {
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
        }
    }
    if let Some(lit) = &urn.domain {
        let value = lit.value();
        if let Err(problem) = validate_domain(&value) {
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
    }
}

fn check_version(cx: &Ctxt, cont: &Container) {
    if let Some(version) = &cont.attrs.version
        && version.value == 0
    {
        cx.error_spanned_by(
            &version.lit,
            "schema versions start at 1: write `#[entity(version = 1)]`, or leave it out (the default is 1)",
        );
    }
}

/// The URN type's segments, when it is valid.
pub fn segments(cont: &Container) -> Option<Vec<String>> {
    let value = cont.attrs.urn.as_ref()?.resource_type.as_ref()?.value();
    validate_resource_type(&value).ok()?;
    Some(value.split('.').map(str::to_string).collect())
}

fn check_self(cx: &Ctxt, path: &Path, cont: &Container, what: &str) -> bool {
    if path.is_ident("Self") {
        cx.error_spanned_by(
            path,
            format!("`Self` cannot be {what} of `{}`: name the type", cont.ident),
        );
        return false;
    }
    true
}

fn check_parent(cx: &Ctxt, cont: &Container) {
    let Some(parent) = &cont.attrs.parent else {
        return;
    };
    if !check_self(cx, parent, cont, "the parent") {
        return;
    }
    if let Some(segments) = segments(cont)
        && segments.len() < 2
    {
        let parent_name = parent.to_token_stream().to_string().replace(' ', "");
        cx.error_spanned_by(
                parent,
                format!(
                    "`{}` has the one-segment URN type {:?}, so it is a root and cannot have a parent: a child's URN type is its parent's URN type plus one segment; write `#[urn(type = \"<URN type of {parent_name}>.{}\")]` or remove `#[parent(..)]`",
                    cont.ident, segments[0], cont.ident
                ),
            );
    }
}

fn check_account_scoped(cx: &Ctxt, cont: &Container) {
    if let (Some(path), None) = (&cont.attrs.account_scoped, &cont.attrs.parent) {
        cx.error_spanned_by(
            path,
            format!(
                "`#[account_scoped]` needs `#[parent(..)]`: an account-scoped resource takes its account from its parent (the Account, or an account-scoped ancestor); add e.g. `#[parent(Account)]` to `{}`, or remove `#[account_scoped]`",
                cont.ident
            ),
        );
    }
}

fn check_serde_container(cx: &Ctxt, cont: &Container) {
    let serde = &cont.attrs.serde;
    if let Some(path) = &serde.transparent {
        cx.error_spanned_by(
            path,
            "`#[serde(transparent)]` is not supported on an entity: an entity is stored as a map of named attributes; remove it",
        );
    }
    if let Some(path) = &serde.into {
        cx.error_spanned_by(
            path,
            "`#[serde(into = \"..\")]` is not supported on an entity: the stored attribute names must be this struct's fields; remove it",
        );
    }
    if let Some(tag) = &serde.tag
        && let Some(problem) = reserved_problem(&tag.value())
    {
        cx.error_spanned_by(
            tag,
            format!(
                "`#[serde(tag = {:?})]` writes the attribute {:?}, but {}; write e.g. `tag = {:?}`",
                tag.value(),
                tag.value(),
                problem.reason,
                problem.instead
            ),
        );
    }
}

/// Why an attribute name is reserved and what to write instead.
struct Reserved {
    reason: String,
    instead: String,
}

fn reserved_problem(name: &str) -> Option<Reserved> {
    if name.is_empty() {
        return Some(Reserved {
            reason: "attribute names cannot be empty".into(),
            instead: "value".into(),
        });
    }
    if let Some(rest) = name.strip_prefix('_') {
        let trimmed = rest.trim_start_matches('_');
        return Some(Reserved {
            reason: "attribute names starting with `_` are reserved for the attributes ddbrel writes (`_type`, `_version`, `_createdAt`, ..)".into(),
            instead: if trimmed.is_empty() {
                "value".into()
            } else {
                trimmed.into()
            },
        });
    }
    if KEY_ATTRIBUTES.contains(&name) {
        return Some(Reserved {
            reason: format!("`{name}` is a key attribute of the table, written by ddbrel"),
            instead: format!("{}_value", name.to_ascii_lowercase()),
        });
    }
    None
}

fn check_fields(cx: &Ctxt, cont: &Container) {
    let mut seen: Vec<(&str, &Field)> = Vec::new();
    for field in &cont.fields {
        let ident = field.ident;
        if let Some(flatten) = &field.attrs.serde.flatten {
            cx.error_spanned_by(
                flatten,
                format!(
                    "`#[serde(flatten)]` is not supported on an entity: the stored attribute names must be known at compile time; declare the fields of `{}` in `{}` itself",
                    field.ty.to_token_stream().to_string().replace(' ', ""),
                    cont.ident
                ),
            );
            continue;
        }
        if !field.stored() {
            continue;
        }
        let name = field.attr_name.as_str();
        if let Some(problem) = reserved_problem(name) {
            let Reserved { reason, instead } = problem;
            let message = match &field.name_source {
                NameSource::Ident => format!(
                    "field `{ident}` would be stored as attribute `{name}`, but {reason}; rename the field (e.g. `{instead}`) or add `#[serde(rename = \"{instead}\")]`"
                ),
                NameSource::Rename(_) => format!(
                    "`#[serde(rename = \"{name}\")]` would store field `{ident}` as attribute `{name}`, but {reason}; write another name, e.g. `#[serde(rename = \"{instead}\")]`"
                ),
                NameSource::RenameAll(lit) => format!(
                    "with `#[serde(rename_all = {:?})]`, field `{ident}` would be stored as attribute `{name}`, but {reason}; add `#[serde(rename = \"{instead}\")]` to the field",
                    lit.value()
                ),
            };
            cx.error_spanned_by(field.name_tokens(), message);
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(seen_name, _)| *seen_name == name) {
            cx.error_spanned_by(
                field.name_tokens(),
                format!(
                    "field `{ident}` would be stored as attribute `{name}`, like field `{}`: give one of them another `#[serde(rename = \"..\")]`",
                    first.ident
                ),
            );
            continue;
        }
        if cont
            .attrs
            .serde
            .tag
            .as_ref()
            .is_some_and(|tag| tag.value() == name)
        {
            cx.error_spanned_by(
                field.name_tokens(),
                format!(
                    "field `{ident}` would be stored as attribute `{name}`, which `#[serde(tag = ..)]` already writes: rename the field or the tag"
                ),
            );
            continue;
        }
        seen.push((name, field));
    }
}

fn check_constraints(cx: &Ctxt, cont: &Container) {
    let ident = cont.ident;
    let mut names: Vec<&str> = Vec::new();
    for constraint in &cont.constraints {
        let name = constraint.name.as_str();
        if !is_constraint_name(name) {
            let fix = snake_case(name);
            let message = if !constraint.composite && !constraint.explicit_name {
                format!(
                    "the constraint is named after field `{name}`, but constraint names are lowercase snake_case ([a-z][a-z0-9_]*): add `name = \"{fix}\"` to `#[unique(..)]`"
                )
            } else {
                format!(
                    "invalid constraint name {name:?}: constraint names are lowercase snake_case ([a-z][a-z0-9_]*); write `name = \"{fix}\"`"
                )
            };
            cx.error_spanned_by(&constraint.name_tokens, message);
        } else if names.contains(&name) {
            cx.error_spanned_by(
                &constraint.name_tokens,
                format!(
                    "`{ident}` already has a unique constraint named `{name}`: give this one another `name = \"..\"`"
                ),
            );
        } else {
            names.push(name);
        }

        match (constraint.scope, &constraint.scope_token) {
            (Scope::Account, Some(token)) if cont.attrs.account_scoped.is_none() => {
                cx.error_spanned_by(
                    token,
                    format!(
                        "`scope = account` needs `#[account_scoped]` on `{ident}`: only account-scoped resources know their account; add `#[account_scoped]`, or write `scope = global` or `scope = parent`"
                    ),
                );
            }
            (Scope::Parent, Some(token)) if cont.attrs.parent.is_none() => {
                cx.error_spanned_by(
                    token,
                    format!(
                        "`scope = parent` needs `#[parent(..)]` on `{ident}`: without a parent, `{ident}` is a root and there are no siblings to be unique among; add `#[parent(ParentType)]`, or write `scope = global`"
                    ),
                );
            }
            _ => {}
        }

        for (&index, tokens) in constraint.fields.iter().zip(&constraint.field_tokens) {
            let field = &cont.fields[index];
            if let Some(skip) = &field.attrs.serde.skip {
                let skip = skip.to_token_stream().to_string();
                cx.error_spanned_by(
                    tokens,
                    format!(
                        "field `{}` is `#[serde({skip})]`, so it is not stored and cannot be part of a unique constraint: remove `#[serde({skip})]` or the field from the constraint",
                        field.ident
                    ),
                );
            }
        }
    }
}

fn check_collection(cx: &Ctxt, cont: &Container) {
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
        if !check_self(cx, member, cont, "a member") {
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

/// A valid resource type close to `value`, if one can be made.
fn suggest_resource_type(value: &str) -> Option<String> {
    let segments: Vec<String> = value
        .split(['.', ':', '/'])
        .map(|segment| {
            let mut out = String::new();
            let mut upper = true;
            for c in segment.chars() {
                if c.is_ascii_alphanumeric() {
                    if out.is_empty() && c.is_ascii_digit() {
                        continue;
                    }
                    out.push(if upper { c.to_ascii_uppercase() } else { c });
                    upper = false;
                } else {
                    upper = true;
                }
            }
            out
        })
        .filter(|segment| !segment.is_empty())
        .collect();
    let fixed = segments.join(".");
    (fixed != value && validate_resource_type(&fixed).is_ok()).then_some(fixed)
}

/// A valid domain close to `value`, if one can be made.
fn suggest_domain(value: &str) -> Option<String> {
    let mut fixed: String = value
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '_' | ' ' | '.' => Some('-'),
            _ => None,
        })
        .skip_while(|c| !c.is_ascii_lowercase())
        .collect();
    fixed.truncate(32);
    (fixed != value && validate_domain(&fixed).is_ok()).then_some(fixed)
}

/// Whether `name` matches `[a-z][a-z0-9_]*`.
pub fn is_constraint_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `name` as lowercase snake_case matching `[a-z][a-z0-9_]*` (best effort).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if out.is_empty() && c.is_ascii_digit() {
                continue;
            }
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "constraint".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types() {
        assert_eq!(
            suggest_resource_type("system.account.job_collection").as_deref(),
            Some("System.Account.JobCollection")
        );
        assert_eq!(suggest_resource_type("..."), None);
    }

    #[test]
    fn domains() {
        assert_eq!(suggest_domain("My_Domain").as_deref(), Some("my-domain"));
    }

    #[test]
    fn constraint_names() {
        assert!(is_constraint_name("email"));
        assert!(is_constraint_name("first_last_2"));
        assert!(!is_constraint_name("Email"));
        assert!(!is_constraint_name("_email"));
        assert!(!is_constraint_name("e-mail"));
        assert!(!is_constraint_name(""));
        assert_eq!(snake_case("userName"), "user_name");
        assert_eq!(snake_case("e-mail"), "e_mail");
        assert_eq!(snake_case("_x"), "x");
    }
}
