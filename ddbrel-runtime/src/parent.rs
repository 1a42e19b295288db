//! The parent relationship as types: [`Child`] and [`ChildOf`] (what `#[parent(..)]`
//! declares), [`ParentUrn`] (the typed parent [`crate::Store::parent_of`] returns) and
//! [`ParentOf`] (what the listing and lookup operations accept as a parent).
//!
//! A type may declare several parent types, `#[parent(Workspace, Folder)]`, and may list
//! itself (a Folder in a Folder). The first type listed is the **home parent**: the type's URN
//! type is the home parent's plus one segment, and the type's account type comes from it. For a
//! type with one parent type, [`Child::ParentUrn`] is `Urn<Parent>`; for several, it is the
//! enum the derive generates beside the struct, named `{Type}Parent`, one variant per parent
//! type, so a caller can `match` on where a resource lives.

use crate::entity::Entity;
use crate::urn::{AnyUrn, Urn, UrnError, UrnPart};

/// An entity type declared with `#[parent(P, ..)]`: created only under a parent of one of the
/// declared types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no declared parent",
    label = "no `#[parent(..)]` on this type",
    note = "declare the parent with `#[parent(ParentType)]` on `{Self}`"
)]
pub trait Child: Entity {
    /// The home parent type: the first type in `#[parent(..)]`. (An entity type; the bound
    /// is checked once, by the [`ChildOf`] impl, so that a parent that is not an entity is
    /// reported once.)
    type Parent;
    /// The typed URN of a parent of any declared type: `Urn<Self::Parent>` for a type with one
    /// parent type, the generated `{Type}Parent` enum for a type with several. It implements
    /// [`ParentUrn`] and [`ParentOf<Self>`]; the operations that need them say so, so that a
    /// parent that is not an entity is reported once, by the [`ChildOf`] impl.
    type ParentUrn;
}

/// `Self` may be created under (and listed as a child of) a parent of type `P`: `P` is one of
/// the types named in `Self`'s `#[parent(..)]`. The create operations (`Store::create_child`
/// and its kin) take any parent `P` with `Self: ChildOf<P>`, so passing another type's
/// resource is a compile error that names the declared parents. The derive implements it.
#[diagnostic::on_unimplemented(
    message = "`{P}` is not a parent type of `{Self}`",
    label = "`{Self}` is not declared with `{P}` in `#[parent(..)]`",
    note = "`#[parent(..)]` on `{Self}` names the types its resources live under; pass a resource of one of them"
)]
pub trait ChildOf<P>: Child {
    /// The parent type's URN domain and resource type (`P`'s, read through [`type_of`], so
    /// that the impl is the one place a parent that is not an entity is reported).
    #[doc(hidden)]
    const PARENT: (&'static str, &'static str);
}

/// The URN domain and resource type of `P`, for the derive's [`ChildOf::PARENT`].
#[doc(hidden)]
pub const fn type_of<P: Entity>() -> (&'static str, &'static str) {
    (P::DOMAIN, P::RESOURCE_TYPE)
}

/// `urn` as a `Urn<P>` when it is of the parent type `P` of `C`, for a generated parent enum's
/// [`ParentUrn::from_any`].
#[doc(hidden)]
pub fn typed_parent<C: ChildOf<P>, P>(urn: &AnyUrn) -> Option<Urn<P>> {
    let (domain, resource_type) = C::PARENT;
    (urn.domain() == domain && urn.resource_type() == resource_type)
        .then(|| Urn::assume_typed(urn.clone()))
}

/// A typed parent URN read from the table: [`Urn<P>`], or a `{Type}Parent` enum generated for
/// a type with several parent types.
pub trait ParentUrn: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Types a parent URN, refusing one of a type that is not declared (the error names the
    /// URN and the declared types).
    fn from_any(urn: AnyUrn) -> Result<Self, UrnError>;
    /// The untyped URN.
    fn as_any(&self) -> &AnyUrn;
}

impl<P: Entity> ParentUrn for Urn<P> {
    fn from_any(urn: AnyUrn) -> Result<Self, UrnError> {
        urn.typed()
    }
    fn as_any(&self) -> &AnyUrn {
        Urn::as_any(self)
    }
}

/// A parent a resource of type `C` can live under: `Urn<P>` for every type `P` in `C`'s
/// `#[parent(..)]`, and `C`'s parent enum. `Store::children::<C>` and the finders of
/// constraints unique among a parent's children take any of them.
pub trait ParentOf<C>: Sync {
    /// The parent's URN.
    fn parent_urn(&self) -> &AnyUrn;
}

impl<C: ChildOf<P>, P> ParentOf<C> for Urn<P> {
    fn parent_urn(&self) -> &AnyUrn {
        self.as_any()
    }
}

/// The error of a generated parent enum's [`ParentUrn::from_any`]: `urn` is of none of `C`'s
/// parent types.
#[doc(hidden)]
pub fn not_a_parent<C: Entity>(urn: &AnyUrn) -> UrnError {
    UrnError::new(
        urn.as_str(),
        UrnPart::ResourceType,
        format!(
            "a {} lives under a {}, not a {}",
            C::RESOURCE_TYPE,
            C::descriptor().parents.join(" or a "),
            urn.resource_type()
        ),
    )
}
