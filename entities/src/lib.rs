//! # entities
//!
//! The system's own entity types, declared with `#[derive(Entity)]`:
//!
//! ```text
//! Account                        System.Account                 (root)
//! ├── User                       System.Account.User            unique email per account
//! ├── JobCollection              System.Account.JobCollection   unique name within its account
//! │   └── Job                    System.Account.JobCollection.Job
//! ├── Team                       System.Account.Team            collection of User (conveys authorization)
//! └── Label                      System.Account.Label           collection of Job
//! ```
//!
//! Attributes are stored in camelCase (`displayName`). [`all`] lists every descriptor and
//! [`docs::entities_markdown`] renders `specs/ENTITIES.md` from them.

#![warn(missing_docs)]

pub mod docs;
mod migrate;

pub use migrate::migrate_all;

use ddbrel_runtime::{Entity, EntityDescriptor};
use serde::{Deserialize, Serialize};

/// A customer account: the root of everything a customer owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account")]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The account's display name.
    pub name: String,
    /// The URL-safe handle of the account (`acme-corp`), unique across all accounts, compared
    /// case-insensitively.
    #[unique(case_insensitive)]
    pub slug: String,
    /// The billing plan.
    pub plan: Plan,
}

/// An account's billing plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// The free tier.
    Free,
    /// Paid, per seat.
    Team,
    /// Contract.
    Enterprise,
}

/// A person who signs in to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.User")]
#[parent(Account)]
#[account_scoped]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's email address: unique within the account, compared case-insensitively.
    #[unique(scope = account, case_insensitive)]
    pub email: String,
    /// The name shown in the interface.
    pub display_name: String,
}

/// A named group of jobs in an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.JobCollection")]
#[parent(Account)]
#[account_scoped]
#[serde(rename_all = "camelCase")]
pub struct JobCollection {
    /// The collection's name, unique among the account's job collections.
    #[unique(scope = parent)]
    pub name: String,
    /// What the jobs in the collection are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A job: a unit of scheduled work in a job collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.JobCollection.Job")]
#[parent(JobCollection)]
#[account_scoped]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job's name.
    pub name: String,
    /// Whether the job runs.
    pub status: JobStatus,
    /// When the job runs, as a cron expression (`0 9 * * MON-FRI`); `None` runs it only on
    /// demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// Whether a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Runs on its schedule and on demand.
    Active,
    /// Runs only on demand until resumed.
    Paused,
    /// Does not run.
    Disabled,
}

/// A team of users. Membership conveys authorization by default: what the team may access,
/// its members may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Team")]
#[parent(Account)]
#[account_scoped]
#[collection(of(User), conveys_authorization = true)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    /// The team's name.
    pub name: String,
}

/// A label attached to jobs, for filtering. Labelling a job grants nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Label")]
#[parent(Account)]
#[account_scoped]
#[collection(of(Job), conveys_authorization = false)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// The label's text.
    pub name: String,
    /// The display color, as `#rrggbb`.
    pub color: String,
}

/// The descriptors of every entity type of the system, parents before children.
pub fn all() -> Vec<&'static EntityDescriptor> {
    vec![
        Account::descriptor(),
        User::descriptor(),
        JobCollection::descriptor(),
        Job::descriptor(),
        Team::descriptor(),
        Label::descriptor(),
    ]
}
