//! The defects of the write protocol (the "Write protocol v2" issue), each reproduced
//! deterministically: a request held at the connector while the table moves, a table put in
//! the exact state an interrupted cascade leaves, or a fault injected at the request that
//! matters. Each failed before its fix.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ddbrel_runtime::codec;
use ddbrel_runtime::{Error, PageRequest, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::Fault;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample::{self, job};
use entities::{Account, Job, JobCollection, Label};

async fn collection(env: &TestEnv, account: &Stored<Account>, name: &str) -> Stored<JobCollection> {
    sample::collection(&env.store, account, name).await.unwrap()
}

async fn label(env: &TestEnv, account: &Stored<Account>, name: &str) -> Stored<Label> {
    sample::label(&env.store, account, name).await.unwrap()
}

/// Defect 2, children: the delete read the collection (one child, A) and queried its
/// partition; before its transaction commits, A is deleted and B created, which leaves the
/// count as read. The transaction must not commit over B (an orphan): it gives way to the
/// sweep, which deletes B too. (For children the delete of A's own item, conditioned on its
/// version, already cancels it; the record's existence condition is a second guard. The
/// membership variant below had no such guard and failed before the fix.)
#[tokio::test]
async fn count_preserving_child_churn_does_not_orphan_the_new_child() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("churn")).await.unwrap();
    let col = collection(&env, &account, "c").await;
    let a = env.store.create_child(&col, job("a")).await.unwrap();
    let col = env.store.get(&col.urn).await.unwrap();

    let mut held = env.gate.hold("TransactWriteItems", 1, None);
    let store = env.store.clone();
    let target = col.clone();
    let task = tokio::spawn(async move { store.delete(&target).await });
    held.arrived().await;
    // The churn: the gate held only that first transaction.
    let other = env.store.clone();
    let a = other.get(&a.urn).await.unwrap();
    other.delete(&a).await.unwrap();
    let b = other.create_child(&col, job("b")).await.unwrap();
    held.release();

    task.await.unwrap().unwrap();
    assert!(env.store.try_get(&col.urn).await.unwrap().is_none());
    assert!(
        env.store.try_get(&b.urn).await.unwrap().is_none(),
        "B is deleted with its collection, not orphaned"
    );
    assert_ok(&env).await;
}

/// Defect 2, members: the same with one membership removed and another added.
#[tokio::test]
async fn count_preserving_member_churn_does_not_orphan_the_new_membership() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("mchurn")).await.unwrap();
    let col = collection(&env, &account, "c").await;
    let lab = label(&env, &account, "l").await;
    let a = env.store.create_child(&col, job("a")).await.unwrap();
    let b = env.store.create_child(&col, job("b")).await.unwrap();
    env.store.add_member(&lab, &a).await.unwrap();
    let lab = env.store.get(&lab.urn).await.unwrap();

    let mut held = env.gate.hold("TransactWriteItems", 1, None);
    let store = env.store.clone();
    let target = lab.clone();
    let task = tokio::spawn(async move { store.delete(&target).await });
    held.arrived().await;
    env.store.remove_member(&lab.urn, &a.urn).await.unwrap();
    let b = env.store.get(&b.urn).await.unwrap();
    env.store.add_member(&lab, &b).await.unwrap();
    held.release();

    task.await.unwrap().unwrap();
    assert!(env.store.try_get(&lab.urn).await.unwrap().is_none());
    let b = env.store.get(&b.urn).await.unwrap();
    assert!(b.meta.member_of.is_empty(), "B left the deleted label");
    assert_ok(&env).await;
}

/// Defect 1: a cascade of a collection stopped right after its boundary step, which removed
/// the outside label's membership record of an inner job and decremented the label's
/// `_memberCount` (the job's `_memberOf` still names the label: the job is being deleted).
/// Deleting that job on its own then must not decrement the label's count a second time.
#[tokio::test]
async fn a_delete_after_a_partial_sweep_does_not_decrement_twice() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("partial")).await.unwrap();
    let col = collection(&env, &account, "inner").await;
    let outside = collection(&env, &account, "outside").await;
    let lab = label(&env, &account, "l").await;
    let inner = env.store.create_child(&col, job("inner")).await.unwrap();
    let other = env
        .store
        .create_child(&outside, job("other"))
        .await
        .unwrap();
    env.store.add_member(&lab, &inner).await.unwrap();
    let lab = env.store.get(&lab.urn).await.unwrap();
    env.store.add_member(&lab, &other).await.unwrap();

    // The state the boundary step leaves: the collection fenced, the crossing membership
    // record gone with its count.
    let table = env.store.table().to_string();
    let key = |pk: &str, sk: &str| {
        [
            ("PK".to_string(), AttributeValue::S(pk.into())),
            ("SK".to_string(), AttributeValue::S(sk.into())),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
    };
    env.raw
        .update_item()
        .table_name(&table)
        .set_key(Some(key(col.urn.as_str(), col.urn.as_str())))
        .update_expression("SET #d = :t")
        .expression_attribute_names("#d", "_deleting")
        .expression_attribute_values(":t", AttributeValue::S("2026-12-01T00:00:00.000Z".into()))
        .send()
        .await
        .unwrap();
    env.raw
        .delete_item()
        .table_name(&table)
        .set_key(Some(key(
            lab.urn.as_str(),
            &format!("member#{}", inner.urn),
        )))
        .send()
        .await
        .unwrap();
    env.raw
        .update_item()
        .table_name(&table)
        .set_key(Some(key(lab.urn.as_str(), lab.urn.as_str())))
        .update_expression("ADD #c :m1")
        .expression_attribute_names("#c", "_memberCount")
        .expression_attribute_values(":m1", AttributeValue::N("-1".into()))
        .send()
        .await
        .unwrap();

    let stale = env.store.get(&inner.urn).await.unwrap();
    assert_eq!(
        stale.meta.member_of.len(),
        1,
        "the job still names the label"
    );
    env.store.delete(&stale).await.unwrap();

    let lab = env.store.get(&lab.urn).await.unwrap();
    assert_eq!(
        lab.meta.member_count, 1,
        "one membership left, counted once"
    );
    let members = env
        .store
        .members(&lab.urn, PageRequest::all())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    // Finishing the cascade leaves a consistent table.
    env.store.delete_urn(col.urn.as_any()).await.unwrap();
    assert_ok(&env).await;
}

/// Defect 7: the size check counts the bookkeeping. A job in a label whose fields alone fit
/// under 400 KB but whose `_memberOf` takes it over is refused before sending.
#[tokio::test]
async fn an_update_over_400_kb_because_of_bookkeeping_is_item_too_large() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("big")).await.unwrap();
    let col = collection(&env, &account, "c").await;
    let mut labels = Vec::new();
    for i in 0..3 {
        labels.push(label(&env, &account, &format!("l{i}")).await);
    }
    let j = env.store.create_child(&col, job("j")).await.unwrap();
    for l in &labels {
        env.store.add_member(l, &j).await.unwrap();
    }
    let mut j = env.store.get(&j.urn).await.unwrap();
    // Fields that fit under 400 KB by less than what `_memberOf` takes.
    let item = env.raw_item(j.urn.as_str(), j.urn.as_str()).await.unwrap();
    let attr = |name: &str| name.len() + item.get(name).map_or(0, codec::value_size);
    let member_of = attr("_memberOf");
    assert!(member_of > 200, "three label URNs");
    let base = codec::item_size(&item) - attr("name") - member_of;
    j.data.name = "x".repeat(400 * 1024 - base - "name".len() - member_of / 2);
    let (res, counts) = env.counter.measure(env.store.update(&j)).await;
    match res {
        Err(Error::ItemTooLarge { key, .. }) => assert_eq!(key, j.urn.as_str()),
        other => panic!("expected ItemTooLarge before sending, got {other:?}"),
    }
    assert_eq!(counts.values().sum::<u64>(), 0, "nothing was sent");
}

/// Defect 8: a page size of 0 is an argument error, and a cursor whose key names another
/// partition or lacks the sort key is `InvalidCursor`, all before anything is sent.
#[tokio::test]
async fn bad_limits_and_forged_cursors_are_typed_errors() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("cursor")).await.unwrap();
    let col = collection(&env, &account, "c").await;
    let other = collection(&env, &account, "d").await;
    for i in 0..3 {
        env.store
            .create_child(&col, job(&format!("j{i}")))
            .await
            .unwrap();
    }
    env.counter.reset();
    let zero = env
        .store
        .children::<Job>(&col.urn, PageRequest::first(0))
        .await;
    assert!(
        matches!(zero, Err(Error::InvalidArgument { .. })),
        "{zero:?}"
    );

    let page = env
        .store
        .children::<Job>(&col.urn, PageRequest::first(1))
        .await
        .unwrap();
    let cursor = page.cursor.expect("more pages");
    let mut body: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&cursor).unwrap()).unwrap();
    let forge = |body: &serde_json::Value| URL_SAFE_NO_PAD.encode(body.to_string());

    let mut elsewhere = body.clone();
    elsewhere["k"]["PK"] = other.urn.to_string().into();
    let mut no_sort_key = body.clone();
    no_sort_key["k"].as_object_mut().unwrap().remove("SK");
    body["k"]["SK"] = "member#x".into();
    env.counter.reset();
    for forged in [forge(&elsewhere), forge(&no_sort_key), forge(&body)] {
        let res = env
            .store
            .children::<Job>(&col.urn, PageRequest::after(Some(1), forged))
            .await;
        assert!(matches!(res, Err(Error::InvalidCursor { .. })), "{res:?}");
    }
    assert_eq!(env.counter.total(), 0, "refused before sending");
}

/// Defect 9: when a create's outcome stays unknown, the error carries the URN the store
/// generated, so the caller can read it instead of creating a duplicate.
#[tokio::test]
async fn an_ambiguous_create_names_the_urn_it_generated() {
    let env = TestEnv::new().await;
    let tight = env
        .store
        .clone()
        .with_retry_policy(ddbrel_runtime::RetryPolicy {
            max_attempts: 2,
            base: std::time::Duration::from_millis(1),
            cap: std::time::Duration::from_millis(2),
        });
    env.faults
        .inject("TransactWriteItems", 1, 1000, Fault::ServerErrorAfterApply);
    let err = tight
        .create(sample::account("ambiguous"))
        .await
        .unwrap_err();
    env.faults.disarm();
    let Error::OutcomeUnknown { urn, .. } = &err else {
        panic!("expected OutcomeUnknown, got {err}");
    };
    let urn = ddbrel_runtime::Urn::<Account>::parse(urn).unwrap();
    // It was applied (the first attempt landed), once.
    assert!(env.store.try_get(&urn).await.unwrap().is_some());
    assert_eq!(
        env.scan_all().await.len(),
        2,
        "the account and its marker, once"
    );
}

/// Defect 3: the audit's Scan read a collection's `child#` records before a create and the
/// collection after it, so a correct count looked one too high. Repair must not lower it
/// below its records (the next leaf delete would orphan): it counts them afresh.
#[tokio::test]
async fn repair_never_lowers_a_count_below_its_records() {
    let env = TestEnv::new().await;
    let account = env.store.create(sample::account("recount")).await.unwrap();
    let col = collection(&env, &account, "c").await;
    for i in 0..2 {
        env.store
            .create_child(&col, job(&format!("j{i}")))
            .await
            .unwrap();
    }
    let late = env.store.create_child(&col, job("late")).await.unwrap();
    // What such a Scan returns: the late job's record and item missed, the count seen.
    let missed = format!("child#{}", late.urn);
    let items: Vec<_> = env
        .scan_all()
        .await
        .into_iter()
        .filter(|i| {
            let text = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
            text("SK") != Some(missed.clone()) && text("PK") != Some(late.urn.to_string())
        })
        .collect();
    let audit = ddbrel_runtime::integrity::Audit::of_items(&items);
    assert!(
        audit
            .findings
            .iter()
            .any(|f| f.key == col.urn.as_str() && f.message.contains("_childCount")),
        "the audit sees a count too high: {:?}",
        audit.findings
    );

    ddbrel_runtime::integrity::repair(&env.store, &audit)
        .await
        .unwrap();
    let col = env.store.get(&col.urn).await.unwrap();
    assert_eq!(
        col.meta.child_count, 3,
        "the count still covers every record"
    );
    assert_ok(&env).await;
}

/// Defect 6: a read of a URN that was then deleted and created again (the `*_with_urn`
/// creates) must not be trusted: an update through it would pass the version check (both
/// incarnations are at version 1) and overwrite the new resource; a child created through it
/// would copy the old account and ancestors; a delete through it would delete the new one.
#[tokio::test]
async fn a_read_of_an_earlier_incarnation_is_not_trusted() {
    let env = TestEnv::new().await;
    let first = env.store.create(sample::account("one")).await.unwrap();
    let second = env.store.create(sample::account("two")).await.unwrap();
    let urn = ddbrel_runtime::Urn::<JobCollection>::new();
    let old = env
        .store
        .create_child_with_urn(
            &first,
            urn.clone(),
            JobCollection {
                name: "c".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    let gone = env.store.get(&urn).await.unwrap();
    env.store.delete(&gone).await.unwrap();
    let new = env
        .store
        .create_child_with_urn(
            &second,
            urn.clone(),
            JobCollection {
                name: "c".into(),
                description: Some("the new one".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(new.meta.version, old.meta.version, "both at version 1");

    let mut stale = old.clone();
    stale.data.description = Some("overwritten".into());
    let update = env.store.update(&stale).await;
    assert!(
        matches!(update, Err(Error::ChangedMeanwhile { .. })),
        "{update:?}"
    );

    let child = env.store.create_child(&old, job("j")).await;
    assert!(
        matches!(child, Err(Error::ChangedMeanwhile { .. })),
        "{child:?}"
    );

    let delete = env.store.delete(&old).await;
    assert!(
        matches!(delete, Err(Error::ChangedMeanwhile { .. })),
        "{delete:?}"
    );

    let now = env.store.get(&urn).await.unwrap();
    assert_eq!(now.data.description.as_deref(), Some("the new one"));
    assert_eq!(now.meta.account.as_ref(), Some(second.urn.as_any()));
    assert_eq!(now.meta.child_count, 0);
    assert_ok(&env).await;
}

/// A cascade killed part way (here at its third transaction of leaves) resumes at the cost of
/// what is left: nothing it deleted is read again, so the resume costs less than a fresh
/// cascade of the same tree (before write protocol v2, about twice as much: one Query per
/// resource already deleted).
#[tokio::test]
async fn a_resumed_cascade_costs_what_is_left() {
    let shape = (2, 150, 0, 0);
    // The fresh cost, on a twin.
    let twin = TestEnv::new().await;
    let t = sample::build_tree(&twin.store, shape.0, shape.1, shape.2, shape.3)
        .await
        .unwrap();
    twin.counter.reset();
    twin.store.delete_urn(t.account.urn.as_any()).await.unwrap();
    let fresh = twin.counter.total();

    let env = TestEnv::new().await;
    let t = sample::build_tree(&env.store, shape.0, shape.1, shape.2, shape.3)
        .await
        .unwrap();
    let total = env.scan_all().await.len();
    // Stop the sweep at its third transaction: the task is dropped with the request parked,
    // as a killed process.
    let mut held = env.gate.hold("TransactWriteItems", 3, None);
    let store = env.store.clone();
    let root = t.account.urn.as_any().clone();
    env.counter.reset();
    let task = tokio::spawn(async move { store.delete_urn(&root).await });
    held.arrived().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    drop(held);
    let first = env.counter.total();
    let left = env.scan_all().await.len();
    assert!(left < total, "the killed run deleted something");
    assert!(
        left > total / 2,
        "and left most of the tree: {left} of {total}"
    );

    env.counter.reset();
    env.store.delete_urn(t.account.urn.as_any()).await.unwrap();
    let resumed = env.counter.total();
    assert!(
        resumed < fresh,
        "resume took {resumed} requests after {first}, a fresh cascade {fresh}: {:?}",
        env.counter.snapshot()
    );
    assert!(env.scan_all().await.is_empty());
    assert_ok(&env).await;
}
