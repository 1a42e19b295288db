//! One type, one declaration. A resource type declares once whether it has a parent (**I2**:
//! "resources of root types have none of these") and whether it is account-scoped (**I5**).
//! The integrity check knows no Rust types, so it asks that all resources of one
//! `_resourceType` agree; a disagreement is reported once, on the key `type {resourceType}`.
//! Which types their parents are is not a rule here, since a type may declare several
//! (`#[parent(Workspace, Folder)]`): it is checked against the type registry, which records
//! them (`registry.rs`).

use std::collections::BTreeMap;

use super::FindingKind;
use super::read::Checker;
use super::records::Table;

impl Checker {
    /// I2 and I5 across all resources of each type.
    pub(super) fn type_consistency(&mut self, t: &Table) {
        #[derive(Default)]
        struct Seen<'a> {
            with_parent: Vec<&'a str>,
            without_parent: Vec<&'a str>,
            with_account: Vec<&'a str>,
            without_account: Vec<&'a str>,
        }
        let mut types: BTreeMap<&str, Seen> = BTreeMap::new();
        for r in t.resources.values() {
            let seen = types.entry(r.urn.resource_type()).or_default();
            match &r.parent {
                Some(_) => seen.with_parent.push(&r.key),
                None => seen.without_parent.push(&r.key),
            }
            if r.account.is_some() {
                seen.with_account.push(&r.key);
            } else {
                seen.without_account.push(&r.key);
            }
        }
        for (rt, seen) in types {
            let key = format!("type {rt}");
            if let (Some(a), Some(b)) = (seen.with_parent.first(), seen.without_parent.first()) {
                self.push(
                    FindingKind::ParentRelationship,
                    "I2",
                    &key,
                    format!("some resources have a parent ({a}), others none ({b})"),
                );
            }
            if let (Some(a), Some(b)) = (seen.with_account.first(), seen.without_account.first()) {
                self.push(
                    FindingKind::AccountMismatch,
                    "I5",
                    &key,
                    format!("some resources have _accountUrn ({a}), others none ({b})"),
                );
            }
        }
    }
}
