//! The authorization scope (SCHEMA.md §8, §10 "Authorization scope"): the resource, its
//! ancestors, the conveying collections holding any of them, and their ancestors; for one
//! resource or for a page of them.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::Item;
use crate::error::{Error, Result};
use crate::records::resource::{self, ResourceMeta};
use crate::urn::AnyUrn;
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced};

impl Store {
    /// Every URN whose grants apply to the resource: itself, its ancestors (cascading
    /// authorization), each collection holding it or one of its ancestors with
    /// `_conveysAuthorization = true`, and those collections' ancestors. In order: the
    /// resource, its ancestors from the parent up, then the collections, each followed by its
    /// own ancestors. At most 3 requests whatever the depth (GetItem, then BatchGetItem of the
    /// ancestors, then of the conveying collections), all strongly consistent.
    pub async fn authorization_scope(&self, urn: &AnyUrn) -> Result<Vec<AnyUrn>> {
        let span = op_span!(self, "authorization_scope", ddbrel.urn = %urn);
        traced(span, async {
            let Some(item) = self.get_item(urn.as_str(), urn.as_str()).await? else {
                return Err(Error::NotFound {
                    urn: urn.to_string(),
                });
            };
            let (_, _, meta) = resource::decode_meta(&item)?;
            let mut scopes = self.complete_scopes(vec![(urn.clone(), meta)]).await?;
            Ok(scopes.pop().unwrap_or_default())
        })
        .await
    }

    /// [`Store::authorization_scope`] of each of `urns` (a page of results, say), in the same
    /// order; `None` where no resource has the URN. Three rounds of strongly consistent
    /// BatchGetItem for the whole page, each one request per 100 distinct keys: the
    /// resources, then all their ancestors, then all the conveying collections.
    ///
    /// ```no_run
    /// # async fn f(store: &ddbrel_runtime::Store, page: Vec<ddbrel_runtime::AnyUrn>,
    /// #     granted: std::collections::HashSet<ddbrel_runtime::AnyUrn>) -> ddbrel_runtime::Result<()> {
    /// let scopes = store.authorization_scopes(&page).await?;
    /// let visible: Vec<_> = page
    ///     .iter()
    ///     .zip(&scopes)
    ///     .filter(|(_, scope)| scope.iter().flatten().any(|u| granted.contains(u)))
    ///     .map(|(urn, _)| urn)
    ///     .collect();
    /// # Ok(()) }
    /// ```
    pub async fn authorization_scopes(&self, urns: &[AnyUrn]) -> Result<Vec<Option<Vec<AnyUrn>>>> {
        let span = op_span!(self, "authorization_scopes", ddbrel.urns = urns.len());
        traced(span, async {
            let found = self.read_all(urns.iter()).await?;
            let mut known = Vec::new();
            for urn in urns {
                if let Some(item) = found.get(urn.as_str()) {
                    let (_, _, meta) = resource::decode_meta(item)?;
                    known.push((urn.clone(), meta));
                }
            }
            let mut scopes = self.complete_scopes(known).await?.into_iter();
            Ok(urns
                .iter()
                .map(|urn| {
                    found
                        .contains_key(urn.as_str())
                        .then(|| scopes.next().unwrap_or_default())
                })
                .collect())
        })
        .await
    }

    /// The resources `urns` (distinct, strongly consistent), by URN.
    async fn read_all<'u>(
        &self,
        urns: impl Iterator<Item = &'u AnyUrn>,
    ) -> Result<HashMap<String, Item>> {
        let keys: BTreeSet<&str> = urns.map(AnyUrn::as_str).collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = keys
            .into_iter()
            .map(|k| (k.to_string(), k.to_string()))
            .collect();
        Ok(self
            .batch_get(keys)
            .await?
            .into_iter()
            .map(|((pk, _), item)| (pk, item))
            .collect())
    }

    /// The scopes of resources read (in order): their ancestors' conveying collections, then
    /// the collections' ancestors, in two reads shared by all of them.
    async fn complete_scopes(
        &self,
        known: Vec<(AnyUrn, ResourceMeta)>,
    ) -> Result<Vec<Vec<AnyUrn>>> {
        let ancestors = self
            .read_all(known.iter().flat_map(|(_, m)| m.ancestors.iter()))
            .await?;
        let mut partial = Vec::with_capacity(known.len());
        for (urn, meta) in known {
            let mut scope = vec![urn];
            scope.extend(meta.ancestors.iter().rev().cloned());
            let mut collections: Vec<AnyUrn> = meta.conveying_collections.clone();
            for a in meta.ancestors.iter().rev() {
                if let Some(item) = ancestors.get(a.as_str()) {
                    let (_, _, m) = resource::decode_meta(item)?;
                    collections.extend(m.conveying_collections);
                }
            }
            let mut seen: HashSet<AnyUrn> = scope.iter().cloned().collect();
            collections.retain(|c| seen.insert(c.clone()));
            partial.push((scope, collections, seen));
        }
        let found = self
            .read_all(partial.iter().flat_map(|(_, c, _)| c.iter()))
            .await?;
        let mut out = Vec::with_capacity(partial.len());
        for (mut scope, collections, mut seen) in partial {
            for c in &collections {
                scope.push(c.clone());
                if let Some(item) = found.get(c.as_str()) {
                    let (_, _, m) = resource::decode_meta(item)?;
                    for a in m.ancestors.iter().rev() {
                        if seen.insert(a.clone()) {
                            scope.push(a.clone());
                        }
                    }
                }
            }
            out.push(scope);
        }
        Ok(out)
    }
}
