//! The conditioned transaction of one repair ([`Fix`]), and the conditions repairs share.

use crate::error::Result;
use crate::records::attrs::s;
use crate::schema::{PK, attr};
use crate::urn::AnyUrn;
use crate::wire::expr::Expr;
use crate::wire::store::Store;
use crate::wire::tx::{Tx, TxOutcome};
use crate::wire::write::{Write, writes};

/// A resource is gone or does not list `:key` in `_uniqueKeys`.
fn not_listing(key: &str) -> Expr {
    Expr::new("attribute_not_exists(#pk) OR NOT contains(#uk, :key)")
        .name("#pk", PK)
        .name("#uk", attr::UNIQUE_KEYS)
        .value(":key", s(key))
}

/// A resource lists `:key` in `_uniqueKeys` and is not being deleted.
fn listing(key: &str) -> Expr {
    Expr::new("contains(#uk, :key) AND attribute_not_exists(#del)")
        .name("#uk", attr::UNIQUE_KEYS)
        .name("#del", attr::DELETING)
        .value(":key", s(key))
}

/// A child that neither names `parent` as its parent nor has it among its ancestors.
pub(super) fn not_a_child_of(parent: &AnyUrn) -> Expr {
    Expr::new(
        "attribute_exists(#pk) AND (attribute_not_exists(#p) OR #p <> :parent) AND NOT contains(#anc, :parent)",
    )
    .name("#pk", PK)
    .name("#p", attr::PARENT_URN)
    .name("#anc", attr::ANCESTORS)
    .value(":parent", s(parent.as_str()))
}

/// A fix's transaction, with one label per action saying what its condition failing means.
pub(super) struct Fix<'a> {
    pub(super) store: &'a Store,
    pub(super) tx: Tx,
    pub(super) labels: Vec<&'static str>,
}

impl<'a> Fix<'a> {
    pub(super) fn new(store: &'a Store) -> Fix<'a> {
        Fix {
            store,
            tx: Tx::new(),
            labels: Vec::new(),
        }
    }

    /// Deletes the record `pk`/`sk`, which must exist.
    pub(super) fn delete_existing(
        &mut self,
        pk: &str,
        sk: &str,
        label: &'static str,
    ) -> Result<()> {
        self.tx.push(Write::delete(pk, sk).when(writes::exists()));
        self.labels.push(label);
        Ok(())
    }

    /// Checks that the record `pk`/`sk` does not exist.
    pub(super) fn check_absent(&mut self, pk: &str, sk: &str, label: &'static str) -> Result<()> {
        self.tx.push(Write::check(pk, sk, writes::absent()));
        self.labels.push(label);
        Ok(())
    }

    /// Checks that the resource `urn` is gone or does not list the marker `key`.
    pub(super) fn check_not_listing(
        &mut self,
        urn: &AnyUrn,
        key: &str,
        label: &'static str,
    ) -> Result<()> {
        self.tx
            .push(Write::check(urn.as_str(), urn.as_str(), not_listing(key)));
        self.labels.push(label);
        Ok(())
    }

    /// Checks that the resource `urn` lists the marker `key` and is not being deleted.
    pub(super) fn check_listing(
        &mut self,
        urn: &AnyUrn,
        key: &str,
        label: &'static str,
    ) -> Result<()> {
        self.tx
            .push(Write::check(urn.as_str(), urn.as_str(), listing(key)));
        self.labels.push(label);
        Ok(())
    }

    /// Subtracts one from the count `attribute` of the existing resource `urn`.
    pub(super) fn decrement(
        &mut self,
        urn: &AnyUrn,
        attribute: &str,
        label: &'static str,
    ) -> Result<()> {
        self.tx
            .push(writes::count(urn.as_str(), attribute, -1).when(writes::exists()));
        self.labels.push(label);
        Ok(())
    }

    /// Applies `update` (the membership sets of the existing resource `member`: joining or
    /// leaving a collection, see [`writes`]); with `fenced_out`, only when it is not being
    /// deleted either.
    pub(super) fn update_sets(
        &mut self,
        member: &AnyUrn,
        update: Expr,
        fenced_out: bool,
        label: &'static str,
    ) -> Result<()> {
        let condition = if fenced_out {
            writes::live()
        } else {
            writes::exists()
        };
        self.tx
            .push(Write::update(member.as_str(), member.as_str(), update).when(condition));
        self.labels.push(label);
        Ok(())
    }

    /// Sends the transaction; `Ok(Err(why))` when it was cancelled, `why` naming the
    /// conditions that failed.
    pub(super) async fn send(self, urn: &str) -> Result<std::result::Result<(), String>> {
        match self.tx.send(self.store, urn).await? {
            TxOutcome::Applied => Ok(Ok(())),
            TxOutcome::Cancelled(reasons) => {
                let why: Vec<&str> = reasons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.condition_failed())
                    .map(|(i, _)| self.labels.get(i).copied().unwrap_or("a condition failed"))
                    .collect();
                Ok(Err(if why.is_empty() {
                    "the transaction was cancelled".to_string()
                } else {
                    format!("changed since the audit: {}", why.join("; "))
                }))
            }
        }
    }
}
