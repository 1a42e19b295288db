//! Reading a resource by URN (SCHEMA.md §10 "Get"): one strongly consistent GetItem.

use tracing::instrument;

use crate::Item;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::records::attrs::s;
use crate::records::resource::Stored;
use crate::schema::{PK, SK};
use crate::urn::Urn;
use crate::wire::store::Store;

impl Store {
    /// Reads a resource (one strongly consistent GetItem). [`Error::NotFound`] if absent.
    #[instrument(name = "ddbrel.get", skip_all, fields(urn = %urn))]
    pub async fn get<E: Entity>(&self, urn: &Urn<E>) -> Result<Stored<E>> {
        self.try_get(urn).await?.ok_or_else(|| Error::NotFound {
            urn: urn.to_string(),
        })
    }

    /// Reads a resource, `None` if absent.
    pub async fn try_get<E: Entity>(&self, urn: &Urn<E>) -> Result<Option<Stored<E>>> {
        match self.get_item(urn.as_str(), urn.as_str()).await? {
            None => Ok(None),
            Some(item) => Stored::from_item(item).map(Some),
        }
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
