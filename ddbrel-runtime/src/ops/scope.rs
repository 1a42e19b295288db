//! The authorization scope (SCHEMA.md §8, §10 "Authorization scope"): the resource, its
//! ancestors, the conveying collections holding any of them, and their ancestors.

use std::collections::HashSet;

use tracing::instrument;

use crate::error::{Error, Result};
use crate::records::resource;
use crate::urn::AnyUrn;
use crate::wire::store::Store;

impl Store {
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
        let (_, _, meta) = resource::decode_meta(&item)?;
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
                    let (_, _, m) = resource::decode_meta(item)?;
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
                    let (_, _, m) = resource::decode_meta(item)?;
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
}
