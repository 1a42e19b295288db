//! Composed transactions: typed steps committed as one TransactWriteItems, merged per item,
//! all or nothing (a crash injected at the request), named errors per step, limits checked
//! before sending.

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::wire::expr::Expr;
use ddbrel_runtime::{Error, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::FaultMode;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample::{self, job};
use entities::{Account, JobCollection, Label, Plan};

struct World {
    env: TestEnv,
    account: Stored<Account>,
    col: Stored<JobCollection>,
    red: Stored<Label>,
    blue: Stored<Label>,
}

async fn world() -> World {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("tx")).await.unwrap();
    let col = sample::collection(&env.store, &account, "c").await.unwrap();
    let red = sample::label(&env.store, &account, "red").await.unwrap();
    let blue = sample::label(&env.store, &account, "blue").await.unwrap();
    env.counter.reset();
    World {
        env,
        account,
        col,
        red,
        blue,
    }
}

fn on_plan(plan: &str) -> Expr {
    Expr::new("#plan = :plan")
        .name("#plan", "plan")
        .value(":plan", AttributeValue::S(plan.into()))
}

fn n(item: &ddbrel_runtime::Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_n().ok()).cloned()
}

fn ss(item: &ddbrel_runtime::Item, name: &str) -> Vec<String> {
    let mut v = item
        .get(name)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    v.sort();
    v
}

/// The transaction: a child, two memberships of it, an update of the account and a
/// condition on the account, in one request.
async fn the_transaction(
    w: &World,
) -> Result<
    (
        ddbrel_runtime::Committed,
        ddbrel_runtime::Pending<entities::Job>,
    ),
    ddbrel_runtime::CommitError,
> {
    let mut renamed = w.account.clone();
    renamed.data.name = "Renamed in a transaction".into();
    let mut t = w.env.store.transaction();
    let j = t.create_child(&w.col, job("composed"));
    t.add_member(&w.red, &j);
    t.add_member(&w.blue, &j);
    t.update(&renamed);
    t.require(
        &w.account.urn,
        on_plan("team"),
        "the account is on plan Team",
    );
    t.commit().await.map(|c| (c, j))
}

#[tokio::test]
async fn a_composed_transaction_lands_whole_in_one_request() {
    let w = world().await;
    let (done, j) = the_transaction(&w).await.expect("commits");
    assert_eq!(
        w.env.counter.snapshot(),
        [("TransactWriteItems".to_string(), 1)].into(),
        "one request"
    );
    let job = done.stored(&j).expect("a step of this transaction");
    let stored = w.env.store.get(&job.urn).await.unwrap();
    assert_eq!(stored.data.name, "composed");
    // The member was created in the same transaction: its _memberOf is in its Put.
    let raw = w
        .env
        .raw_item(job.urn.as_str(), job.urn.as_str())
        .await
        .unwrap();
    let mut both = vec![w.red.urn.to_string(), w.blue.urn.to_string()];
    both.sort();
    assert_eq!(ss(&raw, "_memberOf"), both);
    assert_eq!(n(&raw, "_version").as_deref(), Some("1"));
    for label in [&w.red, &w.blue] {
        let raw = w
            .env
            .raw_item(label.urn.as_str(), label.urn.as_str())
            .await
            .unwrap();
        assert_eq!(n(&raw, "_memberCount").as_deref(), Some("1"));
    }
    let col = w
        .env
        .raw_item(w.col.urn.as_str(), w.col.urn.as_str())
        .await
        .unwrap();
    assert_eq!(n(&col, "_childCount").as_deref(), Some("1"));
    let acct = w.env.store.get(&w.account.urn).await.unwrap();
    assert_eq!(acct.data.name, "Renamed in a transaction");
    assert_eq!(acct.meta.version, 2);
    assert_ok(&w.env).await;
}

#[tokio::test]
async fn a_crash_at_the_request_leaves_all_or_nothing() {
    // Crashed before the request is sent: nothing of it is in the table.
    let w = world().await;
    let before = w.env.scan_all().await.len();
    w.env.faults.arm(1, FaultMode::BeforeSend);
    the_transaction(&w).await.expect_err("the process died");
    w.env.faults.disarm();
    assert_eq!(w.env.scan_all().await.len(), before, "nothing applied");
    assert_eq!(
        w.env.store.get(&w.account.urn).await.unwrap().meta.version,
        1
    );
    assert_ok(&w.env).await;

    // Crashed after DynamoDB applied it (the response lost): all of it is in the table.
    let w = world().await;
    let before = w.env.scan_all().await.len();
    w.env.faults.arm(1, FaultMode::AfterResponse);
    the_transaction(&w)
        .await
        .expect_err("the response was lost");
    w.env.faults.disarm();
    // The job, its record, two membership records.
    assert_eq!(
        w.env.scan_all().await.len(),
        before + 4,
        "everything applied"
    );
    assert_eq!(
        w.env.store.get(&w.account.urn).await.unwrap().meta.version,
        2
    );
    assert_ok(&w.env).await;
}

#[tokio::test]
async fn steps_on_one_item_are_merged() {
    let w = world().await;
    let mut t = w.env.store.transaction();
    // Two children of one parent: one count update of 2.
    let a = t.create_child(&w.col, job("a"));
    let b = t.create_child(&w.col, job("b"));
    // A collection created in this transaction, with a child and a member: its Put carries
    // both counts.
    let new_col = t.create_child(
        &w.account,
        JobCollection {
            name: "new".into(),
            description: None,
        },
    );
    let c = t.create_child(&new_col, job("c"));
    t.add_member(&w.red, &a);
    t.add_member(&w.red, &b);
    let done = t.commit().await.expect("commits");
    assert_eq!(w.env.counter.total(), 1);
    let col = w
        .env
        .raw_item(w.col.urn.as_str(), w.col.urn.as_str())
        .await
        .unwrap();
    assert_eq!(n(&col, "_childCount").as_deref(), Some("2"));
    let new_col = done.stored(&new_col).unwrap();
    let raw = w
        .env
        .raw_item(new_col.urn.as_str(), new_col.urn.as_str())
        .await
        .unwrap();
    assert_eq!(n(&raw, "_childCount").as_deref(), Some("1"));
    let red = w
        .env
        .raw_item(w.red.urn.as_str(), w.red.urn.as_str())
        .await
        .unwrap();
    assert_eq!(n(&red, "_memberCount").as_deref(), Some("2"));
    let acct = w
        .env
        .raw_item(w.account.urn.as_str(), w.account.urn.as_str())
        .await
        .unwrap();
    assert_eq!(
        n(&acct, "_childCount").as_deref(),
        Some("4"),
        "3 from set-up, 1 now"
    );
    let c = w
        .env
        .store
        .get(&done.stored(&c).unwrap().urn)
        .await
        .unwrap();
    assert_eq!(
        c.meta.parent.as_ref().map(ToString::to_string),
        Some(new_col.urn.to_string())
    );
    assert_ok(&w.env).await;
}

#[tokio::test]
async fn a_failed_step_is_named_and_nothing_is_applied() {
    let w = world().await;
    let before = w.env.scan_all().await.len();
    // The caller's condition fails (the account is on plan Team, not Enterprise).
    let mut t = w.env.store.transaction();
    t.create_child(&w.col, job("x"));
    t.require(
        &w.account.urn,
        on_plan("enterprise"),
        "the account is on plan Enterprise",
    );
    let e = t.commit().await.expect_err("the condition fails");
    assert_eq!(e.step, Some(1));
    assert!(
        matches!(&e.error, Error::ConditionFailed { urn, condition }
            if urn == w.account.urn.as_str() && condition == "the account is on plan Enterprise"),
        "{e}"
    );
    // The caller's condition on an item another step writes joins that write; when it
    // fails, it is the condition's step that is named, not the update's.
    let mut renamed = w.account.clone();
    renamed.data.name = "never".into();
    let mut t = w.env.store.transaction();
    t.update(&renamed);
    t.require(&w.account.urn, on_plan("enterprise"), "on plan Enterprise");
    let e = t.commit().await.expect_err("the condition fails");
    assert_eq!(e.step, Some(1), "{e}");
    assert!(matches!(e.error, Error::ConditionFailed { .. }), "{e}");
    // A unique value held elsewhere: the step that wanted it.
    let mut t = w.env.store.transaction();
    t.create_child(&w.col, job("y"));
    t.create_child(
        &w.account,
        JobCollection {
            name: "c".into(),
            description: None,
        },
    );
    let e = t.commit().await.expect_err("the name is taken");
    assert_eq!(e.step, Some(1));
    assert!(
        matches!(&e.error, Error::UniqueViolation { holder: Some(h), .. } if h == w.col.urn.as_str()),
        "{e}"
    );
    // An update from a stale read.
    let mut stale = w.account.clone();
    w.env.store.update(&w.account).await.unwrap();
    stale.data.plan = Plan::Free;
    let mut t = w.env.store.transaction();
    t.create_child(&w.col, job("z"));
    t.update(&stale);
    let e = t.commit().await.expect_err("stale");
    assert_eq!(e.step, Some(1));
    assert!(
        matches!(
            e.error,
            Error::Conflict {
                expected: 1,
                current: Some(2),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(w.env.scan_all().await.len(), before, "nothing applied");
    assert_ok(&w.env).await;
}

#[tokio::test]
async fn a_transaction_over_the_limits_is_refused_before_sending() {
    let w = world().await;
    let mut t = w.env.store.transaction();
    // Each child is 2 actions (its item and its record) plus one merged count: 50 children
    // are 101 actions.
    for i in 0..50 {
        t.create_child(&w.col, job(&format!("j{i}")));
    }
    let e = t.commit().await.expect_err("over 100 actions");
    assert!(
        matches!(e.error, Error::TransactionTooLarge { actions: 101, .. }),
        "{e}"
    );
    assert_eq!(w.env.counter.total(), 0, "nothing sent");
    // 49 children fit: 99 actions.
    let mut t = w.env.store.transaction();
    for i in 0..49 {
        t.create_child(&w.col, job(&format!("j{i}")));
    }
    t.commit().await.expect("99 actions");
    assert_eq!(w.env.counter.total(), 1);
    assert_ok(&w.env).await;
}

#[tokio::test]
async fn two_writes_of_one_item_that_cannot_merge_are_refused() {
    let w = world().await;
    let mut t = w.env.store.transaction();
    t.update(&w.account);
    t.update(&w.account);
    let e = t.commit().await.expect_err("one item twice");
    assert_eq!(e.step, Some(1));
    assert!(matches!(e.error, Error::InvalidArgument { .. }), "{e}");
    assert_eq!(w.env.counter.total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_composed_transactions_all_land() {
    let env = TestEnv::new().await;
    ddbrel_tests::concurrency::composed_transactions_all_land(&env, 16).await;
}

#[tokio::test]
async fn a_leaf_is_deleted_with_its_records_in_the_transaction() {
    let w = world().await;
    let j = w.env.store.create_child(&w.col, job("old")).await.unwrap();
    w.env.store.add_member(&w.red, &j).await.unwrap();
    let j = w.env.store.get(&j.urn).await.unwrap();
    w.env.counter.reset();
    let mut t = w.env.store.transaction();
    t.delete_leaf(&j);
    let new = t.create_child(&w.col, job("new"));
    t.add_member(&w.red, &new);
    t.commit().await.expect("commits");
    assert_eq!(w.env.counter.total(), 1);
    assert!(w.env.store.try_get(&j.urn).await.unwrap().is_none());
    let col = w.env.store.get(&w.col.urn).await.unwrap();
    let red = w.env.store.get(&w.red.urn).await.unwrap();
    // -1 and +1 on each, merged into one update of each.
    assert_eq!((col.meta.child_count, red.meta.member_count), (1, 1));
    assert_ok(&w.env).await;
    // A resource that was not a leaf when read is refused before sending.
    let mut t = w.env.store.transaction();
    t.delete_leaf(&col);
    let e = t.commit().await.expect_err("not a leaf");
    assert!(matches!(e.error, Error::InvalidArgument { .. }), "{e}");
    // A leaf changed since it was read: the delete's step is named.
    let mut t = w.env.store.transaction();
    let stale = w.env.store.get(&done_urn(&w).await).await.unwrap();
    w.env.store.update(&stale).await.unwrap();
    t.delete_leaf(&stale);
    let e = t.commit().await.expect_err("stale");
    assert_eq!(e.step, Some(0));
    assert!(matches!(e.error, Error::Conflict { .. }), "{e}");
    assert_ok(&w.env).await;
}

/// The URN of the one job left under the world's collection.
async fn done_urn(w: &World) -> ddbrel_runtime::urn::Urn<entities::Job> {
    let page = w
        .env
        .store
        .children::<entities::Job>(&w.col.urn, ddbrel_runtime::PageRequest::first(10))
        .await
        .unwrap();
    page.items[0].clone()
}

/// A patch joins a transaction as a value: on a collection that a child create in the same
/// transaction also counts, and on a job another step adds to a label, each item written
/// once (the patch's update and the bookkeeping merged into one clause of each kind).
#[tokio::test]
async fn a_patch_joins_a_transaction_and_merges_with_bookkeeping() {
    let w = world().await;
    let store = &w.env.store;
    let j = store.create_child(&w.col, job("patched")).await.unwrap();
    w.env.counter.reset();
    let mut t = store.transaction();
    let child = t.create_child(&w.col, job("new"));
    let described = t.patch(
        store
            .patch(&w.col.urn)
            .set(JobCollection::fields().description, Some("nightly".into())),
    );
    t.patch(
        store
            .patch(&j.urn)
            .set(entities::Job::fields().status, entities::JobStatus::Paused),
    );
    t.add_member(&w.red, &j);
    assert_eq!(described, 1, "the patch's step number");
    let done = t.commit().await.expect("commits");
    assert_eq!(
        w.env.counter.snapshot(),
        [("TransactWriteItems".to_string(), 1)].into()
    );
    assert!(done.stored(&child).is_some());
    let col = store.get(&w.col.urn).await.unwrap();
    assert_eq!(col.data.description.as_deref(), Some("nightly"));
    assert_eq!(col.meta.version, w.col.meta.version + 1);
    let raw = w
        .env
        .raw_item(w.col.urn.as_str(), w.col.urn.as_str())
        .await
        .unwrap();
    assert_eq!(n(&raw, "_childCount").as_deref(), Some("2"));
    let job_raw = w
        .env
        .raw_item(j.urn.as_str(), j.urn.as_str())
        .await
        .unwrap();
    assert_eq!(ss(&job_raw, "_memberOf"), vec![w.red.urn.to_string()]);
    let job_now = store.get(&j.urn).await.unwrap();
    assert_eq!(job_now.data.status, entities::JobStatus::Paused);
    assert_eq!(job_now.meta.version, 2);
    assert_ok(&w.env).await;
}

/// A patch step's failure is named as the patch alone would name it, and nothing lands; a
/// patch of a unique field cannot join (it reads first) and nothing is sent.
#[tokio::test]
async fn a_patch_step_that_fails_is_named_and_nothing_lands() {
    let w = world().await;
    let store = &w.env.store;
    let mut t = store.transaction();
    let child = t.create_child(&w.col, job("never"));
    t.patch(
        store
            .patch(&w.account.urn)
            .set(Account::fields().name, "stale".to_string())
            .expect_version(w.account.meta.version + 1),
    );
    let err = t.commit().await.expect_err("the version moved on");
    assert_eq!(err.step, Some(1));
    assert!(
        matches!(
            err.error,
            Error::Conflict {
                current: Some(1),
                ..
            }
        ),
        "{err}"
    );
    assert!(
        w.env
            .raw_item(child.urn().as_str(), child.urn().as_str())
            .await
            .is_none()
    );
    assert_eq!(
        store.get(&w.account.urn).await.unwrap().data.name,
        w.account.data.name
    );

    w.env.counter.reset();
    let mut t = store.transaction();
    t.patch(
        store
            .patch(&w.col.urn)
            .set(JobCollection::fields().name, "renamed".to_string()),
    );
    let err = t.commit().await.expect_err("a unique field");
    assert_eq!(err.step, Some(0));
    assert!(matches!(err.error, Error::InvalidArgument { .. }), "{err}");
    assert_eq!(w.env.counter.total(), 0, "refused before sending");
    assert_ok(&w.env).await;
}
