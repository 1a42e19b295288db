//! `ddbrel schema`: the entity types this binary and the table know, their publication into
//! the table's type registry, and a JSON Schema of their records for readers in other
//! languages.

use clap::Subcommand;
use ddbrel_runtime::schema::attr;
use ddbrel_runtime::{TypeSchema, UniqueScope};
use serde_json::{Map, Value, json};

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::types::Known;

/// What `ddbrel schema` does (by default, `list`).
#[derive(Subcommand, Debug)]
pub enum SchemaAction {
    /// List the known types: compiled into this binary, registered in the table, or both.
    List,
    /// Publish this binary's entity types into the table's type registry (an application's
    /// admin binary; the shipped binary's sample types are published by `demo`).
    Register,
    /// Print a JSON Schema (2020-12) of the Resource records of every known type, in the
    /// plain JSON form `ddbrel get --json` prints.
    JsonSchema,
}

/// Runs one `ddbrel schema` action.
pub async fn schema(ctx: &Ctx, action: Option<SchemaAction>) -> Result<(), Failure> {
    match action.unwrap_or(SchemaAction::List) {
        SchemaAction::List => list(ctx, &ctx.known_types().await?),
        SchemaAction::Register => register(ctx).await,
        SchemaAction::JsonSchema => {
            let known = ctx.known_types().await?;
            output::value(true, &json_schema(ctx.store.table(), &known));
            Ok(())
        }
    }
}

fn list(ctx: &Ctx, known: &Known) -> Result<(), Failure> {
    if ctx.json {
        for t in &known.types {
            let mut v = serde_json::to_value(&t.schema)
                .map_err(|e| Failure::new(format!("type {}: {e}", t.schema.resource_type)))?;
            if let Value::Object(o) = &mut v {
                o.insert("source".into(), t.source.as_str().into());
            }
            say!("{v}");
        }
        return Ok(());
    }
    let rows: Vec<Vec<Value>> = known
        .types
        .iter()
        .map(|t| {
            let s = &t.schema;
            let unique = s
                .unique
                .iter()
                .map(|c| {
                    let scope = match c.scope {
                        UniqueScope::Global => String::new(),
                        other => format!(" per {}", other.as_str()),
                    };
                    let case = if c.case_insensitive { ", any case" } else { "" };
                    format!("{}({}){scope}{case}", c.name, c.fields.join("+"))
                })
                .collect::<Vec<_>>()
                .join("; ");
            let members = s
                .collection
                .as_ref()
                .map(|c| c.members.join(","))
                .unwrap_or_default();
            vec![
                s.type_name.clone().into(),
                format!("{}:{}", s.domain, s.resource_type).into(),
                s.schema_version.into(),
                s.parent_types().join(",").into(),
                s.account_scoped.into(),
                unique.into(),
                members.into(),
                t.source.as_str().into(),
            ]
        })
        .collect();
    output::rows(
        false,
        &[
            "type", "urn type", "version", "parent", "account", "unique", "members", "source",
        ],
        &rows,
    );
    Ok(())
}

async fn register(ctx: &Ctx) -> Result<(), Failure> {
    let published = ctx.registry.published();
    if published.is_empty() {
        return Err(Failure::new(
            "this binary has no application types to publish (the shipped `ddbrel` knows only \
             the sample types, which `demo` publishes): call `Store::register` from the \
             application, or build an admin binary on `ddbrel_cli::main`",
        ));
    }
    let r = ctx.store.register_types(&published).await?;
    let rows: Vec<Vec<Value>> = r
        .written
        .iter()
        .map(|t| vec![t.clone().into(), "written".into()])
        .chain(
            r.unchanged
                .iter()
                .map(|t| vec![t.clone().into(), "unchanged".into()]),
        )
        .collect();
    output::rows(ctx.json, &["type", "registry"], &rows);
    Ok(())
}

/// A JSON Schema with one definition per known type, each describing that type's Resource
/// record as `ddbrel get --json` prints it (SCHEMA.md §5.1). Entity fields are listed by name;
/// their value types are the application's and are left open.
pub fn json_schema(table: &str, known: &Known) -> Value {
    let mut defs = Map::new();
    defs.insert(
        "timestamp".into(),
        json!({
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
            "description": "ISO-8601 UTC with milliseconds (SCHEMA.md section 4)"
        }),
    );
    let mut refs = Vec::new();
    for t in &known.types {
        let name = format!("{}:{}", t.schema.domain, t.schema.resource_type);
        refs.push(json!({ "$ref": format!("#/$defs/{name}") }));
        defs.insert(name, resource_schema(&t.schema));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:ddbrel:table:{table}"),
        "title": format!("Resource records of table {table}"),
        "oneOf": refs,
        "$defs": defs,
    })
}

fn urn_of(domain: &str, resource_type: &str) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^urn:{}:{}::", regex_escape(domain), regex_escape(resource_type)),
    })
}

/// A URN of any of `resource_types` (the parent types of a type with several).
fn urn_of_any(domain: &str, resource_types: &[&str]) -> Value {
    if let [one] = resource_types {
        return urn_of(domain, one);
    }
    let types: Vec<String> = resource_types.iter().map(|t| regex_escape(t)).collect();
    json!({
        "type": "string",
        "pattern": format!("^urn:{}:({})::", regex_escape(domain), types.join("|")),
    })
}

fn regex_escape(s: &str) -> String {
    s.replace('.', "\\.")
}

fn resource_schema(s: &TypeSchema) -> Value {
    let urn = urn_of(&s.domain, &s.resource_type);
    let urn_any = json!({ "type": "string", "pattern": "^urn:" });
    let urn_list = json!({ "type": "array", "items": urn_any });
    let mut props = Map::new();
    let mut required: Vec<&str> = vec![
        "PK",
        "SK",
        attr::TYPE,
        attr::SCHEMA_VERSION,
        attr::CREATED_AT,
        attr::RESOURCE_TYPE,
        attr::VERSION,
        attr::UPDATED_AT,
    ];
    props.insert("PK".into(), urn.clone());
    props.insert("SK".into(), urn);
    props.insert(attr::TYPE.into(), json!({ "const": "Resource" }));
    props.insert(
        attr::SCHEMA_VERSION.into(),
        json!({ "type": "integer", "minimum": 1, "maximum": s.schema_version }),
    );
    props.insert(
        attr::CREATED_AT.into(),
        json!({ "$ref": "#/$defs/timestamp" }),
    );
    props.insert(
        attr::UPDATED_AT.into(),
        json!({ "$ref": "#/$defs/timestamp" }),
    );
    props.insert(
        attr::RESOURCE_TYPE.into(),
        json!({ "const": s.resource_type }),
    );
    props.insert(
        attr::VERSION.into(),
        json!({ "type": "integer", "minimum": 1 }),
    );
    let parents = s.parent_types();
    if !parents.is_empty() {
        props.insert(attr::PARENT_URN.into(), urn_of_any(&s.domain, &parents));
        props.insert(attr::ANCESTORS.into(), urn_list.clone());
        required.extend([attr::PARENT_URN, attr::ANCESTORS]);
    }
    if s.account_scoped {
        props.insert(attr::ACCOUNT_URN.into(), urn_any.clone());
        required.push(attr::ACCOUNT_URN);
    }
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    for (name, schema) in [
        (attr::UNIQUE_KEYS, strings.clone()),
        (attr::MEMBER_OF, urn_list.clone()),
        (attr::CONVEYING_COLLECTIONS, urn_list),
        (
            attr::CHILD_COUNT,
            json!({ "type": "integer", "minimum": 0 }),
        ),
        (attr::WRITE_TOKEN, json!({ "type": "string" })),
        (attr::DELETING, json!({ "type": "string" })),
    ] {
        props.insert(name.into(), schema);
    }
    if s.collection.is_some() {
        props.insert(
            attr::MEMBER_COUNT.into(),
            json!({ "type": "integer", "minimum": 0 }),
        );
    }
    for field in &s.fields {
        props.insert(
            field.clone(),
            json!({ "description": format!("entity field of {}", s.type_name) }),
        );
    }
    let mut out = json!({
        "title": format!("{} ({}:{})", s.type_name, s.domain, s.resource_type),
        "type": "object",
        "properties": props,
        "required": required,
    });
    if let (Value::Object(o), false) = (&mut out, s.unique.is_empty()) {
        o.insert(
            "x-ddbrel-unique".into(),
            serde_json::to_value(&s.unique).unwrap_or(Value::Null),
        );
    }
    out
}
