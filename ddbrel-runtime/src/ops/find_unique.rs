//! Lookup by unique value (SCHEMA.md §10 "Find by unique value"): the marker, then its owner;
//! two strongly consistent GetItems.

use crate::entity::UniqueScope;
use crate::error::{Error, Result};
use crate::records::marker::marker_key_of;
use crate::records::type_schema::TypeSchema;
use crate::urn::AnyUrn;
use crate::wire::telemetry::{op_span, traced};

impl crate::Store {
    /// Looks a resource up by the value of one of its unique constraints: two strongly
    /// consistent reads (the marker, then its owner). `scope` is the account URN for
    /// `scope = account` constraints and the parent URN for `scope = parent`; `parts` are the
    /// raw values (one per field of the constraint), normalized here as on write.
    ///
    /// The generated `find_by_<constraint>` functions call this.
    pub async fn find_unique<E: crate::Entity>(
        &self,
        constraint: &str,
        scope: Option<&AnyUrn>,
        parts: Vec<String>,
    ) -> Result<Option<crate::Stored<E>>> {
        let span = op_span!(
            self,
            "find_unique",
            ddbrel.resource_type = E::RESOURCE_TYPE,
            ddbrel.constraint = constraint
        );
        traced(span, async {
            match self
                .find_unique_item(&E::descriptor().into(), constraint, scope, parts)
                .await?
            {
                None => Ok(None),
                Some(item) => crate::Stored::from_item(item).map(Some),
            }
        })
        .await
    }

    /// [`Store::find_unique`](crate::Store::find_unique) for a type known only by its declaration (compiled in, or read
    /// from the type registry with [`Store::registered_types`](crate::Store::registered_types)): returns the owner's raw item.
    pub async fn find_unique_item(
        &self,
        descriptor: &TypeSchema,
        constraint: &str,
        scope: Option<&AnyUrn>,
        parts: Vec<String>,
    ) -> Result<Option<crate::Item>> {
        let span = op_span!(self, "find_unique_item");
        traced(span, async {
            let rt = descriptor.resource_type.as_str();
            let c = descriptor
                .constraint(constraint)
                .ok_or_else(|| Error::InvalidArgument {
                    what: format!("lookup on {rt}"),
                    reason: format!(
                        "{rt} has no unique constraint {constraint:?} (it has: {})",
                        descriptor
                            .unique
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?;
            if parts.len() != c.fields.len() {
                return Err(Error::InvalidArgument {
                    what: format!("lookup on {rt}.{constraint}"),
                    reason: format!("expected {} values, got {}", c.fields.len(), parts.len()),
                });
            }
            let scope_text = match c.scope {
                UniqueScope::Global => "global",
                _ => scope
                    .ok_or_else(|| Error::InvalidArgument {
                        what: format!("lookup on {rt}.{constraint}"),
                        reason: format!("scope {} needs the scoping URN", c.scope.as_str()),
                    })?
                    .as_str(),
            };
            let key = marker_key_of(rt, &c.name, c.case_insensitive, scope_text, &parts)?;
            let Some(marker) = self.get_item(&key, &key).await? else {
                return Ok(None);
            };
            let owner = crate::records::attrs::get_urn(&marker, crate::schema::attr::OWNER_URN)?;
            if owner.resource_type() != rt {
                return Err(Error::invalid_item(
                    &key,
                    format!("marker owner {owner} is not a {rt}"),
                ));
            }
            match self.get_item(owner.as_str(), owner.as_str()).await? {
                Some(item)
                    if crate::records::attrs::get_ss(&item, crate::schema::attr::UNIQUE_KEYS)?
                        .contains(&key) =>
                {
                    Ok(Some(item))
                }
                _ => {
                    tracing::warn!(marker = %key, owner = %owner, "dangling uniqueness marker");
                    Ok(None)
                }
            }
        })
        .await
    }
}
