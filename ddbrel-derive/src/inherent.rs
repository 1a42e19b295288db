//! The inherent functions generated on an entity: `new_urn`, `parse_urn`, `urn_prefix`,
//! and one `find_by_<name>` per unique constraint.

use ddbrel_grammar::type_prefix;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::ast::Constraint;
use crate::attr::Scope;
use crate::prop::Model;

/// `impl Type { new_urn, parse_urn, urn_prefix, find_by_.. }`, with a finder for each of
/// `constraints`.
pub fn inherent_impl<'c>(
    model: &Model,
    constraints: impl IntoIterator<Item = &'c Constraint>,
) -> TokenStream {
    let cont = model.cont;
    let ident = cont.ident;
    let Model {
        type_name,
        resource_type,
        domain,
        ..
    } = model;
    let prefix = type_prefix(domain, resource_type);
    let new_doc =
        format!("A new URN for a `{type_name}` with a fresh UUID v7 id: `{prefix}{{uuid}}`.");
    let parse_doc = format!(
        "Parses a `{type_name}` URN (`{prefix}{{uuid}}`) strictly, refusing a URN of another type or domain."
    );
    let prefix_doc = format!(
        "The key-condition prefix of `{type_name}` URNs: `{prefix}`. It ends with `::` so that it matches no other type whose name starts the same."
    );
    let finders = constraints
        .into_iter()
        .map(|constraint| finder(model, constraint));
    quote! {
        impl #ident {
            #[doc = #new_doc]
            #[must_use]
            pub fn new_urn() -> ::ddbrel_runtime::Urn<Self> {
                ::ddbrel_runtime::Urn::<Self>::new()
            }

            #[doc = #parse_doc]
            ///
            /// # Errors
            ///
            /// A [`UrnError`](::ddbrel_runtime::UrnError) naming the part of `input` that is wrong.
            pub fn parse_urn(
                input: &::core::primitive::str,
            ) -> ::core::result::Result<::ddbrel_runtime::Urn<Self>, ::ddbrel_runtime::UrnError> {
                ::ddbrel_runtime::Urn::<Self>::parse(input)
            }

            #[doc = #prefix_doc]
            #[must_use]
            pub fn urn_prefix() -> ::std::string::String {
                ::ddbrel_runtime::Urn::<Self>::prefix()
            }

            #(#finders)*
        }
    }
}

/// `find_by_<name>`: looks a resource up by one unique constraint.
fn finder(model: &Model, constraint: &Constraint) -> TokenStream {
    let cont = model.cont;
    let type_name = &model.type_name;
    let name = &constraint.name;
    let fn_name = format_ident!("find_by_{}", name, span = Span::call_site());

    let scope_name = match constraint.scope {
        Scope::Global => None,
        Scope::Account => Some("account"),
        Scope::Parent => Some("parent"),
    };
    let args: Vec<_> = constraint
        .fields
        .iter()
        .map(|&index| {
            let field = cont.fields[index].ident;
            let plain = field.unraw().to_string();
            if plain == "store" || Some(plain.as_str()) == scope_name {
                format_ident!("{}_value", plain)
            } else {
                field.clone()
            }
        })
        .collect();

    let (scope_param, scope_arg, scope_doc) = match (constraint.scope, cont.parent()) {
        // Typed by the account type; untyped only in the stub after an error (the type is
        // not account-scoped, which is reported once, where the constraint says so).
        (Scope::Account, _) if cont.account_scoped() => (
            quote!(account: &::ddbrel_runtime::Urn<<Self as ::ddbrel_runtime::AccountScoped>::Account>,),
            quote!(::core::option::Option::Some(account.as_any())),
            " in the account `account`",
        ),
        (Scope::Account, _) => (
            quote!(account: &::ddbrel_runtime::AnyUrn,),
            quote!(::core::option::Option::Some(account)),
            " in the account `account`",
        ),
        // Any parent the type may live under: a `Urn` of one of its parent types, or its
        // parent enum.
        (Scope::Parent, Some(_)) => (
            quote!(parent: &impl ::ddbrel_runtime::ParentOf<Self>,),
            quote!(::core::option::Option::Some(::ddbrel_runtime::ParentOf::<
                Self,
            >::parent_urn(
                parent
            ))),
            " among the children of `parent`",
        ),
        _ => (TokenStream::new(), quote!(::core::option::Option::None), ""),
    };

    let what = if let [arg] = args.as_slice() {
        let attr = &cont.fields[constraint.fields[0]].attr_name;
        format!("whose `{attr}` is `{arg}`")
    } else {
        let pairs: Vec<String> = constraint
            .fields
            .iter()
            .zip(&args)
            .map(|(&index, arg)| format!("`{}` is `{arg}`", cont.fields[index].attr_name))
            .collect();
        format!("whose {}", pairs.join(" and "))
    };
    let case = if constraint.case_insensitive {
        "compared case-insensitively after Unicode NFC normalization"
    } else {
        "compared after Unicode NFC normalization"
    };
    let scope_text = match constraint.scope {
        Scope::Global => "unique across the table",
        Scope::Account => "unique per account",
        Scope::Parent => "unique among the children of a parent",
    };
    let doc = format!(
        "Finds the `{type_name}` {what}{scope_doc}.\n\n\
         Uses the unique constraint `{name}` ({scope_text}, values {case}). Reads the \
         uniqueness marker, then the resource. Returns `Ok(None)` when no `{type_name}` holds \
         the value, and without a request when a value holds no key (an `Option` that is `None`)."
    );

    quote! {
        #[doc = #doc]
        ///
        /// # Errors
        ///
        /// Any [`Error`](::ddbrel_runtime::Error) of the reads.
        pub async fn #fn_name(
            store: &::ddbrel_runtime::Store,
            #scope_param
            #(#args: impl ::ddbrel_runtime::UniqueKeyPart,)*
        ) -> ::ddbrel_runtime::Result<::core::option::Option<::ddbrel_runtime::Stored<Self>>> {
            #(
                let #args = {
                    let value = #args;
                    ::ddbrel_runtime::UniqueKeyPart::unique_key_part(&value)
                };
            )*
            let parts = match (#(#args,)*) {
                (#(::core::option::Option::Some(#args),)*) => ::std::vec![#(#args),*],
                _ => return ::core::result::Result::Ok(::core::option::Option::None),
            };
            store.find_unique::<Self>(#name, #scope_arg, parts).await
        }
    }
}
