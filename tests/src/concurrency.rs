//! The concurrency scenarios, each a function of its environment, so that the same scenario
//! runs on the bare engine (which executes one request at a time and never reports a
//! transaction conflict) and with DynamoDB's concurrency modelled in front of it
//! ([`TestEnv::modelled`]: item-level transaction conflicts, a hold per transaction).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ddbrel_runtime::{Error, Stored};
use entities::{Account, Job, JobCollection, Label};

use crate::TestEnv;
use crate::invariants::assert_ok;
use crate::sample::{self, build_tree, job};

/// The uniqueness markers in the table.
pub async fn markers(env: &TestEnv) -> Vec<ddbrel_runtime::Item> {
    env.scan_all()
        .await
        .into_iter()
        .filter(|i| {
            i.get("_type")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("UniqueKeyValue")
        })
        .collect()
}

/// The holder a unique violation names.
pub fn holder(err: &Error) -> Option<&str> {
    match err {
        Error::UniqueViolation { holder, .. } => holder.as_deref(),
        _ => None,
    }
}

/// Contended rounds [`past_contention`] allows before giving up on a scenario.
const CONTENDED_ROUNDS: usize = 20;

/// Runs `op` again while it ends in [`Error::Contended`], as an application told "the item
/// is busy, nothing was applied" does: a scenario whose claim is that every writer lands
/// must not fail because one writer lost each attempt of its retry budget (DynamoDB is not
/// fair, and on a loaded machine the engine's queue lengthens every hold). Any other outcome
/// is returned; so is the last `Contended` after [`CONTENDED_ROUNDS`].
pub async fn past_contention<T, F, Fut>(mut op: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut round = 1;
    loop {
        match op().await {
            Err(Error::Contended { .. }) if round < CONTENDED_ROUNDS => round += 1,
            other => return other,
        }
    }
}

/// Concurrent updates from one read: each lands or is a `Conflict`, and the version counts
/// exactly the ones that landed; then updaters that re-read on conflict all land.
pub async fn updates_lose_nothing(env: &TestEnv, tasks: usize, rereaders: usize) {
    let a = env.store.create(sample::account("race")).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let store = env.store.clone();
        let mut copy = a.clone();
        handles.push(tokio::spawn(async move {
            copy.data.name = format!("writer {i}");
            past_contention(|| store.update(&copy)).await
        }));
    }
    let mut landed = 0u64;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => landed += 1,
            Err(Error::Conflict { .. }) => {}
            Err(e) => panic!("expected success or Conflict, got {e}"),
        }
    }
    assert!(landed >= 1);
    let now = env.store.get(&a.urn).await.unwrap();
    assert_eq!(now.meta.version, 1 + landed, "no lost update");

    // With re-reads: every task retries until it lands; the final version counts all.
    let mut handles = Vec::new();
    for _ in 0..rereaders {
        let store = env.store.clone();
        let urn = a.urn.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let mut cur = store.get(&urn).await.unwrap();
                cur.data.name.push('+');
                match store.update(&cur).await {
                    Ok(_) => return,
                    // A stale read, or a retry budget spent on contention: nothing applied.
                    Err(Error::Conflict { .. } | Error::Contended { .. }) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let end = env.store.get(&a.urn).await.unwrap();
    assert_eq!(end.meta.version, 1 + landed + rereaders as u64);
    let plus = |s: &str| s.chars().filter(|c| *c == '+').count();
    assert_eq!(plus(&end.data.name), plus(&now.data.name) + rereaders);
}

/// `contenders` creators race for one unique value, `trials` times: exactly one wins each
/// time, every loser's error is the violation naming the winner, and no marker dangles.
pub async fn one_creator_wins(env: &TestEnv, trials: usize, contenders: usize) {
    for trial in 0..trials {
        let slug = format!("race-{trial}");
        let mut tasks = Vec::new();
        for i in 0..contenders {
            let store = env.store.clone();
            let slug = slug.clone();
            tasks.push(tokio::spawn(async move {
                past_contention(|| {
                    store.create(Account {
                        name: format!("contender {i}"),
                        slug: slug.clone(),
                        plan: entities::Plan::Free,
                    })
                })
                .await
            }));
        }
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(a) => winners.push(a),
                Err(e) => losers.push(e),
            }
        }
        assert_eq!(winners.len(), 1, "trial {trial}: exactly one winner");
        let winner = winners[0].urn.to_string();
        for e in &losers {
            assert!(
                matches!(e, Error::UniqueViolation { constraint, .. } if constraint == "slug"),
                "trial {trial}: {e}"
            );
            assert_eq!(
                holder(e),
                Some(winner.as_str()),
                "the violation names the holder"
            );
        }
    }
    assert_ok(env).await;
    assert_eq!(
        markers(env).await.len(),
        trials,
        "one marker per winner, none dangling"
    );
}

/// A cascade of a whole account while writers create children and add memberships beneath
/// it: nothing is left, no invariant breaks. `hold`: with the concurrency model.
pub async fn cascade_with_concurrent_writers(rounds: usize, hold: Option<std::time::Duration>) {
    for round in 0..rounds {
        let env = match hold {
            None => TestEnv::new().await,
            Some(hold) => TestEnv::modelled(hold).await,
        };
        let store = env.store.clone();
        // The tree is built around the model (through the plain client): the scenario is the
        // cascade against its writers, not the build.
        let setup = ddbrel_runtime::Store::new(env.raw.clone(), store.table());
        let tree = build_tree(&setup, 3, 30, 2, 2).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..4 {
            let (store, stop) = (store.clone(), stop.clone());
            let cols: Vec<Stored<JobCollection>> = tree.collections.clone();
            let labels: Vec<Stored<Label>> = tree.labels.clone();
            let jobs: Vec<Stored<Job>> = tree.jobs.clone();
            writers.push(tokio::spawn(async move {
                let mut i = 0usize;
                while !stop.load(Ordering::SeqCst) && i < 200 {
                    i += 1;
                    let res = if i.is_multiple_of(2) {
                        let parent = &cols[(w + i) % cols.len()];
                        store
                            .create_child(parent, job(&format!("late-{w}-{i}")))
                            .await
                            .map(|_| ())
                    } else {
                        // Odd `i` only: `i / 2` walks every label, each writer from its own.
                        let (label, member) = (
                            &labels[(w + i / 2) % labels.len()],
                            &jobs[(w * 7 + i) % jobs.len()],
                        );
                        store.add_member(label, member).await.map(|_| ())
                    };
                    match res {
                        Ok(()) => {}
                        Err(e) if e.is_conflict() || e.is_not_found() => {}
                        // Four writers and the cascade on one label: a writer may lose every
                        // attempt its retry budget allows, as it can on DynamoDB (which is not
                        // fair either). Nothing was applied; the invariants below are the test.
                        Err(Error::Contended { .. }) => {}
                        Err(e) => panic!("writer {w}: unexpected {e}"),
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        tokio::task::yield_now().await;
        // A cascade stopped by a contended item is run again, as an operator would: it
        // resumes from what the first run left.
        let report = past_contention(|| store.delete_urn(tree.account.urn.as_any()))
            .await
            .unwrap();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        let left = env.scan_all().await;
        assert!(
            left.is_empty(),
            "round {round}: {} records left after {report:?}",
            left.len()
        );
        assert_ok(&env).await;
    }
}

/// `callers` concurrent `get_or_create` calls with one unique value: exactly one resource is
/// created, every caller gets it, and exactly one caller reports having created it.
pub async fn get_or_create_converges(env: &TestEnv, callers: usize) {
    let mut tasks = Vec::new();
    for i in 0..callers {
        let store = env.store.clone();
        tasks.push(tokio::spawn(async move {
            past_contention(|| {
                store.get_or_create(Account {
                    name: format!("caller {i}"),
                    slug: "Shared-Slug".into(),
                    plan: entities::Plan::Free,
                })
            })
            .await
        }));
    }
    let mut urns = std::collections::BTreeSet::new();
    let mut created = 0;
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        created += usize::from(got.was_created());
        urns.insert(got.stored().urn.to_string());
    }
    assert_eq!(created, 1, "exactly one caller created it");
    assert_eq!(
        urns.len(),
        1,
        "every caller got the same resource: {urns:?}"
    );
    let found = Account::find_by_slug(&env.store, "shared-slug")
        .await
        .unwrap()
        .expect("the value's holder");
    assert_eq!(urns.first(), Some(&found.urn.to_string()));
    assert_ok(env).await;
    assert_eq!(markers(env).await.len(), 1, "one marker, none dangling");
}

/// `writers` concurrent `update_with` calls, each appending one `+` to one account's name:
/// every one lands (re-reading on conflicts), and the version counts them all.
pub async fn update_with_loses_nothing(env: &TestEnv, writers: usize) {
    let a = env.store.create(sample::account("rmw")).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (store, urn) = (env.store.clone(), a.urn.clone());
        tasks.push(tokio::spawn(async move {
            past_contention(|| async {
                store
                    .update_with(&urn, |acct: &mut Account| {
                        acct.name.push('+');
                        Ok::<(), std::convert::Infallible>(())
                    })
                    .await
                    .map_err(|e| match e {
                        ddbrel_runtime::UpdateWithError::Store(e) => e,
                        ddbrel_runtime::UpdateWithError::Aborted(never) => match never {},
                    })
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let end = env.store.get(&a.urn).await.unwrap();
    assert_eq!(end.meta.version, 1 + writers as u64);
    assert_eq!(end.data.name.matches('+').count(), writers);
    assert_ok(env).await;
}

/// `writers` concurrent composed transactions, each creating a job under one collection and
/// adding it to one label: every one lands (conflicts retried), and both counts are exact.
pub async fn composed_transactions_all_land(env: &TestEnv, writers: usize) {
    let a = env.store.create(sample::account("composed")).await.unwrap();
    let col = sample::collection(&env.store, &a, "c").await.unwrap();
    let label = sample::label(&env.store, &a, "l").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..writers {
        let (store, col, label) = (env.store.clone(), col.clone(), label.clone());
        tasks.push(tokio::spawn(async move {
            past_contention(|| async {
                let mut t = store.transaction();
                let j = t.create_child(&col, job(&format!("j{i}")));
                t.add_member(&label, &j);
                t.commit().await.map(drop).map_err(Error::from)
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let col = env.store.get(&col.urn).await.unwrap();
    let label = env.store.get(&label.urn).await.unwrap();
    assert_eq!(col.meta.child_count, writers as u64);
    assert_eq!(label.meta.member_count, writers as u64);
    assert_ok(env).await;
}
