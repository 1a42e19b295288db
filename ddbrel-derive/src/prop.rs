//! Facts derived from the parsed attributes, used by the checks and by the expansion: the
//! URN type and its segments, the domain, the parent's URN type, account scoping.

use ddbrel_grammar::{DEFAULT_DOMAIN, validate_resource_type};
use quote::ToTokens;
use syn::Path;
use syn::ext::IdentExt;

use crate::ast::Container;

/// What the declaration says, as plain values.
pub struct Model<'a> {
    pub cont: &'a Container<'a>,
    pub type_name: String,
    /// The URN type as written (valid once checked).
    pub resource_type: String,
    pub domain: String,
    pub version: u32,
    /// The parent's URN type: this type's minus its last segment.
    pub parent_type: Option<String>,
}

impl<'a> Model<'a> {
    /// The facts of `cont`.
    pub fn new(cont: &'a Container<'a>) -> Self {
        Model {
            cont,
            type_name: cont.type_name(),
            resource_type: cont.resource_type().unwrap_or_default(),
            domain: cont.domain(),
            version: cont.version(),
            parent_type: cont.parent_type(),
        }
    }
}

impl Container<'_> {
    /// The type's name without `r#`, as `EntityDescriptor::type_name` holds it.
    pub fn type_name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The URN resource type as written, valid or not.
    pub fn resource_type(&self) -> Option<String> {
        let urn = self.attrs.urn.as_ref()?;
        Some(urn.resource_type.as_ref()?.value())
    }

    /// The URN domain as written, or the default.
    pub fn domain(&self) -> String {
        self.attrs
            .urn
            .as_ref()
            .and_then(|urn| urn.domain.as_ref())
            .map_or_else(|| DEFAULT_DOMAIN.to_string(), |lit| lit.value())
    }

    /// The URN type's segments, when it is valid.
    pub fn segments(&self) -> Option<Vec<String>> {
        let resource_type = self.resource_type()?;
        validate_resource_type(&resource_type).ok()?;
        Some(resource_type.split('.').map(str::to_string).collect())
    }

    /// The home parent: the first type in `#[parent(..)]`.
    pub fn parent(&self) -> Option<&Path> {
        self.attrs.parents.first()
    }

    /// The parent types as the generated code names them: `Self` written as the type's own
    /// name, each type once (a repeat is reported by the checks), the home parent first.
    pub fn parent_paths(&self) -> Vec<Path> {
        let mut out: Vec<Path> = Vec::new();
        for path in &self.attrs.parents {
            let path = if path.is_ident("Self") {
                Path::from(self.ident.clone())
            } else {
                path.clone()
            };
            if !out.iter().any(|seen| path_text(seen) == path_text(&path)) {
                out.push(path);
            }
        }
        out
    }

    /// The parent's URN type, which is this type's minus its last segment, when
    /// `#[parent(..)]` is given and the type has more than one segment.
    pub fn parent_type(&self) -> Option<String> {
        self.parent()?;
        let resource_type = self.resource_type()?;
        let (parent, _) = resource_type.rsplit_once('.')?;
        Some(parent.to_string())
    }

    /// Whether `#[account_scoped]` is given.
    pub fn account_scoped(&self) -> bool {
        self.attrs.account_scoped.is_some()
    }

    /// The schema version: `#[entity(version = N)]`, or 1.
    pub fn version(&self) -> u32 {
        self.attrs
            .version
            .as_ref()
            .map_or(1, |version| version.value)
    }

    /// Whether new memberships of this collection grant access (false when not said).
    pub fn conveys_authorization(&self) -> bool {
        self.attrs
            .collection
            .as_ref()
            .and_then(|collection| collection.conveys_authorization.as_ref())
            .is_some_and(|lit| lit.value)
    }
}

/// A path as written, without spaces: `crate::model::Folder`.
pub fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
