//! Rules about the stored attribute names (fields and serde's container attributes) and the
//! unique constraints.

use quote::ToTokens;

use crate::ast::{Constraint, Container, Field, NameSource};
use crate::attr::Scope;
use crate::ctxt::Ctxt;
use crate::valid::suggest::{is_constraint_name, snake_case};

/// Attribute names of the table's keys, which fields cannot use.
const KEY_ATTRIBUTES: &[&str] = &["PK", "SK", "GSI1PK", "GSI1SK"];

/// The stored form is a map of this struct's named attributes: no `transparent`, no
/// `into`, and a `tag` that is not a reserved name.
pub fn check_serde_container(cx: &Ctxt, cont: &Container) {
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

/// Attribute names are not empty, do not start with `_` (ddbrel's own attributes) and are
/// not a key attribute of the table.
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

/// Each stored field has its own attribute name, known at compile time (no `flatten`), not
/// reserved, and not the `tag`'s.
pub fn check_fields(cx: &Ctxt, cont: &Container) {
    let mut seen: Vec<(&str, &Field)> = Vec::new();
    for field in &cont.fields {
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
            cx.error_spanned_by(field.name_tokens(), reserved_message(field, problem));
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(seen_name, _)| *seen_name == name) {
            cx.error_spanned_by(
                field.name_tokens(),
                format!(
                    "field `{}` would be stored as attribute `{name}`, like field `{}`: give one of them another `#[serde(rename = \"..\")]`",
                    field.ident, first.ident
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
                    "field `{}` would be stored as attribute `{name}`, which `#[serde(tag = ..)]` already writes: rename the field or the tag",
                    field.ident
                ),
            );
            continue;
        }
        seen.push((name, field));
    }
}

/// Why `field`'s attribute name is reserved, said in terms of where the name came from.
fn reserved_message(field: &Field, problem: Reserved) -> String {
    let Reserved { reason, instead } = problem;
    let ident = field.ident;
    let name = &field.attr_name;
    match &field.name_source {
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
    }
}

/// Each unique constraint has a valid, distinct name, a scope the entity has, and only
/// stored fields.
pub fn check_constraints(cx: &Ctxt, cont: &Container) {
    let mut names: Vec<&str> = Vec::new();
    for constraint in &cont.constraints {
        check_constraint_name(cx, cont, constraint, &mut names);
        check_constraint_scope(cx, cont, constraint);
        check_constraint_fields(cx, cont, constraint);
    }
}

/// Constraint names are lowercase snake_case (`[a-z][a-z0-9_]*`, they become part of a
/// function name and of the marker keys) and distinct within the entity.
fn check_constraint_name<'c>(
    cx: &Ctxt,
    cont: &Container,
    constraint: &'c Constraint,
    names: &mut Vec<&'c str>,
) {
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
                "`{}` already has a unique constraint named `{name}`: give this one another `name = \"..\"`",
                cont.ident
            ),
        );
    } else {
        names.push(name);
    }
}

/// `scope = account` needs `#[account_scoped]` and `scope = parent` needs `#[parent]`.
fn check_constraint_scope(cx: &Ctxt, cont: &Container, constraint: &Constraint) {
    let ident = cont.ident;
    match (constraint.scope, &constraint.scope_token) {
        (Scope::Account, Some(token)) if cont.attrs.account_scoped.is_none() => {
            cx.error_spanned_by(
                token,
                format!(
                    "`scope = account` needs `#[account_scoped]` on `{ident}`: only account-scoped resources know their account; add `#[account_scoped]`, or write `scope = global` or `scope = parent`"
                ),
            );
        }
        (Scope::Parent, Some(token)) if cont.attrs.parents.is_empty() => {
            cx.error_spanned_by(
                token,
                format!(
                    "`scope = parent` needs `#[parent(..)]` on `{ident}`: without a parent, `{ident}` is a root and there are no siblings to be unique among; add `#[parent(ParentType)]`, or write `scope = global`"
                ),
            );
        }
        _ => {}
    }
}

/// A constraint's fields are stored (not `#[serde(skip)]`).
fn check_constraint_fields(cx: &Ctxt, cont: &Container, constraint: &Constraint) {
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

/// A `StringSet` field is `#[serde(default, skip_serializing_if = "StringSet::is_empty")]`:
/// DynamoDB stores no empty set, and removing a set's last element removes the attribute, so
/// an empty set must be written as no attribute and read back from none.
pub fn check_string_sets(cx: &Ctxt, cont: &Container) {
    for field in &cont.fields {
        let syn::Type::Path(path) = field.ty else {
            continue;
        };
        let is_set = path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "StringSet" && segment.arguments.is_none());
        let serde = &field.attrs.serde;
        if !is_set || !field.stored() || serde.custom || (serde.default && serde.skip_if) {
            continue;
        }
        cx.error_spanned_by(
            field.ty,
            format!(
                "field `{}` is a `StringSet`, which DynamoDB cannot store empty: declare it `#[serde(default, skip_serializing_if = \"StringSet::is_empty\")]`",
                field.ident
            ),
        );
    }
}
