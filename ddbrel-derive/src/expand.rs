//! Code generation: the `Entity` impl with its static descriptor, the relationship marker
//! impls, the compile-time checks, and the inherent URN and lookup functions.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Path};

use crate::ast::{Constraint, Container};
use crate::attr::Scope;
use crate::ctxt::Ctxt;
use crate::valid;

/// Reads, checks and expands; every error found is returned together.
pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    valid::check(&cx, &cont);
    cx.check()?;
    expand(&cont)
}

/// What the checked declaration says, as plain values.
struct Model<'a> {
    cont: &'a Container<'a>,
    type_name: String,
    resource_type: String,
    domain: String,
    version: u32,
    /// The parent's URN type: this type's minus its last segment.
    parent_type: Option<String>,
}

fn expand(cont: &Container) -> syn::Result<TokenStream> {
    let urn = cont.attrs.urn.as_ref();
    let Some(resource_type) = urn.and_then(|urn| urn.resource_type.as_ref()) else {
        return Err(syn::Error::new_spanned(
            cont.ident,
            "missing `#[urn(type = \"..\")]`",
        ));
    };
    let resource_type = resource_type.value();
    let domain = urn
        .and_then(|urn| urn.domain.as_ref())
        .map_or_else(|| valid::DEFAULT_DOMAIN.to_string(), |lit| lit.value());
    let parent_type = cont
        .attrs
        .parent
        .as_ref()
        .and_then(|_| resource_type.rsplit_once('.'))
        .map(|(parent, _)| parent.to_string());
    let model = Model {
        cont,
        type_name: cont.ident.unraw().to_string(),
        resource_type,
        domain,
        version: cont.attrs.version.as_ref().map_or(1, |v| v.value),
        parent_type,
    };

    let entity = entity_impl(&model);
    let relations = relation_impls(&model);
    let inherent = inherent_impl(&model);
    Ok(quote! {
        #entity
        #relations
        #inherent
    })
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

    let unique = cont.constraints.iter().map(|constraint| {
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
    });

    // The members' resource types are read through `MemberOf`, whose impl (generated below)
    // is where a member that is not an entity is reported: reading `<M as Entity>` here
    // would report it a second time.
    let (members_const, collection) = match &cont.attrs.collection {
        Some(collection) => {
            let members = collection
                .members
                .iter()
                .map(|member| quote!(member_type::<#ident, #member>()));
            let conveys = collection
                .conveys_authorization
                .as_ref()
                .is_some_and(|lit| lit.value);
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
                    })
                },
            )
        }
        None => (TokenStream::new(), quote!(::core::option::Option::None)),
    };

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

    let migrate_fn = match &cont.attrs.migrate {
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
    };

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
    let mut out = TokenStream::new();

    match (&cont.attrs.parent, &model.parent_type) {
        (Some(parent), Some(parent_type)) => {
            let parent_name = parent.to_token_stream().to_string().replace(' ', "");
            let last = model.resource_type.rsplit('.').next().unwrap_or_default();
            let message = format!(
                "the parent of {} must have URN type {parent_type}, but `{parent_name}` has another: name the entity whose URN type is {parent_type} in `#[parent(..)]`, or change the URN type to `<URN type of {parent_name}>.{last}`",
                model.resource_type
            );
            let check = parent_check(ident, parent, parent_type, &message);
            out.extend(quote! {
                #[automatically_derived]
                impl ::ddbrel_runtime::Child for #ident {
                    type Parent = #parent;
                }
                #check
            });
        }
        _ => out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::Root for #ident {}
        }),
    }

    if cont.attrs.account_scoped.is_some() {
        out.extend(quote! {
            #[automatically_derived]
            impl ::ddbrel_runtime::AccountScoped for #ident {}
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

/// `const _: () = assert!(<parent's URN type> == "<this type's minus its last segment>")`.
///
/// The parent's URN type is read through `Child` (a parent that is not an entity is reported
/// once, at `type Parent`). The assertion is spanned from the first to the last token of the
/// parent path so that the error underlines all of it.
fn parent_check(ident: &Ident, parent: &Path, parent_type: &str, message: &str) -> TokenStream {
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
    let assert_path = quote_spanned!(first=> ::core::assert);
    let mut args = Group::new(
        Delimiter::Parenthesis,
        quote_spanned! {last=>
            ::ddbrel_runtime::__private::const_str_eq(parent_type::<#ident>(), #parent_type),
            #message,
        },
    );
    args.set_span(last);
    quote! {
        const _: () = {
            const fn parent_type<C: ::ddbrel_runtime::Child>() -> &'static ::core::primitive::str {
                <<C as ::ddbrel_runtime::Child>::Parent as ::ddbrel_runtime::Entity>::RESOURCE_TYPE
            }
            #assert_path! #args;
        };
    }
}

fn inherent_impl(model: &Model) -> TokenStream {
    let cont = model.cont;
    let ident = cont.ident;
    let Model {
        type_name,
        resource_type,
        domain,
        ..
    } = model;
    let prefix = format!("urn:{domain}:{resource_type}::");
    let new_doc =
        format!("A new URN for a `{type_name}` with a fresh UUID v7 id: `{prefix}{{uuid}}`.");
    let parse_doc = format!(
        "Parses a `{type_name}` URN (`{prefix}{{uuid}}`) strictly, refusing a URN of another type or domain."
    );
    let prefix_doc = format!(
        "The key-condition prefix of `{type_name}` URNs: `{prefix}`. It ends with `::` so that it matches no other type whose name starts the same."
    );
    let finders = cont
        .constraints
        .iter()
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

    let (scope_param, scope_arg, scope_doc) = match (constraint.scope, &cont.attrs.parent) {
        (Scope::Account, _) => (
            quote!(account: &::ddbrel_runtime::AnyUrn,),
            quote!(::core::option::Option::Some(account)),
            " in the account `account`",
        ),
        (Scope::Parent, Some(parent)) => (
            quote!(parent: &::ddbrel_runtime::Urn<#parent>,),
            quote!(::core::option::Option::Some(parent.as_any())),
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
