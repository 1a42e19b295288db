//! Operations resolved against the model, and what the model predicts they return.

use std::collections::BTreeMap;

use ddbrel_runtime::{DeleteReport, Error};

use crate::ops::{Op, Target};
use crate::state::{MRes, Model};
use crate::values::{ALL, Data, Kind, POOL};

/// The index in an `Ok`; returns the step in an `Err` (what to do instead) from the caller.
macro_rules! need {
    ($e:expr) => {
        match $e {
            Ok(i) => i,
            Err(instead) => return instead,
        }
    };
}

/// An operation with its targets resolved against the model.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Create {
        kind: Kind,
        parent: Option<usize>,
        data: Data,
        unique: Option<u8>,
    },
    Update {
        target: usize,
        data: Data,
        unique: Option<u8>,
        fresh: bool,
    },
    Delete {
        target: usize,
        fresh: bool,
    },
    Read {
        target: usize,
    },
    AddMember {
        collection: usize,
        member: usize,
        conveys: Option<bool>,
    },
    RemoveMember {
        collection: usize,
        member: usize,
    },
}

/// What an operation returned, in a form both sides produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Updated,
    Deleted {
        resources: BTreeMap<String, usize>,
        parent_child: usize,
        memberships: usize,
        markers: usize,
    },
    Added {
        collection: String,
        member: String,
        conveys: bool,
    },
    Removed(bool),
    Read,
    UniqueViolation {
        resource_type: String,
        constraint: String,
        value: String,
        holder: Option<String>,
    },
    ParentMissing(String),
    NotFound(String),
    RelatedMissing(String),
    /// Any other error: never predicted.
    Other(String),
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Outcome {
        match e {
            Error::UniqueViolation {
                resource_type,
                constraint,
                value,
                holder,
                ..
            } => Outcome::UniqueViolation {
                resource_type,
                constraint,
                value,
                holder,
            },
            Error::ParentMissing { parent } => Outcome::ParentMissing(parent),
            Error::NotFound { urn } => Outcome::NotFound(urn),
            Error::RelatedMissing { urn } => Outcome::RelatedMissing(urn),
            e => Outcome::Other(format!("{e:?}")),
        }
    }
}

pub(crate) fn deleted(r: &DeleteReport) -> Outcome {
    Outcome::Deleted {
        resources: r.resources.clone(),
        parent_child: r.parent_child,
        memberships: r.memberships,
        markers: r.markers,
    }
}

impl Model {
    /// A resource of one of `kinds` picked by `t`; when there is none, the step to take
    /// instead: creating one of `kinds[0]`.
    pub(crate) fn need(&self, t: &Target, kinds: &[Kind], step: usize) -> Result<usize, Step> {
        self.pick(t, kinds)
            .ok_or_else(|| self.create_missing(kinds[0], t, step))
    }

    /// Creates a resource of `kind` under a live parent picked by `t`, or, when there is no
    /// live parent, creates the parent first.
    pub(crate) fn create_missing(&self, kind: Kind, t: &Target, step: usize) -> Step {
        let v = (step % POOL.len()) as u8;
        let parent = match kind.parent() {
            None => None,
            Some(pk) => match self.pick(
                &Target {
                    idx: t.idx,
                    dead: false,
                },
                &[pk],
            ) {
                Some(p) => Some(p),
                None => return self.create_missing(pk, t, step),
            },
        };
        Step::Create {
            kind,
            parent,
            data: Data::new(kind, step, v),
            unique: kind.unique().map(|_| v),
        }
    }

    /// Resolves an operation against the model. When its targets do not exist, the step
    /// creates what is missing instead, so that no operation is wasted.
    pub(crate) fn step(&self, op: &Op, step: usize) -> Step {
        match op {
            Op::CreateAccount { slug } => Step::Create {
                kind: Kind::Account,
                parent: None,
                data: Data::new(Kind::Account, step, *slug),
                unique: Some(*slug),
            },
            Op::CreateChild {
                kind,
                parent,
                value,
            } => {
                let parent_kind = kind.parent().expect("a child type");
                let p = need!(self.need(parent, &[parent_kind], step));
                Step::Create {
                    kind: *kind,
                    parent: Some(p),
                    data: Data::new(*kind, step, *value),
                    unique: kind.unique().map(|_| *value),
                }
            }
            Op::Update {
                target,
                unique,
                value,
                field,
                fresh,
            } => {
                let t = need!(self.need(target, &ALL, step));
                let r = &self.res[t];
                let (data, unique_value) = if *unique && r.unique.is_some() {
                    (r.data.with_unique(*value), Some(*value))
                } else {
                    (r.data.with_change(*field, step), r.unique)
                };
                Step::Update {
                    target: t,
                    data,
                    unique: unique_value,
                    fresh: *fresh,
                }
            }
            Op::Delete { target, fresh } => Step::Delete {
                target: need!(self.need(target, &ALL, step)),
                fresh: *fresh,
            },
            Op::Read { target } => Step::Read {
                target: need!(self.need(target, &ALL, step)),
            },
            Op::AddMember {
                team,
                collection,
                member,
                conveys,
            } => {
                let (ck, mk) = kinds(*team);
                Step::AddMember {
                    collection: need!(self.need(collection, &[ck], step)),
                    member: need!(self.need(member, &[mk], step)),
                    conveys: *conveys,
                }
            }
            Op::RemoveMember {
                team,
                existing,
                collection,
                member,
            } => {
                let (ck, mk) = kinds(*team);
                let current: Vec<(usize, usize)> = self
                    .members
                    .keys()
                    .filter(|(c, _)| self.res[*c].kind == ck)
                    .copied()
                    .collect();
                if *existing && !current.is_empty() {
                    let (c, m) = current[collection.idx % current.len()];
                    return Step::RemoveMember {
                        collection: c,
                        member: m,
                    };
                }
                Step::RemoveMember {
                    collection: need!(self.need(collection, &[ck], step)),
                    member: need!(self.need(member, &[mk], step)),
                }
            }
        }
    }

    pub(crate) fn predict(&self, plan: &Step) -> Outcome {
        match plan {
            Step::Create {
                kind,
                parent,
                unique,
                ..
            } => {
                if let Some(p) = parent
                    && !self.res[*p].alive
                {
                    return Outcome::ParentMissing(self.res[*p].urn.clone());
                }
                match unique {
                    Some(v) => self.violation(*kind, *parent, *v, None),
                    None => Outcome::Created,
                }
            }
            Step::Update { target, unique, .. } => {
                let r = &self.res[*target];
                if !r.alive {
                    return Outcome::NotFound(r.urn.clone());
                }
                match unique {
                    Some(v) => match self.violation(r.kind, r.parent, *v, Some(*target)) {
                        Outcome::Created => Outcome::Updated,
                        other => other,
                    },
                    None => Outcome::Updated,
                }
            }
            Step::Delete { target, .. } => {
                let r = &self.res[*target];
                if !r.alive {
                    return Outcome::NotFound(r.urn.clone());
                }
                let sub = self.subtree(*target);
                let mut resources = BTreeMap::new();
                for &i in &sub {
                    *resources
                        .entry(self.res[i].kind.resource_type().to_string())
                        .or_insert(0) += 1;
                }
                Outcome::Deleted {
                    resources,
                    parent_child: sub
                        .iter()
                        .filter(|&&i| self.res[i].parent.is_some())
                        .count(),
                    memberships: self
                        .members
                        .keys()
                        .filter(|(c, m)| sub.contains(c) || sub.contains(m))
                        .count(),
                    markers: sub
                        .iter()
                        .filter(|&&i| self.res[i].unique.is_some())
                        .count(),
                }
            }
            Step::Read { target } => {
                let r = &self.res[*target];
                if r.alive {
                    Outcome::Read
                } else {
                    Outcome::NotFound(r.urn.clone())
                }
            }
            Step::AddMember {
                collection,
                member,
                conveys,
            } => {
                let (c, m) = (&self.res[*collection], &self.res[*member]);
                if !c.alive {
                    return Outcome::RelatedMissing(c.urn.clone());
                }
                if !m.alive {
                    return Outcome::RelatedMissing(m.urn.clone());
                }
                Outcome::Added {
                    collection: c.urn.clone(),
                    member: m.urn.clone(),
                    conveys: conveys.unwrap_or(c.kind == Kind::Team),
                }
            }
            Step::RemoveMember { collection, member } => {
                Outcome::Removed(self.members.contains_key(&(*collection, *member)))
            }
        }
    }

    /// Applies a plan whose outcome was as predicted.
    pub(crate) fn apply(&mut self, plan: Step, outcome: &Outcome, created: Option<String>) {
        match (plan, outcome) {
            (
                Step::Create {
                    kind,
                    parent,
                    data,
                    unique,
                },
                Outcome::Created,
            ) => self.res.push(MRes {
                kind,
                urn: created.expect("the new URN"),
                parent,
                alive: true,
                data,
                version: 1,
                unique,
            }),
            (
                Step::Update {
                    target,
                    data,
                    unique,
                    ..
                },
                Outcome::Updated,
            ) => {
                let r = &mut self.res[target];
                r.data = data;
                r.unique = unique;
                r.version += 1;
            }
            (Step::Delete { target, .. }, Outcome::Deleted { .. }) => {
                let sub = self.subtree(target);
                for &i in &sub {
                    self.res[i].alive = false;
                }
                self.members
                    .retain(|(c, m), _| !sub.contains(c) && !sub.contains(m));
            }
            (
                Step::AddMember {
                    collection, member, ..
                },
                Outcome::Added { conveys, .. },
            ) => {
                self.members.insert((collection, member), *conveys);
            }
            (Step::RemoveMember { collection, member }, Outcome::Removed(_)) => {
                self.members.remove(&(collection, member));
            }
            _ => {}
        }
    }
}

pub(crate) fn kinds(team: bool) -> (Kind, Kind) {
    if team {
        (Kind::Team, Kind::User)
    } else {
        (Kind::Label, Kind::Job)
    }
}
