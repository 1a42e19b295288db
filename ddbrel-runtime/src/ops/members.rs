//! Collection memberships (SCHEMA.md §10 "Add member", "Remove member", "Members",
//! "Collections of"). `collections_of` reads the InvertedIndex and is eventually consistent.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use tracing::instrument;

use crate::codec::{n, s};
use crate::entity::{Collection, MemberOf};
use crate::error::{Error, Result};
use crate::query::{Order, Page, PageRequest};
use crate::records::membership::{Membership, membership_item, membership_of};
use crate::schema::{COLLECTION_PREFIX, GSI1PK, GSI1SK, INVERTED_INDEX, MEMBER_PREFIX, PK, attr};
use crate::store::{Store, Stored, names};
use crate::time;
use crate::tx::{Tx, TxOutcome};
use crate::urn::{AnyUrn, Urn};
use crate::wire::pager::KeyQuery;

impl Store {
    /// Adds `member` to `collection` with the collection type's default for conveying
    /// authorization. One TransactWriteItems: the membership record, the collection's member
    /// count, the member's `_memberOf` (and `_conveyingCollections`), and checks that neither
    /// end nor any of their ancestors is being deleted. Re-adding is idempotent.
    pub async fn add_member<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Stored<C>,
        member: &Stored<M>,
    ) -> Result<Membership> {
        self.add_member_with(collection, member, C::CONVEYS_AUTHORIZATION)
            .await
    }

    /// Adds a member, choosing whether this membership conveys authorization. Re-adding with
    /// another choice changes the flag.
    #[instrument(name = "ddbrel.add_member", skip_all, fields(collection = %collection.urn, member = %member.urn))]
    pub async fn add_member_with<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Stored<C>,
        member: &Stored<M>,
        conveys_authorization: bool,
    ) -> Result<Membership> {
        let c = collection.urn.as_any();
        let m = member.urn.as_any();
        let membership = Membership {
            collection: c.clone(),
            member: m.clone(),
            conveys_authorization,
        };
        let now = time::now();
        let mut tx = Tx::new();
        tx.put(
            self,
            membership_item(&membership, &now),
            Some("attribute_not_exists(PK)"),
            None,
            None,
        )?;
        tx.update(
            self,
            c.as_str(),
            c.as_str(),
            "ADD #mc :one".into(),
            Some("attribute_exists(#pk) AND #rt = :rt AND attribute_not_exists(#del)"),
            Some(names(&[
                ("#pk", PK),
                ("#mc", attr::MEMBER_COUNT),
                ("#rt", attr::RESOURCE_TYPE),
                ("#del", attr::DELETING),
            ])),
            Some(HashMap::from([
                (":one".to_string(), n(1)),
                (":rt".to_string(), s(C::RESOURCE_TYPE)),
            ])),
        )?;
        let set = AttributeValue::Ss(vec![c.to_string()]);
        let (expr, nm) = if conveys_authorization {
            (
                "ADD #mo :c, #conv :c",
                names(&[
                    ("#pk", PK),
                    ("#mo", attr::MEMBER_OF),
                    ("#conv", attr::CONVEYING_COLLECTIONS),
                    ("#del", attr::DELETING),
                ]),
            )
        } else {
            (
                "ADD #mo :c",
                names(&[
                    ("#pk", PK),
                    ("#mo", attr::MEMBER_OF),
                    ("#del", attr::DELETING),
                ]),
            )
        };
        tx.update(
            self,
            m.as_str(),
            m.as_str(),
            expr.into(),
            Some("attribute_exists(#pk) AND attribute_not_exists(#del)"),
            Some(nm),
            Some(HashMap::from([(":c".to_string(), set)])),
        )?;
        // Ancestors of either end: not being deleted (a cascade above them).
        let mut checked: Vec<AnyUrn> = Vec::new();
        for a in collection
            .meta
            .ancestors
            .iter()
            .chain(member.meta.ancestors.iter())
        {
            if a == c || a == m || checked.contains(a) {
                continue;
            }
            tx.check(
                self,
                a.as_str(),
                a.as_str(),
                "attribute_exists(#pk) AND attribute_not_exists(#del)",
                Some(names(&[("#pk", PK), ("#del", attr::DELETING)])),
                None,
            )?;
            checked.push(a.clone());
        }
        match tx.send(self, c.as_str()).await? {
            TxOutcome::Applied => Ok(membership),
            TxOutcome::Cancelled(reasons) => {
                let failed = |i: usize| reasons.get(i).is_some_and(|r| r.condition_failed());
                let old = |i: usize| reasons.get(i).and_then(|r| r.item.clone());
                if failed(1) {
                    return Err(match old(1) {
                        Some(o) if o.contains_key(attr::DELETING) => {
                            Error::BeingDeleted { urn: c.to_string() }
                        }
                        _ => Error::RelatedMissing { urn: c.to_string() },
                    });
                }
                if failed(2) {
                    return Err(match old(2) {
                        Some(o) if o.contains_key(attr::DELETING) => {
                            Error::BeingDeleted { urn: m.to_string() }
                        }
                        _ => Error::RelatedMissing { urn: m.to_string() },
                    });
                }
                for (i, a) in checked.iter().enumerate() {
                    if failed(3 + i) {
                        return Err(match old(3 + i) {
                            Some(_) => Error::BeingDeleted { urn: a.to_string() },
                            None => Error::RelatedMissing { urn: a.to_string() },
                        });
                    }
                }
                if failed(0) {
                    // Already a member: idempotent, unless the flag is to change.
                    let existing = old(0).map(|i| membership_of(&i)).transpose()?;
                    return match existing {
                        Some(e) if e.conveys_authorization == conveys_authorization => Ok(e),
                        _ => self.set_conveys(&membership).await.map(|_| membership),
                    };
                }
                Err(Error::Conflict {
                    urn: c.to_string(),
                    expected: 0,
                    current: None,
                })
            }
        }
    }

    async fn set_conveys(&self, m: &Membership) -> Result<()> {
        let (c, member) = (&m.collection, &m.member);
        let mut tx = Tx::new();
        tx.update(
            self,
            c.as_str(),
            &format!("{MEMBER_PREFIX}{member}"),
            "SET #cv = :cv".into(),
            Some("attribute_exists(#pk)"),
            Some(names(&[("#pk", PK), ("#cv", attr::CONVEYS_AUTHORIZATION)])),
            Some(HashMap::from([(
                ":cv".to_string(),
                AttributeValue::Bool(m.conveys_authorization),
            )])),
        )?;
        let verb = if m.conveys_authorization {
            "ADD"
        } else {
            "DELETE"
        };
        tx.update(
            self,
            member.as_str(),
            member.as_str(),
            format!("{verb} #conv :c"),
            Some("attribute_exists(#pk) AND attribute_not_exists(#del)"),
            Some(names(&[
                ("#pk", PK),
                ("#conv", attr::CONVEYING_COLLECTIONS),
                ("#del", attr::DELETING),
            ])),
            Some(HashMap::from([(
                ":c".to_string(),
                AttributeValue::Ss(vec![c.to_string()]),
            )])),
        )?;
        match tx.send(self, c.as_str()).await? {
            TxOutcome::Applied => Ok(()),
            TxOutcome::Cancelled(_) => Err(Error::Conflict {
                urn: c.to_string(),
                expected: 0,
                current: None,
            }),
        }
    }

    /// Removes `member` from `collection` (one TransactWriteItems): the record, the count and
    /// the member's `_memberOf`. Returns whether it was a member.
    #[instrument(name = "ddbrel.remove_member", skip_all, fields(collection = %collection, member = %member))]
    pub async fn remove_member<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Urn<C>,
        member: &Urn<M>,
    ) -> Result<bool> {
        self.remove_member_any(collection.as_any(), member.as_any())
            .await
    }

    /// Removes a membership given two URNs of any types.
    pub async fn remove_member_any(&self, c: &AnyUrn, m: &AnyUrn) -> Result<bool> {
        let mut tx = Tx::new();
        tx.delete(
            self,
            c.as_str(),
            &format!("{MEMBER_PREFIX}{m}"),
            Some("attribute_exists(#pk)"),
            Some(names(&[("#pk", PK)])),
            None,
        )?;
        tx.update(
            self,
            c.as_str(),
            c.as_str(),
            "ADD #mc :m1".into(),
            Some("attribute_exists(#pk)"),
            Some(names(&[("#pk", PK), ("#mc", attr::MEMBER_COUNT)])),
            Some(HashMap::from([(":m1".to_string(), n(-1))])),
        )?;
        tx.update(
            self,
            m.as_str(),
            m.as_str(),
            "DELETE #mo :c, #conv :c".into(),
            Some("attribute_exists(#pk)"),
            Some(names(&[
                ("#pk", PK),
                ("#mo", attr::MEMBER_OF),
                ("#conv", attr::CONVEYING_COLLECTIONS),
            ])),
            Some(HashMap::from([(
                ":c".to_string(),
                AttributeValue::Ss(vec![c.to_string()]),
            )])),
        )?;
        match tx.send(self, c.as_str()).await? {
            TxOutcome::Applied => Ok(true),
            TxOutcome::Cancelled(reasons) => {
                if reasons.first().is_some_and(|r| r.condition_failed()) {
                    Ok(false)
                } else if reasons.get(1).is_some_and(|r| r.condition_failed()) {
                    Err(Error::RelatedMissing { urn: c.to_string() })
                } else {
                    Err(Error::RelatedMissing { urn: m.to_string() })
                }
            }
        }
    }

    /// The members of a collection: one strongly consistent Query per page.
    #[instrument(name = "ddbrel.members", skip_all, fields(collection = %collection))]
    pub async fn members<C: Collection>(
        &self,
        collection: &Urn<C>,
        page: PageRequest,
    ) -> Result<Page<Membership>> {
        self.members_any(collection.as_any(), page).await
    }

    /// The members of any collection.
    pub async fn members_any(
        &self,
        collection: &AnyUrn,
        page: PageRequest,
    ) -> Result<Page<Membership>> {
        let fp = format!("members|{collection}");
        let (items, cursor) = self
            .query_prefix(
                collection.as_str(),
                MEMBER_PREFIX,
                &fp,
                Order::OldestFirst,
                &page,
            )
            .await?;
        let items = items.iter().map(membership_of).collect::<Result<_>>()?;
        Ok(Page { items, cursor })
    }

    /// The collections holding a resource, through the InvertedIndex: one Query per page,
    /// **eventually consistent** (a membership added a moment ago may be missing).
    #[instrument(name = "ddbrel.collections_of", skip_all, fields(member = %member))]
    pub async fn collections_of(
        &self,
        member: &AnyUrn,
        page: PageRequest,
    ) -> Result<Page<Membership>> {
        let fp = format!("collections|{member}");
        let (items, cursor) = self
            .query_page(
                KeyQuery {
                    index: Some(INVERTED_INDEX),
                    hash: (GSI1PK, member.as_str()),
                    prefix: Some((GSI1SK, COLLECTION_PREFIX)),
                },
                &fp,
                Order::OldestFirst,
                &page,
            )
            .await?;
        let items = items.iter().map(membership_of).collect::<Result<_>>()?;
        Ok(Page { items, cursor })
    }
}
