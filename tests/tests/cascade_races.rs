//! Write protocol v2: no ancestor is checked by a create, a membership or a unique-value
//! update, and the cascade fences each internal node before it reads its partition and
//! deletes each leaf conditioned on its state as read. Each race below is made deterministic
//! by holding the cascade's leaf transaction at the connector while a writer attaches
//! something to the leaf it read; the cascade must re-plan and leave nothing behind.

use ddbrel_runtime::integrity::FindingKind;
use std::time::Duration;

use ddbrel_model::{Clock, ModelConfig};
use ddbrel_runtime::{DeleteOptions, Store, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::FaultMode;
use ddbrel_tests::invariants::{assert_ok, check};
use ddbrel_tests::sample::{self, job};
use entities::{Account, JobCollection, Label, User};

async fn collection(env: &TestEnv, account: &Stored<Account>, name: &str) -> Stored<JobCollection> {
    sample::collection(&env.store, account, name).await.unwrap()
}

async fn label(env: &TestEnv, account: &Stored<Account>, name: &str) -> Stored<Label> {
    sample::label(&env.store, account, name).await.unwrap()
}

fn sweep() -> DeleteOptions {
    DeleteOptions {
        force_sweep: true,
        ..DeleteOptions::default()
    }
}

/// The account's sweep reads an empty collection (a leaf, not fenced) and holds its delete; a
/// job is created under the collection meanwhile (the create checks only its parent). The
/// leaf's delete, conditioned on its count as read, is cancelled; the sweep fences the
/// collection, finds the job and deletes it: no orphan.
#[tokio::test]
async fn a_child_created_under_a_leaf_the_sweep_read_is_deleted_with_it() {
    let env = TestEnv::new().await;
    let account = env
        .store
        .create(sample::account("leafchild"))
        .await
        .unwrap();
    let col = collection(&env, &account, "empty").await;

    let mut held = env
        .gate
        .hold("TransactWriteItems", 1, Some(col.urn.as_str()));
    let store = env.store.clone();
    let root = account.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let late = env.store.create_child(&col, job("late")).await.unwrap();
    held.release();

    let report = task.await.unwrap().unwrap();
    assert_eq!(report.resource_count(), 3, "{report:?}");
    assert!(env.store.try_get(&late.urn).await.unwrap().is_none());
    assert!(env.scan_all().await.is_empty(), "nothing left behind");
    assert_ok(&env).await;
}

/// The same with a membership: the sweep reads a label with no members (a leaf) and holds its
/// delete; a job outside the cascade joins it meanwhile. The label's delete is cancelled
/// (its `_memberCount` moved); the sweep fences the label and takes the job out of it.
#[tokio::test]
async fn a_member_added_to_a_leaf_collection_the_sweep_read_leaves_it() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("leafcoll")).await.unwrap();
    let lab = label(&env, &account, "l").await;
    let elsewhere = env.store.create(sample::account("other")).await.unwrap();
    let col = collection(&env, &elsewhere, "c").await;
    let j = env.store.create_child(&col, job("j")).await.unwrap();

    let mut held = env
        .gate
        .hold("TransactWriteItems", 1, Some(lab.urn.as_str()));
    let store = env.store.clone();
    let root = account.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    env.store.add_member(&lab, &j).await.unwrap();
    held.release();

    let report = task.await.unwrap().unwrap();
    assert_eq!(report.memberships, 1, "{report:?}");
    assert!(env.store.try_get(&lab.urn).await.unwrap().is_none());
    let j = env.store.get(&j.urn).await.unwrap();
    assert!(
        j.meta.member_of.is_empty(),
        "the job left the deleted label"
    );
    assert_ok(&env).await;
}

/// A job the sweep read as a leaf joins a label outside the cascade before its delete lands.
/// The delete, conditioned on `_memberOf` as read, is cancelled; the job is read again and
/// deleted with its new membership, and the label's count is back to zero.
#[tokio::test]
async fn a_leaf_that_joins_an_outside_collection_meanwhile_leaves_it() {
    let env = TestEnv::new().await;
    let account = env
        .store
        .create(sample::account("leafmember"))
        .await
        .unwrap();
    let col = collection(&env, &account, "c").await;
    let lab = label(&env, &account, "outside").await;
    let j = env.store.create_child(&col, job("j")).await.unwrap();

    let mut held = env.gate.hold("TransactWriteItems", 1, Some(j.urn.as_str()));
    let store = env.store.clone();
    let root = col.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    env.store.add_member(&lab, &j).await.unwrap();
    held.release();

    let report = task.await.unwrap().unwrap();
    assert_eq!(report.resource_count(), 2, "{report:?}");
    assert_eq!(report.memberships, 1, "{report:?}");
    let lab = env.store.get(&lab.urn).await.unwrap();
    assert_eq!(lab.meta.member_count, 0);
    assert_ok(&env).await;
}

/// A user the sweep read as a leaf changes its unique email before its delete lands (the
/// update checks only the user). The delete, conditioned on the version read, is cancelled;
/// the user is read again and deleted with its new marker: no marker dangles.
#[tokio::test]
async fn a_unique_value_changed_on_a_leaf_the_sweep_read_is_released() {
    let env = TestEnv::new().await;
    let account = env
        .store
        .create(sample::account("leafunique"))
        .await
        .unwrap();
    let user = env
        .store
        .create_child(
            &account,
            User {
                email: "before@example.com".into(),
                display_name: "U".into(),
            },
        )
        .await
        .unwrap();

    let mut held = env
        .gate
        .hold("TransactWriteItems", 1, Some(user.urn.as_str()));
    let store = env.store.clone();
    let root = account.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let mut changed = user.clone();
    changed.data.email = "after@example.com".into();
    env.store.update(&changed).await.unwrap();
    held.release();

    task.await.unwrap().unwrap();
    assert!(env.scan_all().await.is_empty(), "no marker left behind");
    assert_ok(&env).await;
}

/// A create reads and checks only its parent: its one TransactWriteItems names neither the
/// account above the parent nor any other ancestor, so a busy account is not a lock.
#[tokio::test]
async fn a_create_checks_its_parent_and_no_other_ancestor() {
    let env = TestEnv::new().await;
    let account = env
        .store
        .create(sample::account("noancestor"))
        .await
        .unwrap();
    let col = collection(&env, &account, "c").await;
    let lab = label(&env, &account, "l").await;

    let mut held = env.gate.hold("TransactWriteItems", 1, None);
    let store = env.store.clone();
    let parent = col.clone();
    let task = tokio::spawn(async move { store.create_child(&parent, job("j")).await });
    let body = held.arrived().await;
    held.release();
    let j = task.await.unwrap().unwrap();
    assert_eq!(
        keys_written(&body),
        vec![j.urn.to_string(), col.urn.to_string(), col.urn.to_string()],
        "the job, its parent-child record and its parent's count; no other ancestor"
    );

    let mut held = env.gate.hold("TransactWriteItems", 1, None);
    let store = env.store.clone();
    let (l2, j2) = (lab.clone(), j.clone());
    let task = tokio::spawn(async move { store.add_member(&l2, &j2).await });
    let body = held.arrived().await;
    held.release();
    task.await.unwrap().unwrap();
    assert_eq!(
        keys_written(&body),
        vec![lab.urn.to_string(), lab.urn.to_string(), j.urn.to_string()],
        "the record, the collection and the member; no ancestor of either"
    );
    assert_ok(&env).await;
}

/// The partition key of each action of a TransactWriteItems request body, in order.
fn keys_written(body: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["TransactItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| {
            let (kind, a) = action.as_object().unwrap().iter().next().unwrap();
            let pk = if kind == "Put" {
                &a["Item"]["PK"]["S"]
            } else {
                &a["Key"]["PK"]["S"]
            };
            pk.as_str().unwrap().to_string()
        })
        .collect()
}

/// Requests a run of the cascade gets before it is killed. The sweep fences and reads up to
/// eight internal nodes of a level at once, so this is about three round trips of wall time:
/// the fence and partition reads of those nodes, then their first transactions.
const KILLED_AFTER: u64 = 24;

/// A cascade whose process is killed after every few requests (a deploy loop, a timeout)
/// still finishes: once one run has finished the restrict pass (SCHEMA.md §7, "Restrict"),
/// which reads the whole closure before the first delete and marks the root
/// `_deleteChecked`, each run deletes something before it has read the whole tree, and no run
/// undoes another's work.
#[tokio::test]
async fn a_cascade_killed_every_few_requests_still_finishes() {
    let env = TestEnv::new().await;
    let tree = sample::build_tree(&env.store, 4, 60, 2, 2).await.unwrap();
    let root = tree.account.urn.as_any().clone();
    let mut left = env.scan_all().await.len();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 200, "{left} records left after {runs} runs");
        let checked = env
            .raw_item(root.as_str(), root.as_str())
            .await
            .is_some_and(|i| i.contains_key("_deleteChecked"));
        env.faults.arm(KILLED_AFTER, FaultMode::BeforeSend);
        let res = env.store.delete_with(&root, sweep()).await;
        env.faults.disarm();
        let now = env.scan_all().await.len();
        if res.is_ok() {
            assert_eq!(now, 0);
            break;
        }
        assert!(
            now < left || !checked,
            "run {runs} deleted nothing after the restrict pass ({now} records left)"
        );
        left = now;
        // Internal nodes the run fenced are part of the cascade: the checker reports one
        // unfinished cascade, at its root, and nothing else.
        let findings = check(&env).await;
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].kind, FindingKind::UnfinishedCascade);
        assert!(findings[0].key.contains(root.as_str()), "{findings:#?}");
    }
    assert!(runs > 3, "the budget cut the cascade short {runs} times");
    assert_ok(&env).await;
}

/// DynamoDB's read-committed visibility, modelled (`read_committed`, items visible in reverse
/// action order): a create under C is committing, its count on C already visible and its
/// record not yet. The cascade fences C (C's item is applied, so free) and its Query of C's
/// partition misses the record. C's count keeps C alive: the sweep reads again once the
/// commit is done and deletes the new job too, where a cascade that trusted its Query would
/// have deleted C and orphaned the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_sweep_misses_while_its_create_commits_is_still_deleted() {
    const HOLD: Duration = Duration::from_millis(10);
    const WINDOW: Duration = Duration::from_millis(30);
    let config = ModelConfig {
        hold: HOLD,
        commit_window: Some(WINDOW),
        read_committed: true,
        reverse_visibility: true,
        ..ModelConfig::default()
    };
    let env = TestEnv::with_model(config, Clock::manual()).await;
    let model = env.model.clone().expect("a model");
    // Set up around the model (its clock is frozen).
    let setup = Store::new(env.raw.clone(), env.store.table());
    let account = setup
        .create(sample::account("readcommitted"))
        .await
        .unwrap();
    let col = setup
        .create_child(
            &account,
            JobCollection {
                name: "c".into(),
                description: None,
            },
        )
        .await
        .unwrap();

    // The create: its conditions are checked, it holds its items, nothing is written yet.
    let creating = {
        let (store, col) = (env.store.clone(), col.clone());
        tokio::spawn(async move { store.create_child(&col, job("late")).await })
    };
    model.until_applied_and_holding(1).await;
    // Past the hold and the first third of the window: C's count is written and visible, the
    // record and the job are not.
    model.clock().advance(HOLD + WINDOW / 3);
    model.until_held_at_most(2).await;

    // The cascade of C, held at its first GetItem of C: the sweep reads C's counts only when
    // its Query of C's partition found no record.
    let mut held = env.gate.hold("GetItem", 1, Some(col.urn.as_str()));
    let cascade = {
        let (store, root) = (env.store.clone(), col.urn.as_any().clone());
        tokio::spawn(async move { store.delete_with(&root, sweep()).await })
    };
    held.arrived().await;
    // The rest of the commit: the record and the job become visible.
    model.clock().advance(WINDOW);
    let late = creating.await.unwrap().unwrap();
    held.release();
    // From here model time only has to pass for the cascade's own transactions.
    let clock = model.clock().clone();
    let ticking = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let ticker = {
        let ticking = ticking.clone();
        tokio::spawn(async move {
            while ticking.load(std::sync::atomic::Ordering::SeqCst) {
                clock.advance(Duration::from_millis(1));
                tokio::task::yield_now().await;
            }
        })
    };
    let report = cascade.await.unwrap().unwrap();
    ticking.store(false, std::sync::atomic::Ordering::SeqCst);
    ticker.await.unwrap();
    assert_eq!(report.resource_count(), 2, "C and the late job: {report:?}");
    assert!(setup.try_get(&late.urn).await.unwrap().is_none());
    assert!(setup.try_get(&col.urn).await.unwrap().is_none());
    // What is left is the account (its item and its slug's marker): no orphan.
    assert_eq!(env.scan_all().await.len(), 2);
    assert_ok(&env).await;
    assert_eq!(model.stats().staged_write_failures, 0);
}

/// A count left above its records by a contract-1 sweep (which deleted records without
/// counting them down), on a fenced collection with no `_childCount` at all: the sweep waits
/// out any commit window, sets the counts to zero (its condition reads the absent count as
/// the 0 it read) and finishes. Before, the condition compared the absent count with 0, never
/// held, and the sweep went round forever. (The timeout only turns such a hang into a failure.)
#[tokio::test]
async fn an_over_count_left_by_an_earlier_sweep_is_settled() {
    let env = TestEnv::new().await;
    let account = env
        .store
        .create(sample::account("overcount"))
        .await
        .unwrap();
    let lab = label(&env, &account, "l").await;
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_string());
    env.raw
        .update_item()
        .table_name(env.store.table())
        .key("PK", s(lab.urn.as_str()))
        .key("SK", s(lab.urn.as_str()))
        .update_expression("SET #mc = :three, #del = :t")
        .expression_attribute_names("#mc", "_memberCount")
        .expression_attribute_names("#del", "_deleting")
        .expression_attribute_values(
            ":three",
            aws_sdk_dynamodb::types::AttributeValue::N("3".into()),
        )
        .expression_attribute_values(":t", s("2026-11-30T00:00:00.000Z"))
        .send()
        .await
        .unwrap();
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        env.store.delete_urn(lab.urn.as_any()),
    )
    .await
    .expect("the cascade finishes")
    .unwrap();
    assert_eq!(report.resource_count(), 1, "{report:?}");
    assert!(env.store.try_get(&lab.urn).await.unwrap().is_none());
    assert_ok(&env).await;
}
