//! The conditioned transaction of one repair ([`Fix`]), and the conditions repairs share.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::codec::{n, s};
use crate::error::Result;
use crate::schema::{PK, attr};
use crate::store::{Store, names};
use crate::tx::{Tx, TxOutcome};
use crate::urn::AnyUrn;

/// The record exists.
const EXISTS: &str = "attribute_exists(#pk)";
/// The record does not exist.
pub(super) const ABSENT: &str = "attribute_not_exists(#pk)";
/// A resource is gone or does not list `:key` in `_uniqueKeys`.
const NOT_LISTING: &str = "attribute_not_exists(#pk) OR NOT contains(#uk, :key)";
/// A resource lists `:key` in `_uniqueKeys` and is not being deleted.
const LISTING: &str = "contains(#uk, :key) AND attribute_not_exists(#del)";
/// A child that neither names `:parent` as its parent nor has it among its ancestors.
pub(super) const NOT_A_CHILD_OF: &str = "attribute_exists(#pk) AND (attribute_not_exists(#p) OR #p <> :parent) AND NOT contains(#anc, :parent)";

pub(super) fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// `:c`, the one-element string set of a collection, for ADD/DELETE on the membership sets.
fn collection_set(collection: &AnyUrn) -> HashMap<String, AttributeValue> {
    values(&[(":c", AttributeValue::Ss(vec![collection.to_string()]))])
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
        self.tx.delete(
            self.store,
            pk,
            sk,
            Some(EXISTS),
            Some(names(&[("#pk", PK)])),
            None,
        )?;
        self.labels.push(label);
        Ok(())
    }

    /// Checks that the record `pk`/`sk` does not exist.
    pub(super) fn check_absent(&mut self, pk: &str, sk: &str, label: &'static str) -> Result<()> {
        self.tx.check(
            self.store,
            pk,
            sk,
            ABSENT,
            Some(names(&[("#pk", PK)])),
            None,
        )?;
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
        self.tx.check(
            self.store,
            urn.as_str(),
            urn.as_str(),
            NOT_LISTING,
            Some(names(&[("#pk", PK), ("#uk", attr::UNIQUE_KEYS)])),
            Some(values(&[(":key", s(key))])),
        )?;
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
        self.tx.check(
            self.store,
            urn.as_str(),
            urn.as_str(),
            LISTING,
            Some(names(&[
                ("#uk", attr::UNIQUE_KEYS),
                ("#del", attr::DELETING),
            ])),
            Some(values(&[(":key", s(key))])),
        )?;
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
        self.tx.update(
            self.store,
            urn.as_str(),
            urn.as_str(),
            "ADD #c :m1".into(),
            Some(EXISTS),
            Some(names(&[("#pk", PK), ("#c", attribute)])),
            Some(values(&[(":m1", n(-1))])),
        )?;
        self.labels.push(label);
        Ok(())
    }

    /// Applies `expr` (ADD/DELETE of `:c` on `#mo` = `_memberOf` and `#conv` =
    /// `_conveyingCollections`) to the existing resource `member`; with `fenced_out`, only
    /// when it is not being deleted either.
    pub(super) fn update_sets(
        &mut self,
        member: &AnyUrn,
        collection: &AnyUrn,
        expr: &str,
        fenced_out: bool,
        label: &'static str,
    ) -> Result<()> {
        let mut nm = names(&[
            ("#pk", PK),
            ("#mo", attr::MEMBER_OF),
            ("#conv", attr::CONVEYING_COLLECTIONS),
        ]);
        let condition = if fenced_out {
            nm.insert("#del".into(), attr::DELETING.into());
            "attribute_exists(#pk) AND attribute_not_exists(#del)"
        } else {
            EXISTS
        };
        self.tx.update(
            self.store,
            member.as_str(),
            member.as_str(),
            expr.into(),
            Some(condition),
            Some(nm),
            Some(collection_set(collection)),
        )?;
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
