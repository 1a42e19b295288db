//! `#[urn(type = "..", domain = "..")]` and `#[entity(version = N, migrate = path)]`.

use syn::{Attribute, LitInt, LitStr, Path};

use crate::attr::once::Once;
use crate::attr::read::{lit_str, require_list, unknown_key};
use crate::ctxt::Ctxt;

/// `#[urn(type = "...", domain = "...")]`.
pub struct Urn {
    /// The attribute, for errors about it as a whole.
    pub attr: Path,
    pub resource_type: Option<LitStr>,
    pub domain: Option<LitStr>,
    /// An unknown key or a value that could not be read was reported: do not also report
    /// what is missing.
    pub incomplete: bool,
}

/// `#[entity(version = N)]`.
pub struct Version {
    pub value: u32,
    pub lit: LitInt,
}

/// `#[entity(version = N, migrate = path)]`.
pub struct EntityAttr {
    pub version: Option<Version>,
    /// The function that upgrades items of older versions.
    pub migrate: Option<Path>,
}

pub fn parse_urn(cx: &Ctxt, attr: &Attribute) -> Option<Urn> {
    if !require_list(cx, attr, "#[urn(type = \"System.Account.Job\")]") {
        return None;
    }
    let mut resource_type = Once::key(cx, "type", "#[urn(..)]");
    let mut domain = Once::key(cx, "domain", "#[urn(..)]");
    let mut incomplete = false;
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("type") {
            match lit_str(cx, &meta, "\"System.Account.Job\"")? {
                Some(lit) => resource_type.set(&meta.path, lit),
                None => incomplete = true,
            }
        } else if meta.path.is_ident("domain") {
            if let Some(lit) = lit_str(cx, &meta, "\"pp\"")? {
                domain.set(&meta.path, lit);
            }
        } else {
            incomplete = true;
            unknown_key(
                cx,
                &meta,
                "#[urn(..)]",
                "`type = \"..\"` or `domain = \"..\"`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        incomplete = true;
        cx.syn_error(e);
    }
    Some(Urn {
        attr: attr.path().clone(),
        resource_type: resource_type.get(),
        domain: domain.get(),
        incomplete,
    })
}

pub fn parse_entity(cx: &Ctxt, attr: &Attribute) -> Option<EntityAttr> {
    if !require_list(cx, attr, "#[entity(version = 1)]") {
        return None;
    }
    let mut once = Once::key(cx, "version", "#[entity(..)]");
    let mut migrate = Once::key(cx, "migrate", "#[entity(..)]");
    let result = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("version") {
            let lit: LitInt = meta
                .value()?
                .parse()
                .map_err(|e| syn::Error::new(e.span(), "expected a whole number: `version = 2`"))?;
            match lit.base10_parse::<u32>() {
                Ok(value) => once.set(&meta.path, Version { value, lit }),
                Err(_) => cx.error_spanned_by(
                    &lit,
                    "`version` must be a whole number from 1 to 4294967295",
                ),
            }
        } else if meta.path.is_ident("migrate") {
            let path: Path = meta.value()?.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the path of a function: `migrate = migrate_job` (fn(u32, &mut ddbrel_runtime::Item) -> ddbrel_runtime::Result<()>)",
                )
            })?;
            migrate.set(&meta.path, path);
        } else {
            unknown_key(
                cx,
                &meta,
                "#[entity(..)]",
                "`version = N` or `migrate = function`",
            )?;
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
    Some(EntityAttr {
        version: once.get(),
        migrate: migrate.get(),
    })
}
