//! The fault suite: what DynamoDB does under load and no local engine reproduces, injected in
//! the SDK client against the real engine. Nothing may be lost or applied twice, and when the
//! retry budget runs out the error says what was and was not applied.

use ddbrel_runtime::{DeleteOptions, Entity, Error, PageRequest, RetryPolicy, Root};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::Fault;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample::{self, build_tree, job};
use entities::{Job, Label};
use serde::{Deserialize, Serialize};

/// A root without unique constraints: created with a plain PutItem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
#[urn(type = "Test.Plain")]
struct Plain {
    n: u32,
}

fn _is_root<T: Root>() {}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_and_applied_once() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let account = store.create(sample::account("t")).await.unwrap();
    let col = store
        .create_child(
            &account,
            entities::JobCollection {
                name: "c".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    for fault in [Fault::Throttle, Fault::ServerError] {
        env.faults.inject("TransactWriteItems", 1, 2, fault);
        let (j, counts) = env
            .counter
            .measure(store.create_child(&col, job("x")))
            .await;
        let j = j.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        env.faults.disarm();
        assert_eq!(
            counts.get("TransactWriteItems"),
            Some(&3),
            "{fault:?}: two faults, then success"
        );
        assert!(store.get(&j.urn).await.is_ok());
    }
    let jobs = store
        .children::<Job>(&col.urn, PageRequest::all())
        .await
        .unwrap();
    assert_eq!(jobs.items.len(), 2, "each create applied once");
    assert_ok(&env).await;
}

#[tokio::test]
async fn a_500_after_the_write_landed_is_not_applied_twice() {
    let env = TestEnv::new().await;
    let store = &env.store;
    // Transaction: the SDK retries with the same ClientRequestToken.
    env.faults
        .inject("TransactWriteItems", 1, 1, Fault::ServerErrorAfterApply);
    let a = store.create(sample::account("amb")).await.unwrap();
    assert_eq!(env.faults.injected(), 1);
    env.faults.disarm();
    assert_eq!(
        env.scan_all().await.len(),
        2,
        "the account and its slug marker, once"
    );

    // PutItem: the retry hits its own condition; the store recognizes its own write.
    env.faults
        .inject("PutItem", 1, 1, Fault::ServerErrorAfterApply);
    let p = store.create(Plain { n: 1 }).await.unwrap();
    env.faults.disarm();
    assert_eq!(store.get(&p.urn).await.unwrap().meta.version, 1);

    // UpdateItem: likewise, the version moves by exactly one.
    let mut a2 = a.clone();
    a2.data.name = "renamed".into();
    env.faults
        .inject("UpdateItem", 1, 1, Fault::ServerErrorAfterApply);
    let updated = store.update(&a2).await.unwrap();
    env.faults.disarm();
    assert_eq!(updated.meta.version, 2);
    let now = store.get(&a.urn).await.unwrap();
    assert_eq!(now.meta.version, 2);
    assert_eq!(now.data.name, "renamed");
    // A real conflict is still a conflict.
    let mut stale = a.clone();
    stale.data.name = "stale".into();
    assert!(matches!(
        store.update(&stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_ok(&env).await;
}

#[tokio::test]
async fn transaction_conflicts_are_retried_until_the_budget_and_named() {
    let env = TestEnv::new().await;
    let store = &env.store;
    env.faults
        .inject("TransactWriteItems", 1, 3, Fault::TransactionConflict);
    let a = store.create(sample::account("tc")).await.unwrap();
    env.faults.disarm();
    assert!(store.get(&a.urn).await.is_ok());

    // A conflict that never clears: the budget runs out, nothing was applied, and the error
    // says the operation may be retried.
    let tight = store.clone().with_retry_policy(RetryPolicy {
        max_attempts: 4,
        base: std::time::Duration::from_millis(1),
        cap: std::time::Duration::from_millis(2),
    });
    env.faults
        .inject("TransactWriteItems", 1, 1000, Fault::TransactionConflict);
    let before = env.scan_all().await.len();
    let (res, counts) = env
        .counter
        .measure(tight.create(sample::account("never")))
        .await;
    env.faults.disarm();
    let err = res.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    // Conflicts are named as such, not as throttling (write protocol defect 5).
    assert!(matches!(err, Error::Contended { attempts: 4, .. }), "{err}");
    assert_eq!(counts.get("TransactWriteItems"), Some(&4));
    assert_eq!(env.scan_all().await.len(), before, "nothing applied");
}

#[tokio::test]
async fn unprocessed_batch_items_and_keys_are_retried() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 2, 40, 1, 2).await.unwrap();

    // BatchGetItem leaves half unprocessed: the page still has every child.
    env.faults.inject("BatchGetItem", 1, 3, Fault::Unprocessed);
    let page = store
        .children_with_data::<Job>(&tree.collections[0].urn, PageRequest::first(100))
        .await
        .unwrap();
    env.faults.disarm();
    assert_eq!(page.items.len(), 40);

    // BatchWriteItem leaves half of several batches unprocessed: every item is still deleted.
    let keys: Vec<(String, String)> = env
        .scan_all()
        .await
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_s().unwrap().clone();
            (s("PK"), s("SK"))
        })
        .collect();
    env.faults
        .inject("BatchWriteItem", 1, 6, Fault::Unprocessed);
    let deleted = store.batch_delete(keys.clone(), &|_| {}).await.unwrap();
    assert!(env.faults.injected() >= 6);
    env.faults.disarm();
    assert_eq!(deleted, keys.len());
    assert!(env.scan_all().await.is_empty());
}

#[tokio::test]
async fn a_cascade_whose_retries_run_out_leaves_a_consistent_table_and_resumes() {
    let env = TestEnv::new().await;
    let store = env.store.clone().with_retry_policy(RetryPolicy {
        max_attempts: 3,
        base: std::time::Duration::from_millis(1),
        cap: std::time::Duration::from_millis(2),
    });
    let tree = build_tree(&store, 2, 30, 1, 1).await.unwrap();
    let total = env.scan_all().await.len();
    // The first two transactions of the sweep land; every later one meets a conflict.
    env.faults
        .inject("TransactWriteItems", 3, 10_000, Fault::TransactionConflict);
    let err = store
        .delete_with(
            tree.account.urn.as_any(),
            DeleteOptions {
                force_sweep: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    env.faults.disarm();
    assert!(matches!(err, Error::Contended { attempts: 3, .. }), "{err}");
    assert!(err.is_retryable(), "{err}");
    let left = env.scan_all().await.len();
    assert!(left < total, "the first transactions deleted something");
    assert_ok(&env).await;
    // The root is fenced; delete again finishes.
    assert!(
        store
            .get(&tree.account.urn)
            .await
            .unwrap()
            .meta
            .deleting
            .is_some()
    );
    store.delete_urn(tree.account.urn.as_any()).await.unwrap();
    assert!(env.scan_all().await.is_empty());
}

#[tokio::test]
async fn memberships_under_faults_are_exact() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let tree = build_tree(store, 1, 6, 0, 0).await.unwrap();
    let label = store
        .create_child(
            &tree.account,
            Label {
                name: "l".into(),
                color: "c".into(),
            },
        )
        .await
        .unwrap();
    for (i, j) in tree.jobs.iter().enumerate() {
        let fault = [
            Fault::Throttle,
            Fault::ServerError,
            Fault::ServerErrorAfterApply,
            Fault::TransactionConflict,
        ][i % 4];
        env.faults.inject("TransactWriteItems", 1, 1, fault);
        store.add_member(&label, j).await.unwrap();
        env.faults.disarm();
    }
    let l = store.get(&label.urn).await.unwrap();
    assert_eq!(l.meta.member_count, 6, "each membership counted once");
    assert_ok(&env).await;
}

/// Write protocol defect 5: a single-item write on an item a transaction holds gets
/// TransactionConflictException. It is retried with backoff (the update, the lone-root create
/// and the cascade's fence all go through one sender), and when the budget runs out it is
/// named `Contended`, never `Service` or `Throttled`.
#[tokio::test]
async fn single_item_writes_retry_transaction_conflicts_and_name_them() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let a = store.create(sample::account("busy")).await.unwrap();

    // An update that collides twice, then lands: three UpdateItems, one version step.
    let mut a2 = a.clone();
    a2.data.name = "renamed".into();
    env.faults.inject("UpdateItem", 1, 2, Fault::ItemConflict);
    let (res, counts) = env.counter.measure(store.update(&a2)).await;
    env.faults.disarm();
    assert_eq!(res.unwrap().meta.version, 2);
    assert_eq!(counts.get("UpdateItem"), Some(&3));
    assert_eq!(env.faults.injected(), 2);

    // A lone root whose PutItem collides once.
    env.faults.inject("PutItem", 1, 1, Fault::ItemConflict);
    let p = store.create(Plain { n: 7 }).await.unwrap();
    env.faults.disarm();
    assert_eq!(store.get(&p.urn).await.unwrap().meta.version, 1);

    // One that never clears: Contended after the budget, nothing applied.
    let tight = store.clone().with_retry_policy(RetryPolicy {
        max_attempts: 3,
        base: std::time::Duration::from_millis(1),
        cap: std::time::Duration::from_millis(2),
    });
    let now = store.get(&a.urn).await.unwrap();
    let mut a3 = now.clone();
    a3.data.name = "never".into();
    env.faults
        .inject("UpdateItem", 1, 1000, Fault::ItemConflict);
    let err = tight.update(&a3).await.unwrap_err();
    env.faults.disarm();
    assert!(
        matches!(
            &err,
            Error::Contended {
                operation: "UpdateItem",
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(store.get(&a.urn).await.unwrap().meta.version, 2);
    assert_ok(&env).await;
}

/// Defect 5's token rule: after a definite cancellation (a TransactionConflict: nothing was
/// applied) the retry is a new request with a fresh ClientRequestToken, not a replay of the
/// cancelled one. Both attempts are held at the connector and their bodies read.
#[tokio::test]
async fn a_retry_after_a_definite_conflict_takes_a_fresh_token() {
    let env = TestEnv::new().await;
    env.faults
        .inject("TransactWriteItems", 1, 1, Fault::TransactionConflict);
    let token = |body: &str| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["ClientRequestToken"].as_str().unwrap().to_string()
    };
    // The conflicted attempt is re-targeted by the injector before it reaches the connector.
    let mut first = env.gate.hold("DdbrelInjectedFault", 1, None);
    let store = env.store.clone();
    let task = tokio::spawn(async move { store.create(sample::account("token")).await });
    let t1 = token(&first.arrived().await);
    let mut second = env.gate.hold("TransactWriteItems", 1, None);
    first.release();
    let t2 = token(&second.arrived().await);
    second.release();
    task.await.unwrap().unwrap();
    env.faults.disarm();
    assert_eq!(env.faults.injected(), 1);
    assert_ne!(
        t1, t2,
        "a definite cancellation is not replayed under its token"
    );
    assert_ok(&env).await;
}
