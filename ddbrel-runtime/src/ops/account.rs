//! Account queries (SCHEMA.md §10 "By account"): the ResourcesByAccountIndex, eventually
//! consistent, newest or oldest first.

use crate::Item;
use crate::entity::AccountScoped;
use crate::error::Result;
use crate::records::resource::Stored;
use crate::schema::{ACCOUNT_INDEX, SK, attr};
use crate::urn::{AnyUrn, Urn};
use crate::wire::expr::Expr;
use crate::wire::filter::Filter;
use crate::wire::page::{Order, Page, PageRequest};
use crate::wire::pager::{KeyQuery, check_type_prefix};
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

impl Store {
    /// Resources of one account-scoped type in an account, through ResourcesByAccountIndex:
    /// one Query per page (items projected, no further reads), **eventually consistent**,
    /// oldest or newest first.
    pub async fn by_account<E: AccountScoped>(
        &self,
        account: &Urn<E::Account>,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Stored<E>>> {
        let span = op_span!(self, "by_account", ddbrel.account = %account, ddbrel.resource_type = E::RESOURCE_TYPE);
        traced(span, self.typed_account_page(account, order, page, None)).await
    }

    /// [`Store::by_account`] keeping only the resources that satisfy `filter`: a
    /// FilterExpression on the same Query, so the same reads and capacity (a filter narrows
    /// the page after DynamoDB read it). A page may hold fewer than its limit, even none, and
    /// still have a cursor. The filter tests the attributes as stored (a resource at an older
    /// schema version as that version stored it).
    ///
    /// ```no_run
    /// # use ddbrel_runtime::{Entity, Order, PageRequest, Store, Urn};
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org")]
    /// # pub struct Org { name: String }
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Entity)]
    /// # #[urn(type = "Docs.Org.Task")]
    /// # #[parent(Org)]
    /// # #[account_scoped]
    /// # pub struct Task { title: String, done: bool }
    /// # async fn f(store: &Store, org: &Urn<Org>) -> ddbrel_runtime::Result<()> {
    /// let open = Task::fields().done.equals(false);
    /// let page = store
    ///     .by_account_where::<Task>(org, &open, Order::NewestFirst, PageRequest::first(50))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn by_account_where<E: AccountScoped>(
        &self,
        account: &Urn<E::Account>,
        filter: &Filter<E>,
        order: Order,
        page: PageRequest,
    ) -> Result<Page<Stored<E>>> {
        let span = op_span!(self, "by_account_where", ddbrel.account = %account, ddbrel.resource_type = E::RESOURCE_TYPE, ddbrel.filter = ?filter);
        traced(span, async {
            let expr = filter.expression()?;
            self.typed_account_page(account, order, page, Some(&expr))
                .await
        })
        .await
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
        let span = op_span!(self, "account_resources", ddbrel.account = %account);
        traced(span, async {
            check_type_prefix("account query", type_prefix)?;
            let (items, cursor) = self
                .account_query(account, type_prefix, order, &page, None)
                .await?;
            Ok(Page { items, cursor })
        })
        .await
    }

    /// A page of `E` in `account`, decoded; `filter` on the Query when given.
    async fn typed_account_page<E: AccountScoped>(
        &self,
        account: &Urn<E::Account>,
        order: Order,
        page: PageRequest,
        filter: Option<&Expr>,
    ) -> Result<Page<Stored<E>>> {
        let prefix = Urn::<E>::prefix();
        let (items, cursor) = self
            .account_query(account.as_any(), Some(&prefix), order, &page, filter)
            .await?;
        let items = items
            .into_iter()
            .map(Stored::<E>::from_item)
            .collect::<Result<_>>()?;
        Ok(Page { items, cursor })
    }

    async fn account_query(
        &self,
        account: &AnyUrn,
        type_prefix: Option<&str>,
        order: Order,
        page: &PageRequest,
        filter: Option<&Expr>,
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
                filter,
            },
            &fp,
            order,
            page,
        )
        .await
    }
}
