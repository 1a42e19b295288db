//! The model: what SCHEMA.md says the table holds after the operations so far.

use std::collections::{BTreeMap, BTreeSet};

use ddbrel_tests::records::marker_key;

use crate::ops::Target;
use crate::plan::{Outcome, Step};
use crate::values::{ALL, CASE_INSENSITIVE, CASE_SENSITIVE, Data, EMAIL_DOMAIN, Kind};

#[derive(Debug, Clone)]
pub(crate) struct MRes {
    pub(crate) kind: Kind,
    pub(crate) urn: String,
    pub(crate) parent: Option<usize>,
    pub(crate) alive: bool,
    pub(crate) data: Data,
    pub(crate) version: u64,
    /// Pool index of the unique field's value, for the types that have one.
    pub(crate) unique: Option<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    /// Every resource ever created, in creation order (deleted ones stay, marked dead).
    pub(crate) res: Vec<MRes>,
    /// (collection, member) -> conveys authorization.
    pub(crate) members: BTreeMap<(usize, usize), bool>,
}

impl Model {
    pub(crate) fn live(&self, kinds: &[Kind]) -> Vec<usize> {
        (0..self.res.len())
            .filter(|&i| self.res[i].alive && kinds.contains(&self.res[i].kind))
            .collect()
    }

    pub(crate) fn dead(&self, kinds: &[Kind]) -> Vec<usize> {
        (0..self.res.len())
            .filter(|&i| !self.res[i].alive && kinds.contains(&self.res[i].kind))
            .collect()
    }

    pub(crate) fn pick(&self, t: &Target, kinds: &[Kind]) -> Option<usize> {
        let dead = self.dead(kinds);
        let from = if t.dead && !dead.is_empty() {
            dead
        } else {
            self.live(kinds)
        };
        (!from.is_empty()).then(|| from[t.idx % from.len()])
    }

    /// Root first, parent last.
    pub(crate) fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = self.res[i].parent;
        while let Some(p) = cur {
            out.push(p);
            cur = self.res[p].parent;
        }
        out.reverse();
        out
    }

    /// Resource `i` and everything live beneath it.
    pub(crate) fn subtree(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut k = 0;
        while k < out.len() {
            let p = out[k];
            out.extend(
                (0..self.res.len()).filter(|&c| self.res[c].alive && self.res[c].parent == Some(p)),
            );
            k += 1;
        }
        out
    }

    pub(crate) fn children(&self, i: usize, kind: Kind) -> Vec<usize> {
        (0..self.res.len())
            .filter(|&c| {
                self.res[c].alive && self.res[c].parent == Some(i) && self.res[c].kind == kind
            })
            .collect()
    }

    /// The marker key a resource of `kind` under `parent` holding pool value `v` needs, and
    /// the encoded value (as SCHEMA.md section 6 builds them).
    pub(crate) fn marker(
        &self,
        kind: Kind,
        parent: Option<usize>,
        v: u8,
    ) -> Option<(String, String)> {
        let (constraint, ci) = kind.unique()?;
        let table = if ci {
            &CASE_INSENSITIVE
        } else {
            &CASE_SENSITIVE
        };
        let mut value = table[usize::from(v)].to_string();
        if kind == Kind::User {
            value.push_str(EMAIL_DOMAIN);
        }
        // Account: global. User: its account (the parent). JobCollection: its parent.
        let scope = match parent {
            None => "global".to_string(),
            Some(p) => self.res[p].urn.clone(),
        };
        let key = marker_key(kind.resource_type(), constraint, &scope, &value);
        Some((key, value))
    }

    pub(crate) fn marker_of(&self, i: usize) -> Option<String> {
        let r = &self.res[i];
        self.marker(r.kind, r.parent, r.unique?).map(|(k, _)| k)
    }

    /// The live resource other than `me` that holds `key`.
    pub(crate) fn holder(&self, key: &str, me: Option<usize>) -> Option<usize> {
        (0..self.res.len()).find(|&j| {
            Some(j) != me && self.res[j].alive && self.marker_of(j).as_deref() == Some(key)
        })
    }

    pub(crate) fn violation(
        &self,
        kind: Kind,
        parent: Option<usize>,
        v: u8,
        me: Option<usize>,
    ) -> Outcome {
        let (key, value) = self.marker(kind, parent, v).expect("a unique type");
        match self.holder(&key, me) {
            Some(h) => Outcome::UniqueViolation {
                resource_type: kind.resource_type().to_string(),
                constraint: kind.unique().expect("a unique type").0.to_string(),
                value,
                holder: Some(self.res[h].urn.clone()),
            },
            None => Outcome::Created,
        }
    }

    /// The resources whose queries are checked after `plan` (already applied) at `step`: the
    /// ones it touched with their ancestors, and three more picked by the step number.
    pub(crate) fn focus(&self, plan: &Step, step: usize) -> Vec<usize> {
        let touched: Vec<usize> = match plan {
            Step::Create { parent, .. } => parent
                .iter()
                .copied()
                .chain(self.res.len().checked_sub(1))
                .collect(),
            Step::Update { target, .. } | Step::Delete { target, .. } | Step::Read { target } => {
                vec![*target]
            }
            Step::AddMember {
                collection, member, ..
            }
            | Step::RemoveMember { collection, member } => vec![*collection, *member],
        };
        let mut out: Vec<usize> = Vec::new();
        for &t in &touched {
            out.push(t);
            out.extend(self.ancestors(t));
        }
        let live = self.live(&ALL);
        if !live.is_empty() {
            out.extend((0..3).map(|k| live[(step * 5 + k * 7) % live.len()]));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The authorization scope as SCHEMA.md section 8 defines it: `(prefix, whole set)`, the
    /// prefix being the resource and its ancestors from the parent up, in that order.
    pub(crate) fn scope(&self, i: usize) -> (Vec<String>, BTreeSet<String>) {
        let anc = self.ancestors(i);
        let mut prefix = vec![self.res[i].urn.clone()];
        prefix.extend(anc.iter().rev().map(|&a| self.res[a].urn.clone()));
        let mut set: BTreeSet<String> = prefix.iter().cloned().collect();
        let holders: BTreeSet<usize> = anc.iter().copied().chain([i]).collect();
        for (&(c, m), &conveys) in &self.members {
            if conveys && holders.contains(&m) {
                set.insert(self.res[c].urn.clone());
                for a in self.ancestors(c) {
                    set.insert(self.res[a].urn.clone());
                }
            }
        }
        (prefix, set)
    }
}
