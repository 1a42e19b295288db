//! The read-only queries: get, parent, children, members, collections, ancestors, scope,
//! account.

use ddbrel_runtime::codec::{self, to_plain_json};
use ddbrel_runtime::schema::attr;
use ddbrel_runtime::{Order, PageRequest};
use serde_json::Value;

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::parse::urn;

/// Prints a resource by URN; fails when it does not exist.
pub async fn get(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let u = urn(text)?;
    let item = ctx
        .store
        .get_item(u.as_str(), u.as_str())
        .await?
        .ok_or_else(|| Failure::new(format!("not found: {u}")))?;
    output::value(ctx.json, &to_plain_json(&item));
    Ok(())
}

/// Prints the parent of a resource (none for a root).
pub async fn parent(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let u = urn(text)?;
    let p = ctx.store.parent_of_any(&u).await?;
    let rows: Vec<Vec<Value>> = p.into_iter().map(|p| vec![p.to_string().into()]).collect();
    output::rows(ctx.json, &["parent"], &rows);
    Ok(())
}

/// Prints a page of a resource's children, optionally of one type, oldest first.
pub async fn children(
    ctx: &Ctx,
    text: &str,
    type_: Option<&str>,
    page: PageRequest,
) -> Result<(), Failure> {
    let u = urn(text)?;
    let prefix = match type_ {
        Some(t) => Some(ctx.known_types().await?.prefix(t)?),
        None => None,
    };
    let p = ctx
        .store
        .children_any(&u, prefix.as_deref(), Order::OldestFirst, page)
        .await?;
    let rows: Vec<Vec<Value>> = p
        .items
        .iter()
        .map(|c| vec![c.resource_type().to_string().into(), c.to_string().into()])
        .collect();
    output::rows(ctx.json, &["type", "urn"], &rows);
    output::cursor(ctx.json, &p.cursor);
    Ok(())
}

/// Prints a page of a collection's members and whether each membership conveys authorization.
pub async fn members(ctx: &Ctx, text: &str, page: PageRequest) -> Result<(), Failure> {
    let u = urn(text)?;
    let p = ctx.store.members_any(&u, page).await?;
    let rows: Vec<Vec<Value>> = p
        .items
        .iter()
        .map(|m| vec![m.member.to_string().into(), m.conveys_authorization.into()])
        .collect();
    output::rows(ctx.json, &["member", "conveys_authorization"], &rows);
    output::cursor(ctx.json, &p.cursor);
    Ok(())
}

/// Prints a page of the collections holding a resource (eventually consistent).
pub async fn collections(ctx: &Ctx, text: &str, page: PageRequest) -> Result<(), Failure> {
    let u = urn(text)?;
    let p = ctx.store.collections_of(&u, page).await?;
    let rows: Vec<Vec<Value>> = p
        .items
        .iter()
        .map(|m| {
            vec![
                m.collection.to_string().into(),
                m.conveys_authorization.into(),
            ]
        })
        .collect();
    output::rows(ctx.json, &["collection", "conveys_authorization"], &rows);
    output::cursor(ctx.json, &p.cursor);
    Ok(())
}

/// Prints the ancestors of a resource, root first, with their depth.
pub async fn ancestors(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let u = urn(text)?;
    let a = ctx.store.ancestors(&u).await?;
    let rows: Vec<Vec<Value>> = a
        .iter()
        .enumerate()
        .map(|(i, a)| vec![(i as u64).into(), a.to_string().into()])
        .collect();
    output::rows(ctx.json, &["depth", "urn"], &rows);
    Ok(())
}

/// Prints the authorization scope of a resource.
pub async fn scope(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let u = urn(text)?;
    let s = ctx.store.authorization_scope(&u).await?;
    let rows: Vec<Vec<Value>> = s
        .iter()
        .map(|a| vec![a.resource_type().to_string().into(), a.to_string().into()])
        .collect();
    output::rows(ctx.json, &["type", "urn"], &rows);
    Ok(())
}

/// Prints a page of the resources of a root type, oldest or newest first (with `--json`, each
/// resource whole). A type with a parent is an error: only roots are listed.
pub async fn roots(ctx: &Ctx, type_: &str, newest: bool, page: PageRequest) -> Result<(), Failure> {
    let known = ctx.known_types().await?;
    let t = known.require(type_)?;
    if let Some(parent) = &t.schema.parent {
        return Err(Failure::new(format!(
            "{} is not a root type (its parent type is {parent}): list it with `children` or `account`",
            t.schema.resource_type
        )));
    }
    let prefix = known.prefix(type_)?;
    let order = if newest {
        Order::NewestFirst
    } else {
        Order::OldestFirst
    };
    let p = ctx.store.root_resources(&prefix, order, page).await?;
    resource_rows(ctx, &p.items);
    output::cursor(ctx.json, &p.cursor);
    Ok(())
}

/// Prints resources: with `--json` each whole, else type, URN and creation time.
fn resource_rows(ctx: &Ctx, items: &[ddbrel_runtime::Item]) {
    if ctx.json {
        for item in items {
            say!("{}", to_plain_json(item));
        }
    } else {
        let rows: Vec<Vec<Value>> = items
            .iter()
            .map(|i| {
                vec![
                    codec::get_s(i, attr::RESOURCE_TYPE).unwrap_or("?").into(),
                    codec::get_s(i, "PK").unwrap_or("?").into(),
                    codec::get_s(i, attr::CREATED_AT).unwrap_or("?").into(),
                ]
            })
            .collect();
        output::rows(false, &["type", "urn", "created"], &rows);
    }
}

/// Prints a page of an account's resources, optionally of one type, oldest or newest first
/// (with `--json`, each resource whole).
pub async fn account(
    ctx: &Ctx,
    text: &str,
    type_: Option<&str>,
    newest: bool,
    page: PageRequest,
) -> Result<(), Failure> {
    let u = urn(text)?;
    let prefix = match type_ {
        Some(t) => Some(ctx.known_types().await?.prefix(t)?),
        None => None,
    };
    let order = if newest {
        Order::NewestFirst
    } else {
        Order::OldestFirst
    };
    let p = ctx
        .store
        .account_resources(&u, prefix.as_deref(), order, page)
        .await?;
    resource_rows(ctx, &p.items);
    output::cursor(ctx.json, &p.cursor);
    Ok(())
}
