//! Sample data built with the system's entity types.

use ddbrel_runtime::{Store, Stored};
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan, Team, User};
use futures::stream::{self, StreamExt, TryStreamExt};

/// An account with job collections, jobs, labels holding some jobs, users and a team.
pub struct Tree {
    /// The account.
    pub account: Stored<Account>,
    /// Its job collections.
    pub collections: Vec<Stored<JobCollection>>,
    /// Every job.
    pub jobs: Vec<Stored<Job>>,
    /// Labels (each holds every third job).
    pub labels: Vec<Stored<Label>>,
    /// Users.
    pub users: Vec<Stored<User>>,
    /// A team holding every user.
    pub team: Stored<Team>,
}

/// A new account with a unique slug.
pub fn account(slug_hint: &str) -> Account {
    Account {
        name: format!("Account {slug_hint}"),
        slug: format!("{slug_hint}-{}", uuid::Uuid::now_v7().simple()),
        plan: Plan::Team,
    }
}

/// A job collection named `name` under `account`.
pub async fn collection(
    store: &Store,
    account: &Stored<Account>,
    name: &str,
) -> ddbrel_runtime::Result<Stored<JobCollection>> {
    store
        .create_child(
            account,
            JobCollection {
                name: name.into(),
                description: None,
            },
        )
        .await
}

/// A label named `name` under `account`.
pub async fn label(
    store: &Store,
    account: &Stored<Account>,
    name: &str,
) -> ddbrel_runtime::Result<Stored<Label>> {
    store
        .create_child(
            account,
            Label {
                name: name.into(),
                color: "#336699".into(),
            },
        )
        .await
}

/// A user with `email` under `account`, named after it.
pub async fn user(
    store: &Store,
    account: &Stored<Account>,
    email: &str,
) -> ddbrel_runtime::Result<Stored<User>> {
    store
        .create_child(
            account,
            User {
                email: email.into(),
                display_name: email.into(),
            },
        )
        .await
}

/// A job named `name`.
pub fn job(name: &str) -> Job {
    Job {
        name: name.to_string(),
        status: JobStatus::Active,
        schedule: Some("0 * * * *".into()),
    }
}

/// Builds a tree: `collections` job collections of `jobs_per` jobs, `labels` labels (label
/// `i` holds every job whose index is `i` modulo 3), `users` users all in one team.
pub async fn build_tree(
    store: &Store,
    collections: usize,
    jobs_per: usize,
    labels: usize,
    users: usize,
) -> ddbrel_runtime::Result<Tree> {
    let account = store.create(account("acme")).await?;
    let mut cols = Vec::new();
    for i in 0..collections {
        cols.push(
            store
                .create_child(
                    &account,
                    JobCollection {
                        name: format!("collection-{i}"),
                        description: None,
                    },
                )
                .await?,
        );
    }
    let specs: Vec<(usize, usize)> = (0..collections)
        .flat_map(|c| (0..jobs_per).map(move |j| (c, j)))
        .collect();
    let jobs: Vec<Stored<Job>> = stream::iter(specs)
        .map(|(c, j)| {
            let parent = &cols[c];
            async move {
                store
                    .create_child(parent, job(&format!("job-{c}-{j}")))
                    .await
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    let mut lbls = Vec::new();
    for i in 0..labels {
        lbls.push(
            store
                .create_child(
                    &account,
                    Label {
                        name: format!("label-{i}"),
                        color: "#ff0000".into(),
                    },
                )
                .await?,
        );
    }
    let pairs: Vec<(usize, usize)> = (0..labels)
        .flat_map(|l| {
            (0..jobs.len())
                .filter(move |j| j % 3 == l % 3)
                .map(move |j| (l, j))
        })
        .collect();
    stream::iter(pairs)
        .map(|(l, j)| {
            let (label, job) = (&lbls[l], &jobs[j]);
            async move { store.add_member(label, job).await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    let mut us = Vec::new();
    for i in 0..users {
        us.push(
            store
                .create_child(
                    &account,
                    User {
                        email: format!("user{i}@example.com"),
                        display_name: format!("User {i}"),
                    },
                )
                .await?,
        );
    }
    let team = store
        .create_child(
            &account,
            Team {
                name: "admins".into(),
            },
        )
        .await?;
    for u in &us {
        store.add_member(&team, u).await?;
    }
    Ok(Tree {
        account,
        collections: cols,
        jobs,
        labels: lbls,
        users: us,
        team,
    })
}
