//! Code generation: the `Entity` impl with its static descriptor, the relationship marker
//! impls, the compile-time checks, and the inherent URN and lookup functions.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Path};

use crate::ast::{Constraint, Container};
use crate::attr::{OnDelete, Scope};
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::fields::field_paths;
use crate::inherent::inherent_impl;
use crate::prop::Model;
use crate::valid;

/// Reads, checks and expands. Every error found is reported together; with errors, stub
/// impls are generated next to them so that each mistake is reported once.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    valid::check(&cx, &cont);
    match cx.check() {
        Ok(()) => expand(&cont),
        Err(error) => fallback::expand(&cont, input, error),
    }
}

/// The code for a declaration that passed every check.
fn expand(cont: &Container) -> TokenStream {
    let model = Model::new(cont);
    let entity = entity_impl(&model);
    let relations = relation_impls(&model);
    let inherent = inherent_impl(&model, &cont.constraints);
    let fields = field_paths(cont);
    quote! {
        #entity
        #relations
        #inherent
        #fields
    }
}

fn on_delete_tokens(rule: Option<OnDelete>) -> TokenStream {
    match rule {
        None | Some(OnDelete::Cascade) => quote!(::ddbrel_runtime::OnDelete::Cascade),
        Some(OnDelete::Restrict) => quote!(::ddbrel_runtime::OnDelete::Restrict),
    }
}

fn scope_tokens(scope: Scope) -> TokenStream {
    match scope {
        Scope::Global => quote!(::ddbrel_runtime::UniqueScope::Global),
        Scope::Account => quote!(::ddbrel_runtime::UniqueScope::Account),
        Scope::Parent => quote!(::ddbrel_runtime::UniqueScope::Parent),
    }
}

fn entity_impl(model: &Model) -> TokenStream {
    let cont = model.cont;
    let ident = cont.ident;
    let Model {
        type_name,
        resource_type,
        domain,
        version,
        ..
    } = model;
    let account_scoped = cont.attrs.account_scoped.is_some();

    let parent = match &model.parent_type {
        Some(parent) => quote!(::core::option::Option::Some(#parent)),
        None => quote!(::core::option::Option::None),
    };
    // The home parent's type as a literal (known from the URN type), the others through the
    // `ChildOf` impl, which is where a parent that is not an entity is reported.
    let parents = cont.parent_paths();
    let parents = parents
        .iter()
        .enumerate()
        .map(|(i, path)| match &model.parent_type {
            Some(home) if i == 0 => quote!(#home),
            _ => quote!(<#ident as ::ddbrel_runtime::ChildOf<#path>>::PARENT.1),
        });

    let on_delete = on_delete_tokens(cont.attrs.parent_on_delete);
    let unique = cont
        .constraints
        .iter()
        .map(|constraint| unique_descriptor(cont, constraint));

    let (members_const, collection) = collection_descriptor(cont);

    let tag = cont.attrs.serde.tag.iter().map(|tag| tag.value());
    let fields = cont
        .fields
        .iter()
        .filter(|field| field.stored())
        .map(|field| field.attr_name.clone());
    let fields = tag.chain(fields);

    let parts = cont
        .constraints
        .iter()
        .map(|constraint| unique_parts(cont, constraint));
    let unique_parts_body = if cont.constraints.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        quote!(::std::vec![#(#parts),*])
    };

    let migrate_fn = migrate_fn(cont);

    quote! {
        #[automatically_derived]
        impl ::ddbrel_runtime::Entity for #ident {
            const RESOURCE_TYPE: &'static ::core::primitive::str = #resource_type;
            const DOMAIN: &'static ::core::primitive::str = #domain;
            const SCHEMA_VERSION: ::core::primitive::u32 = #version;
            const ACCOUNT_SCOPED: ::core::primitive::bool = #account_scoped;

            fn descriptor() -> &'static ::ddbrel_runtime::EntityDescriptor {
                #members_const
                static DESCRIPTOR: ::ddbrel_runtime::EntityDescriptor =
                    ::ddbrel_runtime::EntityDescriptor {
                        type_name: #type_name,
                        resource_type: #resource_type,
                        domain: #domain,
                        schema_version: #version,
                        parent: #parent,
                        parents: &[#(#parents),*],
                        on_delete: #on_delete,
                        account_scoped: #account_scoped,
                        unique: &[#(#unique),*],
                        collection: #collection,
                        fields: &[#(#fields),*],
                    };
                &DESCRIPTOR
            }

            fn unique_parts(
                &self,
            ) -> ::std::vec::Vec<
                ::core::option::Option<::std::vec::Vec<::std::string::String>>,
            > {
                #unique_parts_body
            }

            #migrate_fn
        }
    }
}

/// One constraint's `UniqueConstraint` in the descriptor.
fn unique_descriptor(cont: &Container, constraint: &Constraint) -> TokenStream {
    let name = &constraint.name;
    let fields = constraint
        .fields
        .iter()
        .map(|&index| &cont.fields[index].attr_name);
    let scope = scope_tokens(constraint.scope);
    let case_insensitive = constraint.case_insensitive;
    quote! {
        ::ddbrel_runtime::UniqueConstraint {
            name: #name,
            fields: &[#(#fields),*],
            scope: #scope,
            case_insensitive: #case_insensitive,
        }
    }
}

/// The `MEMBERS` constant and the `collection` field of the descriptor.
///
/// The members' resource types are read through `MemberOf`, whose impl (generated by
/// [`relation_impls`]) is where a member that is not an entity is reported: reading
/// `<M as Entity>` here would report it a second time.
fn collection_descriptor(cont: &Container) -> (TokenStream, TokenStream) {
    let ident = cont.ident;
    match &cont.attrs.collection {
        Some(collection) => {
            let members = collection
                .members
                .iter()
                .map(|member| quote!(member_type::<#ident, #member>()));
            let conveys = cont.conveys_authorization();
            let on_delete = on_delete_tokens(collection.on_delete);
            (
                quote! {
                    const fn member_type<C, M>() -> &'static ::core::primitive::str
                    where
                        C: ::ddbrel_runtime::Collection,
                        M: ::ddbrel_runtime::MemberOf<C>,
                    {
                        <M as ::ddbrel_runtime::Entity>::RESOURCE_TYPE
                    }
                    const MEMBERS: &[&::core::primitive::str] = &[#(#members),*];
                },
                quote! {
                    ::core::option::Option::Some(::ddbrel_runtime::CollectionDescriptor {
                        members: MEMBERS,
                        conveys_authorization: #conveys,
                        on_delete: #on_delete,
                    })
                },
            )
        }
        None => (TokenStream::new(), quote!(::core::option::Option::None)),
    }
}

/// `Entity::migrate`, calling the function of `#[entity(migrate = ..)]`.
fn migrate_fn(cont: &Container) -> TokenStream {
    match &cont.attrs.migrate {
        None => TokenStream::new(),
        Some(path) => quote_spanned! {path.span()=>
            fn migrate(
                from_version: ::core::primitive::u32,
                item: &mut ::ddbrel_runtime::Item,
            ) -> ::ddbrel_runtime::Result<()> {
                let migrate: fn(
                    ::core::primitive::u32,
                    &mut ::ddbrel_runtime::Item,
                ) -> ::ddbrel_runtime::Result<()> = #path;
                migrate(from_version, item)
            }
        },
    }
}

/// One constraint's parts: `Some(parts)`, or `None` when a part holds no key. The call is
/// spanned at the field's type, so a type that is not a `UniqueKeyPart` is reported there.
fn unique_parts(cont: &Container, constraint: &Constraint) -> TokenStream {
    let calls: Vec<TokenStream> = constraint
        .fields
        .iter()
        .map(|&index| {
            let field = &cont.fields[index];
            let ty = field.ty;
            let member = field.ident;
            let call = quote_spanned! {ty.span()=>
                <#ty as ::ddbrel_runtime::UniqueKeyPart>::unique_key_part
            };
            quote!(#call(&self.#member))
        })
        .collect();
    if let [call] = calls.as_slice() {
        return quote! {
            ::core::option::Option::map(#call, |part| ::std::vec![part])
        };
    }
    let names: Vec<_> = (0..calls.len())
        .map(|i| format_ident!("part{}", i))
        .collect();
    quote! {
        match (#(#calls,)*) {
            (#(::core::option::Option::Some(#names),)*) => {
                ::core::option::Option::Some(::std::vec![#(#names),*])
            }
            _ => ::core::option::Option::None,
        }
    }
}

fn relation_impls(model: &Model) -> TokenStream {
    let cont = model.cont;
    let ident = cont.ident;
    let resource_type = &model.resource_type;
    let mut out = quote! {
        #[automatically_derived]
        impl ::ddbrel_runtime::__private::UrnTypeIs<
            { ::ddbrel_runtime::__private::urn_type_hash(#resource_type) }
        > for #ident {}
    };

    match (cont.parent(), &model.parent_type) {
        (Some(home), Some(parent_type)) => {
            let check = parent_check(home, parent_type, model);
            let paths = cont.parent_paths();
            let parent_urn = if paths.len() > 1 {
                let name = parent_enum_ident(cont);
                quote!(#name)
            } else {
                quote!(::ddbrel_runtime::Urn<#home>)
            };
            out.extend(quote! {
                #[automatically_derived]
                impl ::ddbrel_runtime::Child for #ident {
                    type Parent = #home;
                    type ParentUrn = #parent_urn;
                }
                #check
            });
            for path in &paths {
                let type_of =
                    quote_spanned!(path.span()=> ::ddbrel_runtime::__private::type_of::<#path>());
                out.extend(quote! {
                    #[automatically_derived]
                    impl ::ddbrel_runtime::ChildOf<#path> for #ident {
                        const PARENT: (&'static ::core::primitive::str, &'static ::core::primitive::str) = #type_of;
                    }
                });
            }
            if paths.len() > 1 {
                out.extend(parent_enum(cont, &paths));
                if cont.account_scoped() {
                    out.extend(same_account_check(home, &paths[1..]));
                }
            }
        }
        _ => out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::Root for #ident {}
        }),
    }

    // The account type: itself for a root, the parent's child account for a child.
    let account = match (cont.parent(), &model.parent_type) {
        (Some(parent), Some(_)) => {
            quote!(<#parent as ::ddbrel_runtime::AccountParent>::ChildAccount)
        }
        _ => quote!(#ident),
    };
    if cont.attrs.account_scoped.is_some() {
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::AccountScoped for #ident {
                type Account = #account;
            }
            #[automatically_derived]
            impl ::ddbrel_runtime::AccountParent for #ident {
                type ChildAccount = #account;
            }
        });
    } else {
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::AccountParent for #ident {
                type ChildAccount = #ident;
            }
        });
    }

    if let Some(collection) = &cont.attrs.collection {
        let conveys = collection
            .conveys_authorization
            .as_ref()
            .is_some_and(|lit| lit.value);
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::Collection for #ident {
                const CONVEYS_AUTHORIZATION: ::core::primitive::bool = #conveys;
            }
        });
        for member in &collection.members {
            out.extend(quote_spanned! {member.span()=>
                #[automatically_derived]
                impl ::ddbrel_runtime::MemberOf<#ident> for #member {}
            });
        }
    }
    out
}

/// A trait bound that holds only when the parent's URN type is `parent_type`: every entity
/// implements `UrnTypeIs<hash of its URN type>`, and a local trait carrying this type's
/// message is implemented for exactly those types. So a wrong parent is one E0277, spanned
/// at the parent path and worded for this type, not a panic in const evaluation. A parent
/// whose declaration has mistakes implements `UrnTypeIs` for every hash (see `fallback`) and
/// reports nothing more here, and so does a parent that is not an entity (see below).
fn parent_check(parent: &Path, parent_type: &str, model: &Model) -> TokenStream {
    let parent_name = parent.to_token_stream().to_string().replace(' ', "");
    let last = model.resource_type.rsplit('.').next().unwrap_or_default();
    let message = format!(
        "the parent of {} must have URN type {parent_type}, but `{{Self}}` has another",
        model.resource_type
    );
    let label = format!("not of URN type {parent_type}");
    let note = format!(
        "name the entity whose URN type is {parent_type} in `#[parent(..)]`, or change the URN type to `<URN type of {parent_name}>.{last}`"
    );
    // The path `Probe::<parent>::check` starts at the parent path's first token and ends at
    // its last, so the error underlines all of it.
    let first = parent
        .segments
        .first()
        .map_or_else(|| parent.span(), |segment| segment.ident.span());
    let first = parent
        .leading_colon
        .as_ref()
        .map_or(first, |colon| colon.spans[0]);
    let last = parent
        .segments
        .last()
        .map_or_else(|| parent.span(), |segment| segment.ident.span());
    let open = quote_spanned!(first=> Probe::<);
    let close = quote_spanned!(last=> >::check());
    let call = quote!(#open #parent #close);
    // `Probe::check` (the bound) applies only to an entity; for a parent that is not one,
    // path resolution falls back to `NotEntity::check`, which checks nothing: that mistake
    // is reported once, at `type Parent`.
    quote! {
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            trait ParentUrnType {}
            #[diagnostic::do_not_recommend]
            impl<P: ::ddbrel_runtime::__private::UrnTypeIs<
                { ::ddbrel_runtime::__private::urn_type_hash(#parent_type) }
            >> ParentUrnType for P {}
            struct Probe<T>(::core::marker::PhantomData<T>);
            impl<T: ::ddbrel_runtime::Entity> Probe<T> {
                fn check() where T: ParentUrnType {}
            }
            trait NotEntity {
                fn check() {}
            }
            impl<T> NotEntity for Probe<T> {}
            fn __check() {
                #call;
            }
        };
    }
}

/// `{Type}Parent`: the name of the enum of a type's parents.
pub fn parent_enum_ident(cont: &Container) -> syn::Ident {
    format_ident!("{}Parent", cont.type_name(), span = cont.ident.span())
}

/// The variant of `path` in the parent enum: the path's last name.
fn variant(path: &Path) -> syn::Ident {
    path.segments
        .last()
        .map_or_else(|| format_ident!("Parent"), |segment| segment.ident.clone())
}

/// `{Type}Parent`, for a type with several parent types: one variant per parent type holding
/// its `Urn`, what `Store::parent_of` returns and `Store::children` takes.
fn parent_enum(cont: &Container, paths: &[Path]) -> TokenStream {
    let ident = cont.ident;
    let vis = cont.vis;
    let name = parent_enum_ident(cont);
    let variants: Vec<syn::Ident> = paths.iter().map(variant).collect();
    let type_name = cont.type_name();
    let doc = format!(
        "The parent of a [`{type_name}`]: one variant per type in its `#[parent(..)]`. Returned by `Store::parent_of`; accepted wherever a parent of a `{type_name}` is (`Store::children`, `Store::create_child` through its variants)."
    );
    let variant_docs = paths
        .iter()
        .map(|path| format!("A parent of type `{}`.", crate::prop::path_text(path)));
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        #vis enum #name {
            #(
                #[doc = #variant_docs]
                #variants(::ddbrel_runtime::Urn<#paths>),
            )*
        }

        #[automatically_derived]
        impl ::ddbrel_runtime::ParentUrn for #name {
            fn from_any(
                urn: ::ddbrel_runtime::AnyUrn,
            ) -> ::core::result::Result<Self, ::ddbrel_runtime::UrnError> {
                #(
                    if let ::core::option::Option::Some(urn) =
                        ::ddbrel_runtime::__private::typed_parent::<#ident, #paths>(&urn)
                    {
                        return ::core::result::Result::Ok(Self::#variants(urn));
                    }
                )*
                ::core::result::Result::Err(::ddbrel_runtime::__private::not_a_parent::<#ident>(&urn))
            }

            fn as_any(&self) -> &::ddbrel_runtime::AnyUrn {
                match self {
                    #(Self::#variants(urn) => urn.as_any(),)*
                }
            }
        }

        #[automatically_derived]
        impl ::ddbrel_runtime::ParentOf<#ident> for #name {
            fn parent_urn(&self) -> &::ddbrel_runtime::AnyUrn {
                ::ddbrel_runtime::ParentUrn::as_any(self)
            }
        }

        #(
            #[automatically_derived]
            impl ::core::convert::From<::ddbrel_runtime::Urn<#paths>> for #name {
                fn from(urn: ::ddbrel_runtime::Urn<#paths>) -> Self {
                    Self::#variants(urn)
                }
            }
        )*
    }
}

/// For an account-scoped type with several parent types: each places its children in the home
/// parent's account type, so `_accountUrn` has one type (`AccountScoped::Account`). One E0277
/// per parent that does not, spanned at it.
fn same_account_check(home: &Path, others: &[Path]) -> TokenStream {
    let bounds = others.iter().map(|path| {
        quote_spanned! {path.span()=>
            <#path as ::ddbrel_runtime::AccountParent>::ChildAccount:
                ::ddbrel_runtime::__private::SameAccount<
                    <#home as ::ddbrel_runtime::AccountParent>::ChildAccount,
                >
        }
    });
    quote! {
        const _: () = {
            #[allow(dead_code)]
            fn __same_account()
            where
                #(#bounds,)*
            {
            }
        };
    }
}
