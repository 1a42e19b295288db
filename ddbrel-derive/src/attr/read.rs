//! Reading values inside an attribute: strings, booleans, unknown keys to skip.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitBool, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

/// Records an unknown key and skips its value so that the keys after it are still read.
pub fn unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attribute: &str,
    expected: &str,
) -> syn::Result<()> {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    cx.error_spanned_by(
        &meta.path,
        format!("unknown key `{key}` in `{attribute}`: expected {expected}"),
    );
    skip_value(meta)
}

/// Consumes `= value` or `(..)` after a key.
pub fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Looks through the invisible groups `macro_rules!` puts around `$value:literal`/`expr`.
pub fn ungroup(mut expr: syn::Expr) -> syn::Expr {
    while let syn::Expr::Group(group) = expr {
        expr = *group.expr;
    }
    expr
}

/// Reads `= "text"`. A value that is not a string is recorded and gives `None` (reading goes
/// on); a missing `=` stops reading the attribute.
pub fn lit_str(cx: &Ctxt, meta: &ParseNestedMeta, example: &str) -> syn::Result<Option<LitStr>> {
    let key = meta.path.to_token_stream().to_string();
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = {example}`")));
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(other, format!("expected a string: `{key} = {example}`"));
            Ok(None)
        }
    }
}

/// Reads `= true` / `= false`, like [`lit_str`].
pub fn lit_bool(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<LitBool>> {
    let key = meta.path.to_token_stream().to_string();
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = true` or `{key} = false`")));
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(other, format!("expected `{key} = true` or `{key} = false`"));
            Ok(None)
        }
    }
}

/// Checks that `attr` is written `#[name(..)]`, explaining the form otherwise.
pub fn require_list(cx: &Ctxt, attr: &Attribute, example: &str) -> bool {
    match &attr.meta {
        Meta::List(_) => true,
        Meta::Path(_) | Meta::NameValue(_) => {
            cx.error_spanned_by(attr, format!("expected `{example}`"));
            false
        }
    }
}
