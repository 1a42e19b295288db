//! The engine side: the handles the test holds and running a plan on the store.

use ddbrel_runtime::{AnyUrn, DeleteReport, Entity, Error, Store, Stored};
use entities::{Account, Job, JobCollection, Label, Team, User};

use crate::plan::{Outcome, Step, deleted};
use crate::values::Data;

/// The copy of each resource the test last got back from the store (create, update or read);
/// as a caller would, the test passes it to later operations, stale bookkeeping and all.
#[derive(Debug, Clone)]
pub(crate) enum Handle {
    Account(Stored<Account>),
    User(Stored<User>),
    JobCollection(Stored<JobCollection>),
    Job(Stored<Job>),
    Team(Stored<Team>),
    Label(Stored<Label>),
}

/// Runs `$body` with `$s` bound to the handle's `Stored<_>` and `$wrap` to the variant's
/// constructor.
macro_rules! on_handle {
    ($h:expr, |$s:ident, $wrap:ident| $body:expr) => {
        match $h {
            Handle::Account($s) => {
                let $wrap = Handle::Account;
                $body
            }
            Handle::User($s) => {
                let $wrap = Handle::User;
                $body
            }
            Handle::JobCollection($s) => {
                let $wrap = Handle::JobCollection;
                $body
            }
            Handle::Job($s) => {
                let $wrap = Handle::Job;
                $body
            }
            Handle::Team($s) => {
                let $wrap = Handle::Team;
                $body
            }
            Handle::Label($s) => {
                let $wrap = Handle::Label;
                $body
            }
        }
    };
}

impl Handle {
    pub(crate) fn urn(&self) -> &AnyUrn {
        on_handle!(self, |s, _w| s.urn.as_any())
    }
}

pub(crate) async fn update_one<E: Entity + Clone>(
    store: &Store,
    cached: &Stored<E>,
    data: E,
    fresh: bool,
) -> Result<Stored<E>, Error> {
    let mut s = if fresh {
        store.get(&cached.urn).await?
    } else {
        cached.clone()
    };
    s.data = data;
    store.update(&s).await
}

pub(crate) async fn delete_one<E: Entity>(
    store: &Store,
    cached: &Stored<E>,
    fresh: bool,
) -> Result<DeleteReport, Error> {
    if fresh {
        let s = store.get(&cached.urn).await?;
        store.delete(&s).await
    } else {
        store.delete(cached).await
    }
}

/// Runs a plan on the store; returns the outcome and the new or changed handle.
pub(crate) async fn execute(
    store: &Store,
    handles: &[Handle],
    plan: &Step,
) -> (Outcome, Option<Handle>) {
    let res: Result<(Outcome, Option<Handle>), Error> = async {
        Ok(match plan {
            Step::Create { parent, data, .. } => {
                let parent = parent.map(|p| &handles[p]);
                let h = match (parent, data.clone()) {
                    (None, Data::Account(d)) => Handle::Account(store.create(d).await?),
                    (Some(Handle::Account(p)), Data::User(d)) => {
                        Handle::User(store.create_child(p, d).await?)
                    }
                    (Some(Handle::Account(p)), Data::JobCollection(d)) => {
                        Handle::JobCollection(store.create_child(p, d).await?)
                    }
                    (Some(Handle::Account(p)), Data::Team(d)) => {
                        Handle::Team(store.create_child(p, d).await?)
                    }
                    (Some(Handle::Account(p)), Data::Label(d)) => {
                        Handle::Label(store.create_child(p, d).await?)
                    }
                    (Some(Handle::JobCollection(p)), Data::Job(d)) => {
                        Handle::Job(store.create_child(p, d).await?)
                    }
                    other => unreachable!("no such create: {other:?}"),
                };
                (Outcome::Created, Some(h))
            }
            Step::Update {
                target,
                data,
                fresh,
                ..
            } => {
                let h = match (&handles[*target], data.clone()) {
                    (Handle::Account(s), Data::Account(d)) => {
                        Handle::Account(update_one(store, s, d, *fresh).await?)
                    }
                    (Handle::User(s), Data::User(d)) => {
                        Handle::User(update_one(store, s, d, *fresh).await?)
                    }
                    (Handle::JobCollection(s), Data::JobCollection(d)) => {
                        Handle::JobCollection(update_one(store, s, d, *fresh).await?)
                    }
                    (Handle::Job(s), Data::Job(d)) => {
                        Handle::Job(update_one(store, s, d, *fresh).await?)
                    }
                    (Handle::Team(s), Data::Team(d)) => {
                        Handle::Team(update_one(store, s, d, *fresh).await?)
                    }
                    (Handle::Label(s), Data::Label(d)) => {
                        Handle::Label(update_one(store, s, d, *fresh).await?)
                    }
                    other => unreachable!("no such update: {other:?}"),
                };
                (Outcome::Updated, Some(h))
            }
            Step::Delete { target, fresh } => {
                let report = on_handle!(&handles[*target], |s, _w| delete_one(store, s, *fresh)
                    .await?);
                (deleted(&report), None)
            }
            Step::Read { target } => {
                let h = on_handle!(&handles[*target], |s, wrap| wrap(store.get(&s.urn).await?));
                (Outcome::Read, Some(h))
            }
            Step::AddMember {
                collection,
                member,
                conveys,
            } => {
                let m = match (&handles[*collection], &handles[*member], conveys) {
                    (Handle::Label(c), Handle::Job(m), None) => store.add_member(c, m).await?,
                    (Handle::Label(c), Handle::Job(m), Some(v)) => {
                        store.add_member_with(c, m, *v).await?
                    }
                    (Handle::Team(c), Handle::User(m), None) => store.add_member(c, m).await?,
                    (Handle::Team(c), Handle::User(m), Some(v)) => {
                        store.add_member_with(c, m, *v).await?
                    }
                    other => unreachable!("no such membership: {other:?}"),
                };
                (
                    Outcome::Added {
                        collection: m.collection.to_string(),
                        member: m.member.to_string(),
                        conveys: m.conveys_authorization,
                    },
                    None,
                )
            }
            Step::RemoveMember { collection, member } => {
                let was = match (&handles[*collection], &handles[*member]) {
                    (Handle::Label(c), Handle::Job(m)) => {
                        store.remove_member(&c.urn, &m.urn).await?
                    }
                    (Handle::Team(c), Handle::User(m)) => {
                        store.remove_member(&c.urn, &m.urn).await?
                    }
                    other => unreachable!("no such membership: {other:?}"),
                };
                (Outcome::Removed(was), None)
            }
        })
    }
    .await;
    match res {
        Ok(r) => r,
        Err(e) => (Outcome::from(e), None),
    }
}
