//! `ddbrel demo`: sample data built with the system's entity types, then every access pattern
//! with the requests it took.

use ddbrel_runtime::{Order, PageRequest, Stored};
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan, Team, User};

use crate::context::Ctx;
use crate::failure::Failure;

struct Step<'a> {
    ctx: &'a Ctx,
    n: usize,
}

impl Step<'_> {
    fn begin(&mut self) {
        self.ctx.counter.reset();
    }
    fn done(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.n += 1;
        let snapshot = self.ctx.counter.snapshot();
        let requests: u64 = snapshot.values().sum();
        let ops = snapshot
            .iter()
            .map(|(k, v)| {
                if *v == 1 {
                    k.clone()
                } else {
                    format!("{k}×{v}")
                }
            })
            .collect::<Vec<_>>()
            .join(" + ");
        if self.ctx.json {
            say!(
                "{}",
                serde_json::json!({
                    "step": self.n, "what": what, "requests": requests,
                    "operations": snapshot, "detail": detail.to_string(),
                })
            );
        } else {
            say!("{:>2}. {what}", self.n);
            say!("    {detail}");
            say!("    requests: {requests} ({ops})",);
        }
    }
}

fn short(urn: &impl std::fmt::Display) -> String {
    let s = urn.to_string();
    match s.rsplit_once("::") {
        Some((t, id)) => format!(
            "{}::…{}",
            t.trim_start_matches("urn:pp:"),
            &id[id.len().saturating_sub(6)..]
        ),
        None => s,
    }
}

/// The sample data the demo builds and then queries.
struct Sample {
    account: Stored<Account>,
    alice: Stored<User>,
    admins: Stored<Team>,
    nightly: Stored<JobCollection>,
    jobs: Vec<Stored<Job>>,
}

/// Runs the demo: builds sample data, walks through the access patterns, then deletes it
/// (with `keep`, only the job collection).
pub async fn run(ctx: &Ctx, keep: bool) -> Result<(), Failure> {
    let store = &ctx.store;
    // The sample types go into the table's type registry, so that `ddbrel schema` and other
    // tools reading the registry know them.
    store.register_types(&entities::all()).await?;
    let mut step = Step { ctx, n: 0 };
    let tag = ddbrel_runtime::Urn::<Account>::new()
        .id()
        .simple()
        .to_string();
    let slug = format!("acme-{}", &tag[tag.len() - 6..]);
    if !ctx.json {
        say!("ddbrel demo on table {} (slug {slug})\n", store.table());
    }
    let sample = build(&mut step, &slug).await?;
    read(&mut step, &sample).await?;
    unique(&mut step, &slug).await?;
    scopes(&mut step, &sample).await?;
    cascade(&mut step, &sample, keep).await?;
    if !ctx.json {
        say!(
            "\ndone{}",
            if keep {
                format!("; the account {} is kept", sample.account.urn)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Steps 1–5: the account, two users, a team, a job collection with three jobs, a label.
async fn build(step: &mut Step<'_>, slug: &str) -> Result<Sample, Failure> {
    let ctx = step.ctx;
    let store = &ctx.store;
    step.begin();
    let account = store
        .create(Account {
            name: "Acme Corp".into(),
            slug: slug.to_string(),
            plan: Plan::Team,
        })
        .await?;
    step.done("create an Account (root, unique slug)", short(&account.urn));

    step.begin();
    let alice = store
        .create_child(
            &account,
            User {
                email: "alice@acme.example".into(),
                display_name: "Alice".into(),
            },
        )
        .await?;
    let bob = store
        .create_child(
            &account,
            User {
                email: "bob@acme.example".into(),
                display_name: "Bob".into(),
            },
        )
        .await?;
    step.done(
        "create two Users under it (each: resource + parent record + parent check + email marker, one transaction)",
        format!("{}, {}", short(&alice.urn), short(&bob.urn)),
    );

    step.begin();
    let admins = store
        .create_child(
            &account,
            Team {
                name: "admins".into(),
            },
        )
        .await?;
    store.add_member(&admins, &alice).await?;
    step.done(
        "create a Team and add Alice (the team conveys authorization)",
        short(&admins.urn),
    );

    step.begin();
    let nightly = store
        .create_child(
            &account,
            JobCollection {
                name: "nightly".into(),
                description: Some("jobs that run at night".into()),
            },
        )
        .await?;
    let mut jobs: Vec<Stored<Job>> = Vec::new();
    for name in ["backup", "reindex", "report"] {
        jobs.push(
            store
                .create_child(
                    &nightly,
                    Job {
                        name: name.into(),
                        status: JobStatus::Active,
                        schedule: Some("0 2 * * *".into()),
                    },
                )
                .await?,
        );
    }
    step.done(
        "create a JobCollection and three Jobs in it",
        format!("{} with {} jobs", short(&nightly.urn), jobs.len()),
    );

    step.begin();
    let urgent = store
        .create_child(
            &account,
            Label {
                name: "urgent".into(),
                color: "#d00".into(),
            },
        )
        .await?;
    store.add_member(&urgent, &jobs[0]).await?;
    step.done(
        "create a Label and put the backup job in it (labels do not convey authorization)",
        short(&urgent.urn),
    );

    Ok(Sample {
        account,
        alice,
        admins,
        nightly,
        jobs,
    })
}

/// Steps 6–13: reading and updating what was built, along each access pattern.
async fn read(step: &mut Step<'_>, sample: &Sample) -> Result<(), Failure> {
    let ctx = step.ctx;
    let store = &ctx.store;
    let Sample {
        account,
        admins,
        nightly,
        jobs,
        ..
    } = sample;
    step.begin();
    let got = store.get(&jobs[0].urn).await?;
    step.done(
        "get a Job by URN (strongly consistent)",
        format!("{} = {:?}", short(&got.urn), got.data.name),
    );

    step.begin();
    let mut changed = got.clone();
    changed.data.status = JobStatus::Paused;
    let changed = store.update(&changed).await?;
    step.done(
        "update it (conditioned on _version)",
        format!("status paused, _version {}", changed.meta.version),
    );

    step.begin();
    let parent = store.parent_of(&jobs[0].urn).await?;
    step.done("parent of the Job", short(&parent));

    step.begin();
    let page = store
        .children_with_data::<Job>(&nightly.urn, PageRequest::first(100))
        .await?;
    step.done(
        "children of the JobCollection with their data (Query + BatchGetItem)",
        page.items
            .iter()
            .map(|j| j.data.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
    );

    step.begin();
    let anc = store.ancestors(jobs[0].urn.as_any()).await?;
    step.done(
        "ancestors of the Job (stored on it)",
        anc.iter().map(short).collect::<Vec<_>>().join(" > "),
    );

    step.begin();
    let members = store.members(&admins.urn, PageRequest::all()).await?;
    step.done(
        "members of the Team",
        members
            .items
            .iter()
            .map(|m| short(&m.member))
            .collect::<Vec<_>>()
            .join(", "),
    );

    step.begin();
    let of = store
        .collections_of(jobs[0].urn.as_any(), PageRequest::all())
        .await?;
    step.done(
        "collections holding the backup job (InvertedIndex, eventually consistent)",
        of.items
            .iter()
            .map(|m| short(&m.collection))
            .collect::<Vec<_>>()
            .join(", "),
    );

    step.begin();
    let in_account = store
        .by_account::<Job>(&account.urn, Order::NewestFirst, PageRequest::first(10))
        .await?;
    step.done(
        "Jobs of the account, newest first (ResourcesByAccountIndex)",
        format!("{} jobs", in_account.items.len()),
    );
    Ok(())
}

/// Steps 14–15: a unique value finds its owner and refuses a second owner.
async fn unique(step: &mut Step<'_>, slug: &str) -> Result<(), Failure> {
    let ctx = step.ctx;
    let store = &ctx.store;
    step.begin();
    let found = Account::find_by_slug(store, slug.to_uppercase()).await?;
    step.done(
        "find the Account by slug, case-insensitively (marker, then owner)",
        found
            .map(|a| short(&a.urn))
            .unwrap_or_else(|| "not found".into()),
    );

    step.begin();
    let dup = store
        .create(Account {
            name: "Impostor".into(),
            slug: slug.to_uppercase(),
            plan: Plan::Free,
        })
        .await;
    step.done(
        "a second Account with the same slug in upper case is refused",
        match dup {
            Err(e) => e.to_string(),
            Ok(_) => return Err(Failure::new("the duplicate slug was accepted")),
        },
    );

    Ok(())
}

/// Steps 16–17: authorization scopes, through conveying and non-conveying collections.
async fn scopes(step: &mut Step<'_>, sample: &Sample) -> Result<(), Failure> {
    let ctx = step.ctx;
    let store = &ctx.store;
    step.begin();
    let scope = store.authorization_scope(sample.alice.urn.as_any()).await?;
    step.done(
        "authorization scope of Alice (herself, her account, the conveying Team)",
        scope.iter().map(short).collect::<Vec<_>>().join(", "),
    );

    step.begin();
    let scope = store
        .authorization_scope(sample.jobs[0].urn.as_any())
        .await?;
    step.done(
        "authorization scope of the backup job (not the Label: it does not convey)",
        scope.iter().map(short).collect::<Vec<_>>().join(", "),
    );

    Ok(())
}

/// The last step: the cascading delete of the account (with `keep`, of the job collection).
async fn cascade(step: &mut Step<'_>, sample: &Sample, keep: bool) -> Result<(), Failure> {
    let ctx = step.ctx;
    let store = &ctx.store;
    step.begin();
    let report = if keep {
        store.delete_urn(sample.nightly.urn.as_any()).await?
    } else {
        store.delete_urn(sample.account.urn.as_any()).await?
    };
    step.done(
        if keep {
            "cascading delete of the JobCollection (--keep leaves the account)"
        } else {
            "cascading delete of the Account: everything beneath it, every relationship, every marker"
        },
        format!(
            "{} resources, {} parent-child, {} memberships, {} markers",
            report.resource_count(),
            report.parent_child,
            report.memberships,
            report.markers
        ),
    );
    Ok(())
}
