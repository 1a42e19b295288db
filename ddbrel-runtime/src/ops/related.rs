//! Related resources with their data, of mixed types (SCHEMA.md §10 "Get many of any type",
//! "Ancestors with data", "Collections with data"): one BatchGetItem per 100 keys after the
//! read that names them, each resource an [`AnyStored`] to dispatch on by type.

use crate::error::Result;
use crate::records::any_resource::AnyStored;
use crate::records::attrs;
use crate::schema::attr;
use crate::urn::AnyUrn;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

impl Store {
    /// Resources of any types by URN, in the order given, `None` for a URN with no resource:
    /// one strongly consistent BatchGetItem per 100 distinct URNs.
    pub async fn get_many_any(&self, urns: &[AnyUrn]) -> Result<Vec<Option<AnyStored>>> {
        let span = op_span!(self, "get_many_any", ddbrel.urns = urns.len());
        traced(span, async {
            self.resources_in_order(urns.iter().map(AnyUrn::as_str))
                .await?
                .into_iter()
                .map(|item| item.map(AnyStored::from_item).transpose())
                .collect()
        })
        .await
    }

    /// The ancestors of a resource with their data, root first: 1 GetItem and 1 BatchGetItem
    /// (none for a root). An ancestor gone meanwhile (a cascade under way) is left out.
    pub async fn ancestors_with_data(&self, urn: &AnyUrn) -> Result<Vec<AnyStored>> {
        let span = op_span!(self, "ancestors_with_data", ddbrel.urn = %urn);
        traced(span, async {
            let ancestors = self.ancestors(urn).await?;
            self.existing(&ancestors).await
        })
        .await
    }

    /// The collections holding a resource, with their data, strongly consistent: 1 GetItem of
    /// the resource (its `_memberOf`) and 1 BatchGetItem per 100 collections (none when it is
    /// in none). Ordered by URN. A collection gone meanwhile is left out.
    pub async fn collections_with_data(&self, member: &AnyUrn) -> Result<Vec<AnyStored>> {
        let span = op_span!(self, "collections_with_data", ddbrel.urn = %member);
        traced(span, async {
            let item = self.get_projected(member, &[attr::MEMBER_OF]).await?;
            let mut collections = match item.get(attr::MEMBER_OF) {
                None => Vec::new(),
                Some(_) => attrs::get_urn_set(&item, attr::MEMBER_OF)?,
            };
            collections.sort();
            self.existing(&collections).await
        })
        .await
    }

    async fn existing(&self, urns: &[AnyUrn]) -> Result<Vec<AnyStored>> {
        if urns.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .get_many_any(urns)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }
}
