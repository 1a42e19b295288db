//! Relationships: parent-child reads (parent, children, ancestors, descendants), collection
//! memberships (add, remove, members, collections of), authorization scope, and account
//! queries.
//!
//! Consistency: everything read from the base table is strongly consistent. Two reads go
//! through a global secondary index and are **eventually consistent** (DynamoDB offers nothing
//! else on a GSI): [`Store::collections_of`] (InvertedIndex) and [`Store::account_resources`]
//! (ResourcesByAccountIndex). A membership or resource written a moment ago may be missing
//! from them; nothing in ddbrel that must be exact (cascade, authorization scope) uses them.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::instrument;

use crate::Item;
use crate::codec::{self, n, s};
use crate::entity::{AccountScoped, Child, Collection, MemberOf};
use crate::error::{Error, Result};
use crate::query::{Order, Page, PageRequest, next_cursor, start_key};
use crate::schema::{
    ACCOUNT_INDEX, CHILD_PREFIX, COLLECTION_PREFIX, GSI1PK, GSI1SK, INVERTED_INDEX, MEMBER_PREFIX,
    PK, RecordType, SK, attr,
};
use crate::store::{Store, Stored, names};
use crate::time;
use crate::tx::{Tx, TxOutcome};
use crate::urn::{AnyUrn, Urn};

/// Refuses a type prefix that does not end with `::` (it would also match every type whose
/// name extends this one: `System.Account.Job` is a prefix of `System.Account.JobCollection`).
fn check_type_prefix(what: &str, type_prefix: Option<&str>) -> Result<()> {
    match type_prefix {
        Some(p) if !p.ends_with("::") => Err(Error::Encode {
            what: what.into(),
            reason: format!("type prefix {p:?} must end with `::`"),
        }),
        _ => Ok(()),
    }
}

/// The key condition of one Query.
struct KeyQuery<'a> {
    /// `None` for the table, else the index name.
    index: Option<&'a str>,
    /// Hash key attribute and value.
    hash: (&'a str, &'a str),
    /// Range key attribute and the prefix it begins with.
    prefix: Option<(&'a str, &'a str)>,
}

/// A collection membership as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The collection.
    pub collection: AnyUrn,
    /// The member.
    pub member: AnyUrn,
    /// Whether grants on the collection apply to the member.
    pub conveys_authorization: bool,
}

fn parse_urn_attr(item: &Item, name: &str) -> Result<AnyUrn> {
    codec::get_urn(item, name)
}

fn membership_of(item: &Item) -> Result<Membership> {
    Ok(Membership {
        collection: parse_urn_attr(item, attr::COLLECTION_URN)?,
        member: parse_urn_attr(item, attr::MEMBER_URN)?,
        conveys_authorization: match item.get(attr::CONVEYS_AUTHORIZATION) {
            Some(AttributeValue::Bool(b)) => *b,
            _ => {
                return Err(Error::invalid_item(
                    codec::key_of(item),
                    "_conveysAuthorization is missing or not a BOOL",
                ));
            }
        },
    })
}

impl Store {
    /// The URN of a resource's parent: one GetItem.
    #[instrument(name = "ddbrel.parent_of", skip_all, fields(urn = %urn))]
    pub async fn parent_of<E: Child>(&self, urn: &Urn<E>) -> Result<Urn<E::Parent>> {
        let parent = self
            .parent_of_any(urn.as_any())
            .await?
            .ok_or_else(|| Error::invalid_item(urn.as_str(), "missing _parentUrn"))?;
        parent.typed().map_err(Error::from)
    }

    /// The parent URN of any resource (`None` for a root): one GetItem.
    pub async fn parent_of_any(&self, urn: &AnyUrn) -> Result<Option<AnyUrn>> {
        let item = self.get_projected(urn, &[attr::PARENT_URN]).await?;
        match codec::get_opt_s(&item, attr::PARENT_URN)? {
            None => Ok(None),
            Some(p) => AnyUrn::parse(p)
                .map(Some)
                .map_err(|e| Error::invalid_item(urn.as_str(), format!("_parentUrn: {e}"))),
        }
    }

    /// The chain from the root down to the resource's parent (root first): one GetItem, since
    /// every resource stores its `_ancestors`.
    #[instrument(name = "ddbrel.ancestors", skip_all, fields(urn = %urn))]
    pub async fn ancestors(&self, urn: &AnyUrn) -> Result<Vec<AnyUrn>> {
        let item = self.get_projected(urn, &[attr::ANCESTORS]).await?;
        match item.get(attr::ANCESTORS) {
            None => Ok(Vec::new()),
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| match v {
                    AttributeValue::S(s) => AnyUrn::parse(s)
                        .map_err(|e| Error::invalid_item(urn.as_str(), format!("_ancestors: {e}"))),
                    _ => Err(Error::invalid_item(
                        urn.as_str(),
                        "_ancestors holds a non-string",
                    )),
                })
                .collect(),
            Some(_) => Err(Error::invalid_item(
                urn.as_str(),
                "_ancestors is not a list",
            )),
        }
    }

    async fn get_projected(&self, urn: &AnyUrn, attrs: &[&str]) -> Result<Item> {
        let mut req = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, s(urn.as_str()))
            .key(SK, s(urn.as_str()))
            .consistent_read(true);
        let mut projection = vec!["#pk".to_string()];
        req = req.expression_attribute_names("#pk", PK);
        for (i, a) in attrs.iter().enumerate() {
            projection.push(format!("#a{i}"));
            req = req.expression_attribute_names(format!("#a{i}"), *a);
        }
        let out = req
            .projection_expression(projection.join(", "))
            .send()
            .await
            .map_err(|e| self.map_sdk_error("GetItem", e))?;
        out.item.ok_or_else(|| Error::NotFound {
            urn: urn.to_string(),
        })
    }

    /// The children of a parent, of one child type: one strongly consistent Query per page.
    #[instrument(name = "ddbrel.children", skip_all, fields(parent = %parent))]
    pub async fn children<C: Child>(
        &self,
        parent: &Urn<C::Parent>,
        page: PageRequest,
    ) -> Result<Page<Urn<C>>> {
        let prefix = Urn::<C>::prefix();
        let urns = self
            .children_any(parent.as_any(), Some(&prefix), Order::OldestFirst, page)
            .await?;
        let mut items = Vec::with_capacity(urns.items.len());
        for u in urns.items {
            items.push(u.typed::<C>()?);
        }
        Ok(Page {
            items,
            cursor: urns.cursor,
        })
    }

    /// The children of one type with their data: the Query and one BatchGetItem (strongly
    /// consistent) per page, so 2 requests for a page of up to 100.
    #[instrument(name = "ddbrel.children_with_data", skip_all, fields(parent = %parent))]
    pub async fn children_with_data<C: Child>(
        &self,
        parent: &Urn<C::Parent>,
        page: PageRequest,
    ) -> Result<Page<Stored<C>>> {
        let urns = self.children::<C>(parent, page).await?;
        let keys = urns
            .items
            .iter()
            .map(|u| (u.to_string(), u.to_string()))
            .collect();
        let mut found = self.batch_get(keys).await?;
        let mut items = Vec::with_capacity(urns.items.len());
        for urn in urns.items {
            // A child missing here is being removed by a cascade; it is skipped.
            if let Some(item) = found.remove(&(urn.to_string(), urn.to_string())) {
                items.push(Stored::from_item(item)?);
            }
        }
        Ok(Page {
            items,
            cursor: urns.cursor,
        })
    }

    /// The children of any resource, optionally only those whose URN starts with
    /// `type_prefix` (e.g. `urn:pp:System.Account.Job::`, which must end with `::`).
    pub async fn children_any(
        &self,
        parent: &AnyUrn,
        type_prefix: Option<&str>,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<AnyUrn>> {
        check_type_prefix("children query", type_prefix)?;
        let prefix = format!("{CHILD_PREFIX}{}", type_prefix.unwrap_or(""));
        let fp = format!("children|{parent}|{prefix}|{}", order.forward());
        let (items, cursor) = self
            .query_prefix(parent.as_str(), &prefix, &fp, order, &page)
            .await?;
        let mut urns = Vec::with_capacity(items.len());
        for item in &items {
            urns.push(parse_urn_attr(item, attr::CHILD_URN)?);
        }
        Ok(Page {
            items: urns,
            cursor,
        })
    }

    async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
        fingerprint: &str,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        self.query_page(
            KeyQuery {
                index: None,
                hash: (PK, pk),
                prefix: Some((SK, prefix)),
            },
            fingerprint,
            order,
            page,
        )
        .await
    }

    /// One page of a key-condition Query: `hash = value [AND begins_with(range, prefix)]` on
    /// the table (strongly consistent) or an index (eventually consistent, the only kind a GSI
    /// offers), with the page's cursor checked against `fingerprint`.
    async fn query_page(
        &self,
        q: KeyQuery<'_>,
        fingerprint: &str,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let start = start_key(fingerprint, page)?;
        let mut req = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(q.index.map(str::to_string))
            .consistent_read(q.index.is_none())
            .expression_attribute_names("#h", q.hash.0)
            .expression_attribute_values(":h", s(q.hash.1))
            .scan_index_forward(order.forward())
            .set_limit(page.limit.map(|l| l.min(i32::MAX as u32) as i32))
            .set_exclusive_start_key(start);
        req = match q.prefix {
            Some((range, prefix)) => req
                .key_condition_expression("#h = :h AND begins_with(#r, :p)")
                .expression_attribute_names("#r", range)
                .expression_attribute_values(":p", s(prefix)),
            None => req.key_condition_expression("#h = :h"),
        };
        let out = req
            .send()
            .await
            .map_err(|e| self.map_sdk_error("Query", e))?;
        let cursor = next_cursor(fingerprint, out.last_evaluated_key)?;
        Ok((out.items.unwrap_or_default(), cursor))
    }

    /// Every descendant, breadth-first, with its depth (1 = child), down to `max_depth`
    /// levels (`None`: all). One strongly consistent Query per node with children, at most
    /// `concurrency` at once.
    #[instrument(name = "ddbrel.descendants", skip_all, fields(urn = %urn))]
    pub async fn descendants(
        &self,
        urn: &AnyUrn,
        max_depth: Option<usize>,
    ) -> Result<Vec<(AnyUrn, usize)>> {
        let mut out = Vec::new();
        let mut level = vec![urn.clone()];
        let mut depth = 0;
        let mut seen = HashSet::from([urn.clone()]);
        while !level.is_empty() && max_depth.is_none_or(|m| depth < m) {
            depth += 1;
            let next: Vec<Vec<AnyUrn>> = stream::iter(level)
                .map(|node| async move {
                    let mut all = Vec::new();
                    let mut page = PageRequest::all();
                    loop {
                        let p = self
                            .children_any(&node, None, Order::OldestFirst, page)
                            .await?;
                        all.extend(p.items);
                        match p.cursor {
                            Some(c) => page = PageRequest::after(None, c),
                            None => return Ok::<_, Error>(all),
                        }
                    }
                })
                .buffer_unordered(crate::batch::DEFAULT_CONCURRENCY)
                .try_collect()
                .await?;
            level = Vec::new();
            for child in next.into_iter().flatten() {
                if seen.insert(child.clone()) {
                    out.push((child.clone(), depth));
                    level.push(child);
                }
            }
        }
        Ok(out)
    }

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

    /// Every URN whose grants apply to the resource: itself, its ancestors (cascading
    /// authorization), each collection holding it or one of its ancestors with
    /// `_conveysAuthorization = true`, and those collections' ancestors. In order: the
    /// resource, its ancestors from the parent up, then the collections, each followed by its
    /// own ancestors. At most 3 requests whatever the depth (GetItem, then BatchGetItem of the
    /// ancestors, then of the conveying collections), all strongly consistent.
    #[instrument(name = "ddbrel.authorization_scope", skip_all, fields(urn = %urn))]
    pub async fn authorization_scope(&self, urn: &AnyUrn) -> Result<Vec<AnyUrn>> {
        let Some(item) = self.get_item(urn.as_str(), urn.as_str()).await? else {
            return Err(Error::NotFound {
                urn: urn.to_string(),
            });
        };
        let (_, _, meta) = codec::decode_meta(&item)?;
        let mut scope = vec![urn.clone()];
        scope.extend(meta.ancestors.iter().rev().cloned());
        let mut collections: Vec<AnyUrn> = meta.conveying_collections.clone();
        if !meta.ancestors.is_empty() {
            let keys = meta
                .ancestors
                .iter()
                .map(|a| (a.to_string(), a.to_string()))
                .collect();
            let found = self.batch_get(keys).await?;
            for a in meta.ancestors.iter().rev() {
                if let Some(item) = found.get(&(a.to_string(), a.to_string())) {
                    let (_, _, m) = codec::decode_meta(item)?;
                    collections.extend(m.conveying_collections);
                }
            }
        }
        let mut seen: HashSet<AnyUrn> = scope.iter().cloned().collect();
        collections.retain(|c| seen.insert(c.clone()));
        if !collections.is_empty() {
            let keys = collections
                .iter()
                .map(|c| (c.to_string(), c.to_string()))
                .collect();
            let found = self.batch_get(keys).await?;
            for c in &collections {
                scope.push(c.clone());
                if let Some(item) = found.get(&(c.to_string(), c.to_string())) {
                    let (_, _, m) = codec::decode_meta(item)?;
                    for a in m.ancestors.iter().rev() {
                        if seen.insert(a.clone()) {
                            scope.push(a.clone());
                        }
                    }
                }
            }
        }
        Ok(scope)
    }

    /// Resources of one account-scoped type in an account, through ResourcesByAccountIndex:
    /// one Query per page (items projected, no further reads), **eventually consistent**,
    /// oldest or newest first.
    #[instrument(name = "ddbrel.by_account", skip_all, fields(account = %account, resource_type = E::RESOURCE_TYPE))]
    pub async fn by_account<E: AccountScoped>(
        &self,
        account: &AnyUrn,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Stored<E>>> {
        let prefix = Urn::<E>::prefix();
        let (items, cursor) = self
            .account_query(account, Some(&prefix), order, &page)
            .await?;
        let items = items
            .into_iter()
            .map(Stored::<E>::from_item)
            .collect::<Result<_>>()?;
        Ok(Page { items, cursor })
    }

    /// Every resource of an account (or those whose URN starts with `type_prefix`, ending in
    /// `::`), as raw items: one Query per page, eventually consistent.
    pub async fn account_resources(
        &self,
        account: &AnyUrn,
        type_prefix: Option<&str>,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Item>> {
        check_type_prefix("account query", type_prefix)?;
        let (items, cursor) = self
            .account_query(account, type_prefix, order, &page)
            .await?;
        Ok(Page { items, cursor })
    }

    async fn account_query(
        &self,
        account: &AnyUrn,
        type_prefix: Option<&str>,
        order: Order,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let fp = format!(
            "account|{account}|{}|{}",
            type_prefix.unwrap_or(""),
            order.forward()
        );
        self.query_page(
            KeyQuery {
                index: Some(ACCOUNT_INDEX),
                hash: (attr::ACCOUNT_URN, account.as_str()),
                prefix: type_prefix.map(|p| (SK, p)),
            },
            &fp,
            order,
            page,
        )
        .await
    }
}

/// A CollectionMembershipRelationship record.
pub(crate) fn membership_item(m: &Membership, now: &jiff::Timestamp) -> Item {
    HashMap::from([
        (PK.into(), s(m.collection.as_str())),
        (SK.into(), s(format!("{MEMBER_PREFIX}{}", m.member))),
        (GSI1PK.into(), s(m.member.as_str())),
        (
            GSI1SK.into(),
            s(format!("{COLLECTION_PREFIX}{}", m.collection)),
        ),
        (
            attr::TYPE.into(),
            s(RecordType::CollectionMembershipRelationship.as_str()),
        ),
        (
            attr::SCHEMA_VERSION.into(),
            n(crate::schema::RELATIONSHIP_SCHEMA_VERSION),
        ),
        (attr::CREATED_AT.into(), s(time::format(*now))),
        (attr::COLLECTION_URN.into(), s(m.collection.as_str())),
        (attr::MEMBER_URN.into(), s(m.member.as_str())),
        (
            attr::CONVEYS_AUTHORIZATION.into(),
            AttributeValue::Bool(m.conveys_authorization),
        ),
    ])
}
