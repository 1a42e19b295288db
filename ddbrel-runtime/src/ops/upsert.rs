//! Read-modify-write with retry, and get-or-create / upsert by unique value (SCHEMA.md §10
//! "Update with retry", "Get or create", "Upsert"): built from the read, create and update
//! operations, so they keep every condition those keep.

use std::fmt;

use crate::entity::{Entity, Root};
use crate::error::{Error, Result};
use crate::parent::ChildOf;
use crate::records::marker::markers_for;
use crate::records::resource::Stored;
use crate::urn::{AnyUrn, Urn};
use crate::wire::store::Store;
use crate::wire::telemetry::{op_span, traced, traced_inline};

/// Why [`Store::update_with`] did not update.
#[derive(Debug, thiserror::Error)]
pub enum UpdateWithError<X> {
    /// Reading or writing failed, or every attempt met a newer version
    /// ([`Error::Conflict`] of the last attempt).
    #[error(transparent)]
    Store(#[from] Error),
    /// The closure returned an error: nothing was written.
    #[error("the update was aborted: {0}")]
    Aborted(X),
}

impl<X: std::fmt::Display> crate::wire::telemetry::SpanError for UpdateWithError<X> {
    fn kind(&self) -> &'static str {
        match self {
            UpdateWithError::Store(e) => e.kind(),
            UpdateWithError::Aborted(_) => "Aborted",
        }
    }
}

/// What [`Store::get_or_create`] and its siblings came to.
#[derive(Debug, Clone)]
pub enum GetOrCreated<E> {
    /// No resource held the unique values: this one was created.
    Created(Stored<E>),
    /// A resource already held one of them (the one the create was refused on): here it is.
    Existing(Stored<E>),
}

impl<E> GetOrCreated<E> {
    /// The resource, created or found.
    pub fn into_stored(self) -> Stored<E> {
        match self {
            GetOrCreated::Created(s) | GetOrCreated::Existing(s) => s,
        }
    }

    /// The resource, created or found.
    pub fn stored(&self) -> &Stored<E> {
        match self {
            GetOrCreated::Created(s) | GetOrCreated::Existing(s) => s,
        }
    }

    /// Whether it was created by this call.
    pub fn was_created(&self) -> bool {
        matches!(self, GetOrCreated::Created(_))
    }
}

/// What [`Store::upsert`] and [`Store::upsert_child`] came to.
#[derive(Debug, Clone)]
pub enum Upserted<E> {
    /// No resource held the unique values: this one was created.
    Created(Stored<E>),
    /// The holder of the unique value was updated to the new data, at its new version.
    Updated(Stored<E>),
}

impl<E> Upserted<E> {
    /// The resource, created or updated.
    pub fn into_stored(self) -> Stored<E> {
        match self {
            Upserted::Created(s) | Upserted::Updated(s) => s,
        }
    }
}

impl Store {
    /// Reads the resource, applies `change` to its data and writes it conditioned on the
    /// version read ([`Store::update`]); when another writer got there first
    /// ([`Error::Conflict`]), reads again and re-applies `change`, up to the store's retry
    /// policy's attempts with its backoff between them. `change` may run more than once, on
    /// each version read, and aborts the update by returning an error. Costs per attempt: one
    /// GetItem and the update's request.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, ddbrel_runtime::Entity)]
    /// # #[urn(type = "Docs.Account")]
    /// # pub struct Account { name: String }
    /// # async fn f(store: &ddbrel_runtime::Store, urn: &ddbrel_runtime::urn::Urn<Account>) {
    /// use ddbrel_runtime::UpdateWithError;
    /// let renamed = store
    ///     .update_with(urn, |account| {
    ///         if account.name.is_empty() {
    ///             return Err("no name to extend");
    ///         }
    ///         account.name.push_str(" (archived)");
    ///         Ok(())
    ///     })
    ///     .await;
    /// match renamed {
    ///     Ok(stored) => println!("now at version {}", stored.meta.version),
    ///     Err(UpdateWithError::Aborted(why)) => println!("left alone: {why}"),
    ///     Err(UpdateWithError::Store(e)) => println!("failed: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn update_with<E, F, X>(
        &self,
        urn: &Urn<E>,
        mut change: F,
    ) -> std::result::Result<Stored<E>, UpdateWithError<X>>
    where
        E: Entity + Clone,
        F: FnMut(&mut E) -> std::result::Result<(), X>,
        X: fmt::Display + fmt::Debug,
    {
        let span = op_span!(self, "update_with", ddbrel.urn = %urn);
        traced_inline(span, async {
            let policy = self.retry_policy();
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let mut stored = self.get(urn).await?;
                change(&mut stored.data).map_err(UpdateWithError::Aborted)?;
                match self.update(&stored).await {
                    Err(Error::Conflict {
                        current: Some(_), ..
                    }) if attempt < policy.max_attempts => {
                        tracing::debug!(attempt, "update_with met a newer version; reading again");
                        tokio::time::sleep(policy.backoff(attempt)).await;
                    }
                    other => return other.map_err(UpdateWithError::Store),
                }
            }
        })
        .await
    }

    /// Creates the root resource unless a resource already holds one of its unique values, in
    /// which case that resource is returned instead (as it is now; `data` is dropped).
    /// Race-free: of any number of concurrent callers with the same unique value, exactly one
    /// creates and all get that resource. One request when the value is free; when it is held,
    /// the refused create and a GetItem of the holder (and, if DynamoDB did not return the
    /// holder, a GetItem of the marker). For an entity without unique constraints this is
    /// [`Store::create`].
    pub async fn get_or_create<E: Root + Clone>(&self, data: E) -> Result<GetOrCreated<E>> {
        let span = op_span!(self, "get_or_create");
        traced(span, async {
            let account_of = |urn: &Urn<E>| E::ACCOUNT_SCOPED.then(|| urn.as_any().clone());
            self.get_or_insert(data, None, account_of, |data| self.create(data))
                .await
        })
        .await
    }

    /// [`Store::get_or_create`] for a child of `parent`.
    pub async fn get_or_create_child<E: ChildOf<P> + Clone, P: Entity>(
        &self,
        parent: &Stored<P>,
        data: E,
    ) -> Result<GetOrCreated<E>> {
        let span = op_span!(self, "get_or_create_child", ddbrel.parent = %parent.urn);
        traced(span, async {
            let account = E::ACCOUNT_SCOPED.then(|| {
                parent
                    .meta
                    .account
                    .clone()
                    .unwrap_or_else(|| parent.urn.as_any().clone())
            });
            self.get_or_insert(
                data,
                Some(parent.urn.as_any().clone()),
                |_| account.clone(),
                |data| self.create_child(parent, data),
            )
            .await
        })
        .await
    }

    /// Creates the root resource, or, when a resource already holds one of its unique values,
    /// writes `data` over that resource ([`Store::update`], conditioned on the version read,
    /// re-read and retried on a conflict as [`Store::update_with`] does). Race-free as
    /// [`Store::get_or_create`]; the update may itself be refused with
    /// [`Error::UniqueViolation`] when `data` holds another value that a third resource holds.
    pub async fn upsert<E: Root + Clone>(&self, data: E) -> Result<Upserted<E>> {
        let span = op_span!(self, "upsert");
        traced(span, async {
            match self.get_or_create(data.clone()).await? {
                GetOrCreated::Created(s) => Ok(Upserted::Created(s)),
                GetOrCreated::Existing(s) => self.overwrite(&s.urn, data).await,
            }
        })
        .await
    }

    /// [`Store::upsert`] for a child of `parent`.
    pub async fn upsert_child<E: ChildOf<P> + Clone, P: Entity>(
        &self,
        parent: &Stored<P>,
        data: E,
    ) -> Result<Upserted<E>> {
        let span = op_span!(self, "upsert_child", ddbrel.parent = %parent.urn);
        traced(span, async {
            match self.get_or_create_child(parent, data.clone()).await? {
                GetOrCreated::Created(s) => Ok(Upserted::Created(s)),
                GetOrCreated::Existing(s) => self.overwrite(&s.urn, data).await,
            }
        })
        .await
    }

    /// Writes `data` over the resource at `urn`, retried on conflicts.
    async fn overwrite<E: Entity + Clone>(&self, urn: &Urn<E>, data: E) -> Result<Upserted<E>> {
        let written = self
            .update_with(urn, |current| {
                *current = data.clone();
                Ok::<(), std::convert::Infallible>(())
            })
            .await;
        match written {
            Ok(s) => Ok(Upserted::Updated(s)),
            Err(UpdateWithError::Store(e)) => Err(e),
            Err(UpdateWithError::Aborted(never)) => match never {},
        }
    }

    /// The loop of get-or-create: create; on a unique violation, read the holder and return
    /// it; when the create was contended (the racing callers' transactions kept meeting on the
    /// marker), read the markers and return their holder. A holder not found (it is being
    /// created and not yet visible, or was deleted meanwhile) sends the loop round again,
    /// within the retry policy's attempts.
    async fn get_or_insert<E, A, C, Fut>(
        &self,
        data: E,
        parent: Option<AnyUrn>,
        account_of: A,
        create: C,
    ) -> Result<GetOrCreated<E>>
    where
        E: Entity + Clone,
        A: Fn(&Urn<E>) -> Option<AnyUrn>,
        C: Fn(E) -> Fut,
        Fut: std::future::Future<Output = Result<Stored<E>>>,
    {
        let policy = self.retry_policy();
        let mut attempt = 0u32;
        let markers = || {
            let probe: Urn<E> = Urn::new();
            markers_for(&data, account_of(&probe).as_ref(), parent.as_ref())
        };
        loop {
            attempt += 1;
            let holder = match create(data.clone()).await {
                Ok(s) => return Ok(GetOrCreated::Created(s)),
                Err(Error::UniqueViolation {
                    holder: Some(h), ..
                }) => Some(h),
                // DynamoDB did not return the marker as it was: read it.
                Err(Error::UniqueViolation { constraint, .. }) => {
                    match markers()?.iter().find(|m| m.constraint == constraint) {
                        Some(m) => self.marker_owner(&m.key).await?,
                        None => None,
                    }
                }
                // The create kept meeting other transactions on its items (the callers
                // racing for the value): whoever won holds a marker by now, and reads never
                // conflict. Nothing of this create was applied.
                Err(Error::Contended { .. }) => {
                    let mut owner = None;
                    for m in markers()? {
                        owner = self.marker_owner(&m.key).await?;
                        if owner.is_some() {
                            break;
                        }
                    }
                    owner
                }
                Err(e) => return Err(e),
            };
            if let Some(holder) = &holder {
                let urn: Urn<E> = Urn::parse(holder)?;
                if let Some(existing) = self.try_get(&urn).await? {
                    return Ok(GetOrCreated::Existing(existing));
                }
            }
            if attempt >= policy.max_attempts {
                return Err(Error::ChangedMeanwhile {
                    urn: holder.unwrap_or_else(|| E::RESOURCE_TYPE.to_string()),
                    what: format!(
                        "get-or-create found no readable holder of its unique values in {attempt} attempts"
                    ),
                });
            }
            tracing::debug!(attempt, "the holder of the unique value is not visible yet");
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }

    /// The owner URN a uniqueness marker names, `None` when there is no marker.
    async fn marker_owner(&self, key: &str) -> Result<Option<String>> {
        match self.get_item(key, key).await? {
            None => Ok(None),
            Some(marker) => Ok(Some(
                crate::records::attrs::get_urn(&marker, crate::schema::attr::OWNER_URN)?
                    .to_string(),
            )),
        }
    }
}
