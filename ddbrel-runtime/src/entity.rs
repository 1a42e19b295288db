//! The [`Entity`] trait that `#[derive(Entity)]` implements, the declaration of an entity type
//! as data ([`EntityDescriptor`]), and the marker traits that make relationship and query
//! operations type-check.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Item;
use crate::error::Error;

/// An entity type stored as `Resource` records in the table.
///
/// Implemented by `#[derive(Entity)]`; implement it by hand only for tests or unusual cases.
/// The struct's fields are the resource's own attributes (through serde); everything the
/// store needs to know about the type is in [`Entity::descriptor`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a ddbrel entity",
    label = "not an entity type",
    note = "declare it with `#[derive(ddbrel_runtime::Entity)]` and `#[urn(type = \"..\")]`"
)]
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The URN resource type, e.g. `System.Account.JobCollection.Job`.
    const RESOURCE_TYPE: &'static str;
    /// The URN domain, e.g. `pp`.
    const DOMAIN: &'static str;
    /// The schema version this code writes as `_schemaVersion` (at least 1).
    const SCHEMA_VERSION: u32;
    /// Whether resources of this type carry `_accountUrn` and appear in
    /// `ResourcesByAccountIndex`.
    const ACCOUNT_SCOPED: bool;

    /// The declaration of this type as data.
    fn descriptor() -> &'static EntityDescriptor;

    /// The raw parts of each unique constraint's value, one entry per
    /// [`EntityDescriptor::unique`] in the same order. `None` means the constraint holds no
    /// marker for this value (an `Option` field that is `None`). The store normalizes and
    /// encodes the parts; see [`crate::unique`].
    fn unique_parts(&self) -> Vec<Option<Vec<String>>>;

    /// Upgrades the attributes of an item written at `from_version` (older than
    /// [`Entity::SCHEMA_VERSION`]) so that they decode as this version. Called on read before
    /// decoding and by the eager migration. The default accepts the item unchanged, which is
    /// right when the newer version only added fields with `#[serde(default)]`.
    fn migrate(from_version: u32, item: &mut Item) -> Result<(), Error> {
        let _ = (from_version, item);
        Ok(())
    }
}

/// The declaration of an entity type as data: what `#[derive(Entity)]` read from the
/// attributes. Used by the store, the documentation generator and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityDescriptor {
    /// The Rust type name, e.g. `Job`.
    pub type_name: &'static str,
    /// The URN resource type, e.g. `System.Account.JobCollection.Job`.
    pub resource_type: &'static str,
    /// The URN domain.
    pub domain: &'static str,
    /// The schema version written as `_schemaVersion`.
    pub schema_version: u32,
    /// The home parent's resource type, for types declared with `#[parent(..)]`: the first
    /// type listed, whose URN type this type's URN type extends by one segment.
    pub parent: Option<&'static str>,
    /// Every parent type's resource type, the home parent first (empty for a root type). A
    /// type nested in itself lists its own resource type.
    pub parents: &'static [&'static str],
    /// What deleting the parent does to a child of this type: `#[parent(P, on_delete = ..)]`,
    /// [`OnDelete::Cascade`] by default (and for root types).
    pub on_delete: OnDelete,
    /// Whether the type is account-scoped.
    pub account_scoped: bool,
    /// The unique constraints, in declaration order.
    pub unique: &'static [UniqueConstraint],
    /// The collection declaration, for types declared with `#[collection(..)]`.
    pub collection: Option<CollectionDescriptor>,
    /// The top-level attribute names the entity's fields are stored under (after serde
    /// renames; skipped fields are not listed).
    pub fields: &'static [&'static str],
}

/// A unique constraint as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueConstraint {
    /// The constraint's name (the field name, or `name = "..."`), part of the marker key.
    pub name: &'static str,
    /// The attribute names whose values make up the constraint, in order.
    pub fields: &'static [&'static str],
    /// Where the value must be unique.
    pub scope: UniqueScope,
    /// Whether values are compared after Unicode lowercasing.
    pub case_insensitive: bool,
}

/// Where a unique value must be unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UniqueScope {
    /// Across the whole table.
    Global,
    /// Within the resource's account (the type must be account-scoped).
    Account,
    /// Among the children of the resource's parent (the type must have a parent).
    Parent,
}

impl UniqueScope {
    /// The scope's name as written in `#[unique(scope = ..)]`.
    pub fn as_str(self) -> &'static str {
        match self {
            UniqueScope::Global => "global",
            UniqueScope::Account => "account",
            UniqueScope::Parent => "parent",
        }
    }
}

/// A collection declaration: which types it holds and whether membership conveys
/// authorization by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionDescriptor {
    /// The resource types of the members.
    pub members: &'static [&'static str],
    /// The default for `_conveysAuthorization` on new memberships.
    pub conveys_authorization: bool,
    /// What deleting the collection does while it has members:
    /// `#[collection(.., on_delete = ..)]`, [`OnDelete::Cascade`] by default.
    pub on_delete: OnDelete,
}

/// What deleting a resource does to a relationship record beneath it (SCHEMA.md §7,
/// "Restrict"): declared on the child type (`#[parent(P, on_delete = restrict)]`) for its
/// parent, and on the collection type (`#[collection(of(..), on_delete = restrict)]`) for its
/// members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// The relationship goes with the resource: children are deleted, members leave the
    /// collection.
    #[default]
    Cascade,
    /// The relationship refuses the delete: a resource that still has such a child, or a
    /// collection that still has members, is not deleted ([`Error::Restricted`]), nor is
    /// anything whose cascade would reach it.
    Restrict,
}

impl OnDelete {
    /// The rule's name as written in the attribute and stored in `_onDelete`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::Restrict => "restrict",
        }
    }
}

/// An entity type with no parent: created on its own with [`crate::Store::create`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a parent, so it is created under one",
    label = "created without a parent",
    note = "use `Store::create_child` with the parent, or remove `#[parent(..)]` from `{Self}`"
)]
pub trait Root: Entity {}

/// An entity type declared with `#[account_scoped]`: it can be queried by account.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not account-scoped, so it cannot be queried by account",
    label = "not declared `#[account_scoped]`",
    note = "add `#[account_scoped]` to `{Self}` to store `_accountUrn` and query it by account"
)]
pub trait AccountScoped: Entity {
    /// The type of the account its resources are placed in (`_accountUrn`): the parent's
    /// account when the parent is account-scoped, else the parent (SCHEMA.md section 5.1). `Store::by_account` and account-scoped finders take a
    /// `Urn` of this type, so passing another type's URN does not compile.
    type Account: Entity;
}

/// The account a child of this type is placed in: an account-scoped type passes its own
/// account down, any other type is itself the account of its account-scoped children. The
/// derive implements it for every entity.
pub trait AccountParent: Entity {
    /// The account type of an account-scoped child of `Self`.
    type ChildAccount: Entity;
}

/// An entity type declared with `#[collection(..)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a collection",
    label = "no `#[collection(of(..))]` on this type",
    note = "declare `#[collection(of(MemberType), conveys_authorization = ..)]` on `{Self}`"
)]
pub trait Collection: Entity {
    /// Whether a new membership conveys authorization unless the call says otherwise.
    const CONVEYS_AUTHORIZATION: bool;
}

/// `Self` may be a member of collection type `C` (declared by `#[collection(of(Self))]` on `C`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a member of `{C}`",
    label = "not listed in `{C}`'s `#[collection(of(..))]`",
    note = "add `{Self}` to `#[collection(of(..))]` on `{C}`"
)]
pub trait MemberOf<C: Collection>: Entity {}

/// `Self` is the account type `A`: the generated check that every parent type of an
/// account-scoped type with several parent types places its children in the same account
/// type (the home parent's), so that `_accountUrn` has one type per resource type.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the parent types of an account-scoped type must place it in one account type: this parent places it in a `{Self}`, the first parent in a `{A}`",
    label = "places its children in a `{Self}`, not a `{A}`",
    note = "list only parent types whose resources are in the same account type, or remove `#[account_scoped]`"
)]
pub trait SameAccount<A: ?Sized> {}
impl<A: ?Sized> SameAccount<A> for A {}

/// `Self`'s URN type hashes to `H` ([`urn_type_hash`]). The derive implements it for every
/// entity, so that a child's generated check of its parent's URN type is a trait bound (a
/// spanned "not implemented" error naming both types), not a panic in const evaluation.
#[doc(hidden)]
pub trait UrnTypeIs<const H: u64> {}

/// FNV-1a (64 bits) of a URN type, for [`UrnTypeIs`]. Only a compile-time check of a naming
/// convention rests on it; nothing stored does.
#[doc(hidden)]
pub const fn urn_type_hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// Compares two strings in a `const` context (used by generated compile-time checks).
#[doc(hidden)]
pub const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A typed path to one stored field of entity `E` whose Rust type is `T`, for
/// [`Store::patch`](crate::Store::patch). The derive generates one per stored field:
/// `Job::fields().name` is a `Field<Job, String>`, so a value of the wrong type, or a field
/// the entity does not have, is a compile error.
pub struct Field<E, T> {
    attribute: &'static str,
    unique: bool,
    _types: std::marker::PhantomData<fn() -> (E, T)>,
}

impl<E, T> Field<E, T> {
    /// The path to the field stored as `attribute`; `unique` when a unique constraint reads
    /// it. For the derive's generated code.
    #[doc(hidden)]
    pub const fn new(attribute: &'static str, unique: bool) -> Self {
        Field {
            attribute,
            unique,
            _types: std::marker::PhantomData,
        }
    }

    /// The attribute the field is stored as.
    pub fn attribute(&self) -> &'static str {
        self.attribute
    }

    /// Whether a unique constraint reads the field.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
}

impl<E, T> Clone for Field<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T> Copy for Field<E, T> {}

impl<E, T> std::fmt::Debug for Field<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Field({})", self.attribute)
    }
}

/// A number a patch can add to a field atomically (`ADD`), without reading it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number, so a patch cannot `add` to it",
    label = "a field of type `{Self}`",
    note = "`add` is for integer and float fields; use `set` to replace a value of another type"
)]
pub trait Numeric: serde::Serialize + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Numeric for $t {}
    )*};
}
numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
