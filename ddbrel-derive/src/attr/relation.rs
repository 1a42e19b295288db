//! `#[parent(P)]` and `#[collection(of(A, B), conveys_authorization = ..)]`.

use syn::punctuated::Punctuated;
use syn::{Attribute, LitBool, Path, Token};

use crate::attr::once::Once;
use crate::attr::read::{lit_bool, require_list, unknown_key};
use crate::ctxt::Ctxt;

/// `#[collection(of(A, B), conveys_authorization = ..)]`.
pub struct Collection {
    pub attr: Path,
    pub members: Vec<Path>,
    pub conveys_authorization: Option<LitBool>,
    /// An unknown key or a value that could not be read was reported: do not also report
    /// what is missing.
    pub incomplete: bool,
}

pub fn parse_parent(cx: &Ctxt, attr: &Attribute) -> Option<Path> {
    if !require_list(cx, attr, "#[parent(ParentType)]") {
        return None;
    }
    let result = attr.parse_args_with(|input: syn::parse::ParseStream| {
        let path: Path = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the parent entity type: `#[parent(ParentType)]`")
        })?;
        if !input.is_empty() {
            return Err(input.error(
                "expected one parent type: an entity has a single parent (use `#[collection(..)]` for n:n)",
            ));
        }
        Ok(path)
    });
    match result {
        Ok(path) => Some(path),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

pub fn parse_collection(cx: &Ctxt, attr: &Attribute) -> Option<Collection> {
    if !require_list(
        cx,
        attr,
        "#[collection(of(MemberType), conveys_authorization = false)]",
    ) {
        return None;
    }
    let mut members = Once::new(
        cx,
        "duplicate key `of` in `#[collection(..)]`: list every member type in one `of(..)`",
    );
    let mut conveys = Once::key(cx, "conveys_authorization", "#[collection(..)]");
    let mut incomplete = false;
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("of") {
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error("expected the member types: `of(MemberType, OtherType)`"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
            members.set(&meta.path, list.into_iter().collect::<Vec<_>>());
        } else if meta.path.is_ident("conveys_authorization") {
            match lit_bool(cx, &meta)? {
                Some(lit) => conveys.set(&meta.path, lit),
                None => incomplete = true,
            }
        } else {
            incomplete = true;
            unknown_key(
                cx,
                &meta,
                "#[collection(..)]",
                "`of(MemberType, ..)` or `conveys_authorization = true|false`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        incomplete = true;
        cx.syn_error(e);
    }
    Some(Collection {
        attr: attr.path().clone(),
        members: members.get().unwrap_or_default(),
        conveys_authorization: conveys.get(),
        incomplete,
    })
}
