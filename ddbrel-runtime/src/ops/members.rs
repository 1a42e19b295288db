//! Collection memberships (SCHEMA.md §10 "Add member", "Remove member", "Members",
//! "Collections of"). `collections_of` reads the InvertedIndex and is eventually consistent.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::entity::{Collection, Entity, MemberOf};
use crate::error::{Error, Result};
use crate::records::membership::{Membership, collection_rule, membership_item, membership_of};
use crate::records::resource::Stored;
use crate::schema::keys;
use crate::schema::{COLLECTION_PREFIX, GSI1PK, GSI1SK, INVERTED_INDEX, MEMBER_PREFIX, attr};
use crate::time;
use crate::urn::{AnyUrn, Urn};
use crate::wire::expr::Expr;
use crate::wire::filter::Filter;
use crate::wire::page::{Order, Page, PageRequest};
use crate::wire::pager::KeyQuery;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};
use crate::wire::tx::{Cancelled, Tx, TxOutcome};
use crate::wire::write::{Write, writes};

impl Store {
    /// Adds `member` to `collection` with the collection type's default for conveying
    /// authorization. One TransactWriteItems: the membership record, the collection's member
    /// count, the member's `_memberOf` (and `_conveyingCollections`), both ends conditioned on
    /// existing and not being deleted. Re-adding is idempotent.
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
    pub async fn add_member_with<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Stored<C>,
        member: &Stored<M>,
        conveys_authorization: bool,
    ) -> Result<Membership> {
        let span = op_span!(self, "add_member", ddbrel.collection = %collection.urn, ddbrel.member = %member.urn);
        traced(span, async {
            let c = collection.urn.as_any();
            let m = member.urn.as_any();
            let membership = Membership {
                collection: c.clone(),
                member: m.clone(),
                conveys_authorization,
            };
            let now = time::now();
            let mut tx = Tx::new();
            let rule = collection_rule::<C>();
            tx.push(Write::put(membership_item(&membership, &now, rule)).when(writes::absent()));
            // The collection: exists, of its type, not fenced; count the member.
            tx.push(
                writes::count(c.as_str(), attr::MEMBER_COUNT, 1)
                    .when(writes::live().and(writes::of_type(C::RESOURCE_TYPE))),
            );
            // The member: exists, not fenced; joins the collection.
            tx.push(
                Write::update(
                    m.as_str(),
                    m.as_str(),
                    writes::join_collection(c.as_str(), conveys_authorization),
                )
                .when(writes::live()),
            );
            // No ancestor of either end is checked (SCHEMA.md §7): a cascade above fences each end
            // before it reads the end's memberships, or deletes it as a leaf conditioned on its
            // `_memberOf` and counts as read. Except for a restricting collection, whose
            // ancestors must not be fenced (§7, "Restrict": a cascade that passed over the
            // collection while it was a leaf is under way above).
            let guarded = restricting_guard::<C>(&collection.meta, m);
            for a in &guarded {
                tx.push(Write::check(a.as_str(), a.as_str(), writes::not_fenced()));
            }
            let reasons = match tx.send(self, c.as_str()).await? {
                TxOutcome::Applied => return Ok(membership),
                TxOutcome::Cancelled(reasons) => reasons,
            };
            let fenced = guarded
                .iter()
                .enumerate()
                .find(|(i, _)| reasons.get(3 + i).is_some_and(Cancelled::condition_failed));
            if let Some((_, a)) = fenced {
                return Err(Error::BeingDeleted { urn: a.to_string() });
            }
            if let Some(e) = add_member_failure(&reasons, c, m) {
                return Err(e);
            }
            // Only the record's condition failed: already a member. Idempotent, unless the flag
            // is to change.
            let existing = reasons
                .first()
                .and_then(|r| r.item.as_ref())
                .map(membership_of)
                .transpose()?;
            match existing {
                Some(e) if e.conveys_authorization == conveys_authorization => Ok(e),
                _ => self.set_conveys(&membership).await.map(|_| membership),
            }
        })
        .await
    }

    async fn set_conveys(&self, m: &Membership) -> Result<()> {
        let (c, member) = (&m.collection, &m.member);
        let verb = if m.conveys_authorization {
            "ADD"
        } else {
            "DELETE"
        };
        let mut tx = Tx::new();
        tx.push(
            Write::update(
                c.as_str(),
                &keys::member_sk(member.as_str()),
                Expr::new("SET #cv = :cv")
                    .name("#cv", attr::CONVEYS_AUTHORIZATION)
                    .value(":cv", AttributeValue::Bool(m.conveys_authorization)),
            )
            .when(writes::exists()),
        );
        tx.push(
            Write::update(
                member.as_str(),
                member.as_str(),
                Expr::new(format!("{verb} #conv :c"))
                    .name("#conv", attr::CONVEYING_COLLECTIONS)
                    .value(":c", AttributeValue::Ss(vec![c.to_string()])),
            )
            .when(writes::live()),
        );
        match tx.send(self, c.as_str()).await? {
            TxOutcome::Applied => Ok(()),
            TxOutcome::Cancelled(_) => Err(Error::ChangedMeanwhile {
                urn: c.to_string(),
                what: "changing whether a membership conveys authorization".into(),
            }),
        }
    }

    /// Removes `member` from `collection` (one TransactWriteItems): the record, the count and
    /// the member's `_memberOf`. Returns whether it was a member.
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
        let span = op_span!(self, "remove_member", ddbrel.collection = %c, ddbrel.member = %m);
        traced(span, async {
            let mut tx = Tx::new();
            tx.push(Write::delete(c.as_str(), &keys::member_sk(m.as_str())).when(writes::exists()));
            tx.push(writes::count(c.as_str(), attr::MEMBER_COUNT, -1).when(writes::exists()));
            tx.push(
                Write::update(
                    m.as_str(),
                    m.as_str(),
                    writes::leave_collections(vec![c.to_string()]),
                )
                .when(writes::exists()),
            );
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
        })
        .await
    }

    /// The members of a collection: one strongly consistent Query per page.
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
        let span = op_span!(self, "members", ddbrel.collection = %collection);
        traced(span, async {
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
        })
        .await
    }

    /// The members of one type `M` of a collection, with their data: one strongly
    /// consistent Query of the collection's `member#` records of that type per page, then one
    /// BatchGetItem for the members (a page holds at most 100 when `limit` is at most 100;
    /// the reads take 100 keys each). A member missing from the second read (deleted between
    /// the two) is skipped. The page's cursor continues the Query.
    ///
    /// ```no_run
    /// # use ddbrel_runtime::{Entity, PageRequest, Store, Urn};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org")]
    /// # pub struct Org { name: String }
    /// # #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org.Member")]
    /// # #[parent(Org)]
    /// # pub struct Member { email: String }
    /// # #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org.Group")]
    /// # #[parent(Org)]
    /// # #[collection(of(Member), conveys_authorization = true)]
    /// # pub struct Group { name: String }
    /// # async fn f(store: &Store, group: &Urn<Group>) -> ddbrel_runtime::Result<()> {
    /// let members = store
    ///     .members_with_data::<_, Member>(group, PageRequest::first(100))
    ///     .await?;
    /// for member in &members.items {
    ///     println!("{}", member.data.email);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn members_with_data<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Urn<C>,
        page: PageRequest,
    ) -> Result<Page<Stored<M>>> {
        let span = op_span!(self, "members_with_data", ddbrel.collection = %collection);
        traced(span, async {
            let (urns, cursor) = self.member_urns::<M>(collection.as_any(), &page).await?;
            // A member gone between the two reads is skipped.
            let items = self.get_many(&urns).await?.into_iter().flatten().collect();
            Ok(Page { items, cursor })
        })
        .await
    }

    /// [`Store::members_with_data`] keeping only the members that satisfy `filter`, tested on
    /// each member as read: the same 2 requests a page, whatever the filter keeps. A page may
    /// hold fewer than its limit, even none, and still have a cursor.
    pub async fn members_with_data_where<C: Collection, M: MemberOf<C>>(
        &self,
        collection: &Urn<C>,
        filter: &Filter<M>,
        page: PageRequest,
    ) -> Result<Page<Stored<M>>> {
        let span = op_span!(self, "members_with_data_where", ddbrel.collection = %collection, ddbrel.filter = ?filter);
        traced(span, async {
            filter.expression()?;
            let (urns, cursor) = self.member_urns::<M>(collection.as_any(), &page).await?;
            let items = self
                .resources_where(urns.iter().map(Urn::as_str), filter)
                .await?;
            Ok(Page { items, cursor })
        })
        .await
    }

    /// A page of the members of type `M` of `collection`: one strongly consistent Query.
    async fn member_urns<M: Entity>(
        &self,
        collection: &AnyUrn,
        page: &PageRequest,
    ) -> Result<(Vec<Urn<M>>, Option<String>)> {
        let prefix = keys::member_sk(&Urn::<M>::prefix());
        let fp = format!("members|{collection}|{prefix}");
        let (items, cursor) = self
            .query_prefix(collection.as_str(), &prefix, &fp, Order::OldestFirst, page)
            .await?;
        let urns = items
            .iter()
            .map(|i| Ok(membership_of(i)?.member.typed::<M>()?))
            .collect::<Result<Vec<_>>>()?;
        Ok((urns, cursor))
    }

    /// The collections holding a resource, through the InvertedIndex: one Query per page,
    /// **eventually consistent** (a membership added a moment ago may be missing).
    pub async fn collections_of(
        &self,
        member: &AnyUrn,
        page: PageRequest,
    ) -> Result<Page<Membership>> {
        let span = op_span!(self, "collections_of", ddbrel.member = %member);
        traced(span, async {
            let fp = format!("collections|{member}");
            let (items, cursor) = self
                .query_page(
                    KeyQuery {
                        index: Some(INVERTED_INDEX),
                        hash: (GSI1PK, member.as_str()),
                        prefix: Some((GSI1SK, COLLECTION_PREFIX)),
                        filter: None,
                    },
                    &fp,
                    Order::OldestFirst,
                    &page,
                )
                .await?;
            let items = items.iter().map(membership_of).collect::<Result<_>>()?;
            Ok(Page { items, cursor })
        })
        .await
    }
}

/// The error for a cancelled add-member transaction (record, collection, member, in that
/// order), or `None` when only the record's condition failed.
/// The ancestors of a collection that adding `member` to it checks for a fence: all of them
/// (but the member itself, which the transaction already conditions) when `C` restricts its
/// delete while it has members, none otherwise (SCHEMA.md §7, "Restrict").
pub(crate) fn restricting_guard<'a, C: Collection>(
    collection: &'a crate::records::resource::ResourceMeta,
    member: &AnyUrn,
) -> Vec<&'a AnyUrn> {
    if collection_rule::<C>() != crate::entity::OnDelete::Restrict {
        return Vec::new();
    }
    collection
        .ancestors
        .iter()
        .filter(|a| *a != member)
        .collect()
}

fn add_member_failure(reasons: &[Cancelled], c: &AnyUrn, m: &AnyUrn) -> Option<Error> {
    let failed = |i: usize| reasons.get(i).filter(|r| r.condition_failed());
    let end = |i: usize, urn: &AnyUrn| {
        failed(i).map(|r| match &r.item {
            Some(o) if o.contains_key(attr::DELETING) => Error::BeingDeleted {
                urn: urn.to_string(),
            },
            _ => Error::RelatedMissing {
                urn: urn.to_string(),
            },
        })
    };
    if let Some(e) = end(1, c).or_else(|| end(2, m)) {
        return Some(e);
    }
    if failed(0).is_some() {
        return None;
    }
    Some(Error::ChangedMeanwhile {
        urn: c.to_string(),
        what: "adding a member".into(),
    })
}
