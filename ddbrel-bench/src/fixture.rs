//! An embedded engine with a ddbrel store and a raw SDK client on it, and sample data.

use aws_sdk_dynamodb::Client;
use ddbrel_runtime::embedded::Engine;
use ddbrel_runtime::store::local_config_builder;
use ddbrel_runtime::{RequestCounter, Store, Stored};
use entities::{Account, Job, JobCollection, JobStatus, Plan, Team, User};

use crate::BoxError;
use crate::raw::Raw;

/// The table the fixture creates.
pub const TABLE: &str = "bench";

/// A running in-memory engine with two clients on it, each counting its own requests: the
/// ddbrel store's and the baseline's. Both clients carry the same interceptor, so neither side
/// pays for counting more than the other.
///
/// The engine serves on a tokio runtime of its own (two worker threads), as a separately
/// started server would: its request handlers hold the engine's lock on the thread they run
/// on, and on the clients' runtime they would stall the clients' own tasks.
pub struct Fixture {
    /// The ddbrel store, on [`TABLE`].
    pub store: Store,
    /// Counts the requests of [`Fixture::store`].
    pub store_counter: RequestCounter,
    /// The baseline's client, on [`TABLE`].
    pub raw: Raw,
    /// Counts the requests of [`Fixture::raw`].
    pub raw_counter: RequestCounter,
    engine: Engine,
    engine_runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(rt) = self.engine_runtime.take() {
            // May run inside the clients' runtime, where a blocking shutdown is not allowed.
            rt.shutdown_background();
        }
    }
}

impl Fixture {
    /// Starts an in-memory engine on a runtime of its own and creates [`TABLE`]. Call
    /// inside a tokio runtime (the clients'); the engine serves until the fixture is dropped.
    pub async fn start() -> Result<Fixture, BoxError> {
        let engine_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("embedded-engine")
            .enable_all()
            .build()?;
        let engine = match engine_runtime.spawn(Engine::memory()).await {
            Ok(Ok(engine)) => engine,
            Ok(Err(e)) => {
                engine_runtime.shutdown_background();
                return Err(e.into());
            }
            Err(e) => {
                engine_runtime.shutdown_background();
                return Err(e.into());
            }
        };
        let endpoint = engine.endpoint();
        let store_counter = RequestCounter::new();
        let raw_counter = RequestCounter::new();
        let client = |counter: &RequestCounter| {
            Client::from_conf(
                local_config_builder(&endpoint)
                    .interceptor(counter.clone())
                    .build(),
            )
        };
        // From here on, dropping the fixture stops the engine's runtime properly.
        let fixture = Fixture {
            store: Store::new(client(&store_counter), TABLE),
            raw: Raw {
                client: client(&raw_counter),
                table: TABLE.to_string(),
            },
            store_counter,
            raw_counter,
            engine,
            engine_runtime: Some(engine_runtime),
        };
        fixture.store.create_table().await?;
        fixture.store_counter.reset();
        Ok(fixture)
    }

    /// The engine's endpoint.
    pub fn endpoint(&self) -> String {
        self.engine.endpoint()
    }

    /// Creates another table with ddbrel's definition and returns a ddbrel store on it
    /// (through the counted ddbrel client) and the baseline's client on it.
    pub async fn other_table(&self, table: &str) -> Result<(Store, Raw), BoxError> {
        let store = Store::new(self.store.client().clone(), table);
        store.create_table().await?;
        let raw = Raw {
            client: self.raw.client.clone(),
            table: table.to_string(),
        };
        Ok((store, raw))
    }
}

/// An account with a unique slug.
pub fn account(hint: &str) -> Account {
    Account {
        name: format!("Account {hint}"),
        slug: format!("{hint}-{}", uuid::Uuid::now_v7().simple()),
        plan: Plan::Team,
    }
}

/// User number `i` (the email is unique within an account per `i`).
pub fn user(i: u64) -> User {
    User {
        email: format!("User.{i}@Example.com"),
        display_name: format!("User number {i}"),
    }
}

/// Job number `i`.
pub fn job(i: u64) -> Job {
    Job {
        name: format!("nightly-export-{i}"),
        status: JobStatus::Active,
        schedule: Some("0 9 * * MON-FRI".into()),
    }
}

/// A job collection named `name`.
pub fn collection(name: &str) -> JobCollection {
    JobCollection {
        name: name.to_string(),
        description: Some("Jobs for the benchmark".into()),
    }
}

/// The data the read benchmarks use.
pub struct Seed {
    /// The account.
    pub account: Stored<Account>,
    /// A job collection holding every job.
    pub collection: Stored<JobCollection>,
    /// The jobs, oldest first.
    pub jobs: Vec<Stored<Job>>,
    /// A user, member of every team.
    pub user: Stored<User>,
    /// Teams (they convey authorization) holding the user.
    pub teams: Vec<Stored<Team>>,
}

/// Creates an account, one job collection with `jobs` jobs, a user and `teams` teams holding
/// the user, through ddbrel.
pub async fn seed(store: &Store, jobs: u64, teams: u64) -> Result<Seed, BoxError> {
    let account = store.create(self::account("seed")).await?;
    let collection = store
        .create_child(&account, self::collection("seed-jobs"))
        .await?;
    let mut js = Vec::new();
    for i in 0..jobs {
        js.push(store.create_child(&collection, job(i)).await?);
    }
    let user = store.create_child(&account, self::user(0)).await?;
    let mut ts = Vec::new();
    for i in 0..teams {
        let team = store
            .create_child(
                &account,
                Team {
                    name: format!("team-{i}"),
                },
            )
            .await?;
        store.add_member(&team, &user).await?;
        ts.push(team);
    }
    // Read the user again: its `_memberOf` changed.
    let user = store.get(&user.urn).await?;
    Ok(Seed {
        account,
        collection,
        jobs: js,
        user,
        teams: ts,
    })
}
