//! Renders `specs/ENTITIES.md` from entity descriptors: a table of the types and a Mermaid
//! diagram of their relationships.

use std::fmt::Write;

use ddbrel_runtime::{EntityDescriptor, UniqueScope};

/// The command that regenerates `specs/ENTITIES.md`.
pub const BLESS_COMMAND: &str = "DDBREL_BLESS=1 cargo test -p ddbrel-tests --test entities_doc";

/// Renders the Markdown document describing `descriptors` (in the given order).
pub fn entities_markdown(descriptors: &[&EntityDescriptor]) -> String {
    let mut out = String::new();
    out.push_str("# Entities\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the `#[derive(Entity)]` declarations in `entities/` by \
         `entities::docs::entities_markdown`. Do not edit by hand; regenerate with \
         `{BLESS_COMMAND}`. -->\n"
    );
    out.push_str(
        "Every entity is stored as `Resource` records in the one table, keyed by its URN \
         `urn:{domain}:{URN type}::{uuid v7}` (see `specs/SCHEMA.md`).\n\n",
    );

    out.push_str("## Types\n\n");
    out.push_str(
        "| Type | URN type | Domain | Version | Parent | Account-scoped | Unique constraints | Collection of | Membership conveys authorization |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for d in descriptors {
        let parent = if d.parents.is_empty() {
            d.parent
                .map_or_else(|| "—".to_string(), |p| type_ref(descriptors, p))
        } else {
            let refs: Vec<String> = d.parents.iter().map(|p| type_ref(descriptors, p)).collect();
            refs.join(" or ")
        };
        let unique = if d.unique.is_empty() {
            "—".to_string()
        } else {
            d.unique
                .iter()
                .map(|u| {
                    let fields: Vec<String> = u.fields.iter().map(|f| format!("`{f}`")).collect();
                    let scope = match u.scope {
                        UniqueScope::Global => "global",
                        UniqueScope::Account => "per account",
                        UniqueScope::Parent => "per parent",
                    };
                    let case = if u.case_insensitive {
                        "case-insensitive"
                    } else {
                        "case-sensitive"
                    };
                    format!("`{}` on {}: {scope}, {case}", u.name, fields.join(" + "))
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let (members, conveys) = match &d.collection {
            Some(c) => (
                c.members
                    .iter()
                    .map(|m| type_ref(descriptors, m))
                    .collect::<Vec<_>>()
                    .join(", "),
                yes_no(c.conveys_authorization).to_string(),
            ),
            None => ("—".to_string(), "—".to_string()),
        };
        let _ = writeln!(
            out,
            "| `{}` | `{}` | `{}` | {} | {parent} | {} | {unique} | {members} | {conveys} |",
            d.type_name,
            d.resource_type,
            d.domain,
            d.schema_version,
            yes_no(d.account_scoped),
        );
    }

    out.push_str("\n## Attributes\n\n");
    out.push_str(
        "The entity's own top-level attributes, as serde names them. The reserved attributes \
         (`PK`, `SK`, `_type`, `_version`, ..) are written by the store.\n\n",
    );
    out.push_str("| Type | Attributes |\n|---|---|\n");
    for d in descriptors {
        let fields: Vec<String> = d.fields.iter().map(|f| format!("`{f}`")).collect();
        let fields = if fields.is_empty() {
            "—".to_string()
        } else {
            fields.join(", ")
        };
        let _ = writeln!(out, "| `{}` | {fields} |", d.type_name);
    }

    out.push_str("\n## Relationships\n\n");
    out.push_str(
        "Solid arrows go from a parent type to its child type (1:n, `#[parent(..)]`; deleting \
         the parent deletes the children). Dotted arrows go from a collection type to a member \
         type (n:n, `#[collection(of(..))]`).\n\n",
    );
    out.push_str("```mermaid\nflowchart TD\n");
    for d in descriptors {
        let _ = writeln!(
            out,
            "    {}[\"{}<br/><small>{}</small>\"]",
            node_id(d.resource_type),
            d.type_name,
            d.resource_type
        );
    }
    for d in descriptors {
        let parents: Vec<&str> = if d.parents.is_empty() {
            d.parent.into_iter().collect()
        } else {
            d.parents.to_vec()
        };
        for parent in parents {
            let _ = writeln!(
                out,
                "    {} -->|parent of| {}",
                node_id(parent),
                node_id(d.resource_type)
            );
        }
    }
    for d in descriptors {
        if let Some(c) = &d.collection {
            let label = if c.conveys_authorization {
                "member, conveys authorization"
            } else {
                "member"
            };
            for member in c.members {
                let _ = writeln!(
                    out,
                    "    {} -.->|{label}| {}",
                    node_id(d.resource_type),
                    node_id(member)
                );
            }
        }
    }
    out.push_str("```\n");
    out
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// The type name for `resource_type` when it is among `descriptors`, else the URN type.
fn type_ref(descriptors: &[&EntityDescriptor], resource_type: &str) -> String {
    match descriptors
        .iter()
        .find(|d| d.resource_type == resource_type)
    {
        Some(d) => format!("`{}`", d.type_name),
        None => format!("`{resource_type}`"),
    }
}

/// A Mermaid node id for a resource type (dots are not allowed in ids).
fn node_id(resource_type: &str) -> String {
    resource_type.replace('.', "_")
}
