//! What is generated when the declaration has mistakes: the errors, and next to them stub
//! impls of the traits (bodies that are never run), so that each mistake is reported once,
//! at the token at fault, and not again as "trait not implemented" wherever the type is
//! used.
//!
//! The stubs implement only what the declaration asks for and add no error of their own:
//! no compile-time checks, no `MemberOf` for `Self` or for a repeated member, no finder whose
//! name is invalid or taken, and nothing at all for a generic type (which cannot be an
//! entity, and whose impls would need bounds the declaration does not give).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::Container;
use crate::fields::field_paths;
use crate::inherent::inherent_impl;
use crate::prop::Model;
use crate::valid;

/// `error` as `compile_error!`s, and the stub impls.
pub fn expand(cont: &Container, input: &DeriveInput, error: syn::Error) -> TokenStream {
    let mut out = error.into_compile_error();
    if !input.generics.params.is_empty() {
        return out;
    }
    let ident = &input.ident;
    // A stub has every URN type as far as a child's generated parent check is concerned, so
    // that a child of this type reports nothing more.
    out.extend(quote! {
        #[automatically_derived]
        impl<const H: ::core::primitive::u64> ::ddbrel_runtime::__private::UrnTypeIs<H> for #ident {}
        #[automatically_derived]
        impl ::ddbrel_runtime::Entity for #ident {
            const RESOURCE_TYPE: &'static ::core::primitive::str = "";
            const DOMAIN: &'static ::core::primitive::str = "";
            const SCHEMA_VERSION: ::core::primitive::u32 = 0;
            const ACCOUNT_SCOPED: ::core::primitive::bool = false;

            fn descriptor() -> &'static ::ddbrel_runtime::EntityDescriptor {
                ::core::unreachable!()
            }

            fn unique_parts(
                &self,
            ) -> ::std::vec::Vec<
                ::core::option::Option<::std::vec::Vec<::std::string::String>>,
            > {
                ::core::unreachable!()
            }
        }
    });
    let parents = cont.parent_paths();
    out.extend(match parents.first() {
        Some(home) => quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::Child for #ident {
                type Parent = #home;
                type ParentUrn = ::ddbrel_runtime::Urn<#home>;
            }
            #(
                #[automatically_derived]
                impl ::ddbrel_runtime::ChildOf<#parents> for #ident {
                    const PARENT: (&'static ::core::primitive::str, &'static ::core::primitive::str) = ("", "");
                }
            )*
        },
        None => quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::Root for #ident {}
        },
    });
    if cont.account_scoped() {
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::AccountScoped for #ident {
                type Account = #ident;
            }
        });
    }
    out.extend(quote! {
        #[automatically_derived]
        impl ::ddbrel_runtime::AccountParent for #ident {
            type ChildAccount = #ident;
        }
    });
    out.extend(collection_stubs(cont));

    let mut names: Vec<&str> = Vec::new();
    let constraints = cont.constraints.iter().filter(|constraint| {
        let name = constraint.name.as_str();
        let usable = valid::is_constraint_name(name) && !names.contains(&name);
        names.push(name);
        usable
    });
    out.extend(inherent_impl(&Model::new(cont), constraints));
    out.extend(field_paths(cont));
    out
}

/// `Collection`, and `MemberOf` for each member listed once that is not `Self`.
fn collection_stubs(cont: &Container) -> TokenStream {
    let Some(collection) = &cont.attrs.collection else {
        return TokenStream::new();
    };
    let ident = cont.ident;
    let conveys = cont.conveys_authorization();
    let mut out = quote! {
        #[automatically_derived]
        impl ::ddbrel_runtime::Collection for #ident {
            const CONVEYS_AUTHORIZATION: ::core::primitive::bool = #conveys;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for member in &collection.members {
        let text = quote!(#member).to_string();
        if member.is_ident("Self") || seen.contains(&text) {
            continue;
        }
        seen.push(text);
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::MemberOf<#ident> for #member {}
        });
    }
    out
}
