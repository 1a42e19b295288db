//! The typed field paths: `struct {Type}Fields` with one `ddbrel_runtime::Field` per stored
//! field, and `{Type}::fields()`, for `Store::patch`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Container;

/// `{vis} struct {Type}Fields { pub field: Field<Type, FieldType>, .. }` and
/// `impl Type { pub const fn fields() -> {Type}Fields }`. A field serde does not write
/// (`skip`), or writes in a form of its own (`with`, `serialize_with`), has no path: a
/// patch could not write it as a whole write would.
pub fn field_paths(cont: &Container) -> TokenStream {
    let ident = cont.ident;
    let vis = cont.vis;
    let paths_ident = format_ident!("{}Fields", ident);
    let type_name = cont.type_name();
    let mut decls = Vec::new();
    let mut inits = Vec::new();
    for (index, field) in cont.fields.iter().enumerate() {
        if !field.stored() || field.attrs.serde.custom {
            continue;
        }
        let (name, ty, attr_name) = (field.ident, field.ty, &field.attr_name);
        let unique = cont
            .constraints
            .iter()
            .any(|constraint| constraint.fields.contains(&index));
        let doc = if unique {
            format!(
                "`{type_name}.{name}`, stored as `{attr_name}`; a unique constraint reads it, so a patch of it moves the marker."
            )
        } else {
            format!("`{type_name}.{name}`, stored as `{attr_name}`.")
        };
        decls.push(quote! {
            #[doc = #doc]
            pub #name: ::ddbrel_runtime::Field<#ident, #ty>,
        });
        inits.push(quote! {
            #name: ::ddbrel_runtime::Field::new(#attr_name, #unique),
        });
    }
    let struct_doc = format!(
        "The typed paths to the stored fields of [`{type_name}`], for [`Store::patch`](::ddbrel_runtime::Store::patch): see [`{type_name}::fields`]."
    );
    let fn_doc = format!(
        "The typed paths to the stored fields of `{type_name}`: `{type_name}::fields().<field>` names one field in a [`Store::patch`](::ddbrel_runtime::Store::patch)."
    );
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #paths_ident {
            #(#decls)*
        }

        impl #ident {
            #[doc = #fn_doc]
            #[must_use]
            pub const fn fields() -> #paths_ident {
                #paths_ident { #(#inits)* }
            }
        }
    }
}
