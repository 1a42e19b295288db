//! `#[derive(Entity)]` for ddbrel.
//!
//! Reads `#[urn]`, `#[entity]`, `#[parent]`, `#[account_scoped]`, `#[collection]`, `#[unique]`
//! and the parts of `#[serde]` that decide attribute names; checks every rule (all mistakes are
//! reported together, each at the token at fault); and generates the `Entity` impl, the
//! relationship marker impls, compile-time checks of what only the type checker knows, and
//! the inherent URN and lookup functions. The attributes are documented on the re-export,
//! `ddbrel_runtime::Entity`.
//!
//! Layout: [`attr`] reads attributes, [`ast`] is what was parsed, [`prop`] the facts derived
//! from it, [`valid`] holds the rules, [`expand`] and [`inherent`] generate code, and
//! [`fallback`] generates the errors with stub impls when a rule is broken (so that each
//! mistake is reported once); [`ctxt`] collects errors.

mod ast;
mod attr;
mod case;
mod ctxt;
mod expand;
mod fallback;
mod fields;
mod inherent;
mod prop;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `ddbrel_runtime::Entity` for a struct with named fields (no generics), plus the
/// relationship marker traits and inherent URN and lookup functions.
///
/// ```ignore
/// #[derive(Serialize, Deserialize, Entity)]
/// #[urn(type = "System.Account.JobCollection.Job")] // required; `domain = "pp"` is the default
/// #[entity(version = 2)]                            // schema version, default 1
/// #[parent(JobCollection)]                          // 1:n parent; without it the type is a root
/// #[account_scoped]                                 // carries `_accountUrn` (needs a parent)
/// #[unique(fields(name, region), scope = parent, name = "name_region")] // composite
/// pub struct Job {
///     #[unique(scope = parent, case_insensitive)]
///     pub name: String,
///     pub region: Option<String>,
/// }
/// ```
///
/// - `#[urn(type = "A.B.C", domain = "d")]`: the URN resource type (dot-separated PascalCase
///   segments) and domain (`[a-z][a-z0-9-]{0,31}`).
/// - `#[entity(version = N)]`: the schema version written as `_schemaVersion` (at least 1).
/// - `#[parent(P)]`: implements `Child<Parent = P>`; `P`'s URN type must be this type's minus
///   its last segment (checked at compile time). Without it, implements `Root`.
///   `#[parent(P, on_delete = restrict)]`: deleting a `P` that still has children of this
///   type is refused (`Error::Restricted`), at any depth of a cascade; the default is
///   `on_delete = cascade` (the children are deleted with it).
/// - `#[account_scoped]`: implements `AccountScoped`, with `Account` the account's type: the
///   parent's account if the parent is account-scoped, else the parent. The account comes
///   from the parent, so a parent is required. Every entity also implements `AccountParent`
///   (the account its children get).
/// - `#[collection(of(A, B), conveys_authorization = true|false)]`: implements `Collection`
///   and `MemberOf<Self>` for each member. `conveys_authorization` is required: whether a new
///   membership grants access is a decision to write down, not a default. `on_delete =
///   restrict` refuses deleting the collection while it has members (default `cascade`:
///   the members leave it).
/// - `#[unique]` on a field, or `#[unique(fields(a, b))]` on the struct, with optional
///   `scope = global|account|parent` (default `global`; `account` needs `#[account_scoped]`,
///   `parent` needs `#[parent]`), `case_insensitive` and `name = "snake_case"` (default: the
///   field's name, or the fields joined with `_`). Field types must implement
///   `UniqueKeyPart`; an `Option` that is `None` holds no marker. Each constraint gets
///   `find_by_<name>(store, [account | parent,] values..)`.
/// - serde's `rename`, `rename_all`, `skip` and `skip_serializing` decide the stored attribute
///   names; `flatten`, `transparent` and `into` are refused, as are names that start with `_`
///   or are `PK`, `SK`, `GSI1PK` or `GSI1SK`.
///
/// Every mistake is reported at once, each at the token at fault.
#[proc_macro_derive(
    Entity,
    attributes(urn, entity, parent, account_scoped, collection, unique)
)]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
