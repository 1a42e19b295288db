//! Reading resources by URN (SCHEMA.md §10 "Get", "Get many"): one strongly consistent
//! GetItem, or one BatchGetItem per 100 distinct URNs.

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::attrs::s;
use crate::records::resource::Stored;
use crate::schema::{PK, SK};
use crate::urn::Urn;
use crate::wire::filter::Filter;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

impl Store {
    /// Reads a resource (one strongly consistent GetItem). [`Error::NotFound`] if absent.
    pub async fn get<E: Entity>(&self, urn: &Urn<E>) -> Result<Stored<E>> {
        let span = op_span!(self, "get", ddbrel.urn = %urn);
        traced(span, async {
            self.try_get(urn).await?.ok_or_else(|| Error::NotFound {
                urn: urn.to_string(),
            })
        })
        .await
    }

    /// Reads a resource, `None` if absent.
    pub async fn try_get<E: Entity>(&self, urn: &Urn<E>) -> Result<Option<Stored<E>>> {
        let span = op_span!(self, "try_get", ddbrel.urn = %urn);
        traced(span, async {
            match self.get_item(urn.as_str(), urn.as_str()).await? {
                None => Ok(None),
                Some(item) => Stored::from_item(item).map(Some),
            }
        })
        .await
    }

    /// Reads many resources of one type by URN: strongly consistent BatchGetItem requests,
    /// one per 100 distinct URNs (unprocessed keys retried). The result is in the order of
    /// `urns`, one entry each (a URN given twice is read once and reported twice), `None`
    /// where no resource has the URN.
    ///
    /// ```no_run
    /// # use ddbrel_runtime::{Entity, Store, Urn};
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Entity)]
    /// # #[urn(type = "Docs.Doc")]
    /// # pub struct Doc { title: String }
    /// # async fn f(store: &Store, urns: Vec<Urn<Doc>>) -> ddbrel_runtime::Result<()> {
    /// let docs = store.get_many(&urns).await?;
    /// for (urn, doc) in urns.iter().zip(&docs) {
    ///     match doc {
    ///         Some(doc) => println!("{urn}: {}", doc.data.title),
    ///         None => println!("{urn}: not found"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A request's error, or [`Error::InvalidItem`] naming the item that does not decode.
    pub async fn get_many<E: Entity>(&self, urns: &[Urn<E>]) -> Result<Vec<Option<Stored<E>>>> {
        let span = op_span!(self, "get_many", ddbrel.urns = urns.len());
        traced(span, async {
            self.resources_in_order(urns.iter().map(Urn::as_str))
                .await?
                .into_iter()
                .map(|item| item.map(Stored::from_item).transpose())
                .collect()
        })
        .await
    }

    /// The Resource items of these URNs, in the order given, `None` for a URN with no item:
    /// one BatchGetItem per 100 distinct URNs (a URN given twice is read once).
    pub(crate) async fn resources_in_order<'a>(
        &self,
        urns: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<Vec<Option<Item>>> {
        let key = |u: &str| (u.to_string(), u.to_string());
        let items = self.batch_get(urns.clone().map(key).collect()).await?;
        Ok(urns.map(|u| items.get(&key(u)).cloned()).collect())
    }

    /// The resources of these URNs that exist and satisfy `filter`, in the order given: the
    /// reads of [`Store::resources_in_order`], the filter tested on each item as stored.
    pub(crate) async fn resources_where<'a, E: Entity>(
        &self,
        urns: impl Iterator<Item = &'a str> + Clone,
        filter: &Filter<E>,
    ) -> Result<Vec<Stored<E>>> {
        // A value that did not encode is reported before anything is read.
        filter.expression()?;
        let mut out = Vec::new();
        for item in self.resources_in_order(urns).await?.into_iter().flatten() {
            if filter.matches(&item)? {
                out.push(Stored::from_item(item)?);
            }
        }
        Ok(out)
    }

    /// Reads one raw item by key (strongly consistent).
    pub async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.map_sdk_error("GetItem", e))?;
        Ok(out.item)
    }
}
