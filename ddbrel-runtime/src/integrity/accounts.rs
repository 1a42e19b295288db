//! **I5** (SCHEMA.md section 9): `_accountUrn` of every account-scoped resource equals the URN
//! of its account, that is the parent's `_accountUrn`, or the parent's URN when the parent has
//! none. No other record has `_accountUrn`.
//!
//! Here: the account against the parent and the `_ancestors`. Pass 1 ([`super::parse`])
//! reports `_accountUrn` on roots, on the resource itself and on relationship and marker
//! records; [`super::types`] that resources of one type agree on having it.

use super::FindingKind::AccountMismatch;
use super::cross::Index;
use super::read::Checker;
use super::records::Resource;

impl Checker {
    /// I5 for one resource with a parent: its `_accountUrn` is its parent's account, and one
    /// of its `_ancestors`.
    pub(super) fn account(&mut self, r: &Resource, ix: &Index) {
        let (Some(account), Some(parent)) = (&r.account, &r.parent) else {
            return;
        };
        let key = r.key.as_str();
        if let Some(p) = ix.t.resources.get(parent) {
            let want = p.account.as_ref().unwrap_or(parent);
            if account != want {
                self.push(
                    AccountMismatch,
                    "I5",
                    key,
                    format!(
                        "_accountUrn is {account}, expected {want} (the parent's {})",
                        if p.account.is_some() {
                            "_accountUrn"
                        } else {
                            "URN"
                        }
                    ),
                );
            }
        }
        if !r.ancestors().contains(account) {
            self.push(
                AccountMismatch,
                "I5",
                key,
                format!("_accountUrn {account} is not one of its _ancestors"),
            );
        }
    }
}
