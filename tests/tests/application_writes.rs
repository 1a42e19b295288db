//! Application writes built on the protocol: read-modify-write with retry (`update_with`),
//! get-or-create and upsert by unique value. Races are forced deterministically: a concurrent
//! writer runs inside the closure, or a request is held at the gate while the model's manual
//! clock keeps a transaction committing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ddbrel_model::{Clock, ModelConfig};
use ddbrel_runtime::{Error, GetOrCreated, Store, UpdateWithError, Upserted};
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::{TestEnv, concurrency, sample};
use entities::{Account, Plan};

fn account(name: &str, slug: &str) -> Account {
    Account {
        name: name.into(),
        slug: slug.into(),
        plan: Plan::Free,
    }
}

/// The first run of the closure lets another writer update the account first: the update is
/// refused on its version, the account read again, and the closure applied again to what the
/// other writer left; both changes are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_with_reads_again_and_reapplies_after_a_conflict() {
    let env = TestEnv::new().await;
    let a = env.store.create(account("base", "rmw")).await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let other = env.store.clone();
    let updated = env
        .store
        .update_with(&a.urn, |acct: &mut Account| {
            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                // The other writer lands between this read and this write.
                let mut theirs = a.clone();
                theirs.data.plan = Plan::Team;
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(other.update(&theirs))
                })
                .expect("the other writer's update");
            }
            acct.name.push_str(" +mine");
            Ok::<(), std::convert::Infallible>(())
        })
        .await
        .expect("lands on the second attempt");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "applied to each version read"
    );
    assert_eq!(updated.meta.version, 3);
    let now = env.store.get(&a.urn).await.unwrap();
    assert_eq!(now.data.name, "base +mine");
    assert_eq!(
        now.data.plan,
        Plan::Team,
        "the other writer's change is kept"
    );
    assert_ok(&env).await;
}

#[tokio::test]
async fn update_with_aborted_writes_nothing_and_costs_one_read() {
    let env = TestEnv::new().await;
    let a = env.store.create(account("base", "abort")).await.unwrap();
    env.counter.reset();
    let err = env
        .store
        .update_with(&a.urn, |acct: &mut Account| {
            if acct.plan == Plan::Free {
                return Err("free accounts stay as they are");
            }
            acct.name.clear();
            Ok(())
        })
        .await
        .expect_err("aborted");
    assert!(
        matches!(
            err,
            UpdateWithError::Aborted("free accounts stay as they are")
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the update was aborted: free accounts stay as they are"
    );
    assert_eq!(env.counter.snapshot(), [("GetItem".to_string(), 1)].into());
    assert_eq!(env.store.get(&a.urn).await.unwrap().meta.version, 1);
    // A resource that is not there is the store's error.
    let missing = ddbrel_runtime::urn::Urn::<Account>::new();
    let err = env
        .store
        .update_with(&missing, |_: &mut Account| Ok::<(), &str>(()))
        .await
        .expect_err("not found");
    assert!(
        matches!(err, UpdateWithError::Store(Error::NotFound { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn get_or_create_creates_once_then_returns_the_holder() {
    let env = TestEnv::new().await;
    env.counter.reset();
    let first = env
        .store
        .get_or_create(account("first", "Acme"))
        .await
        .unwrap();
    assert!(first.was_created());
    assert_eq!(env.counter.total(), 1, "a free value: the create alone");
    env.counter.reset();
    // Same value, another case (the constraint is case-insensitive), other data.
    let second = env
        .store
        .get_or_create(account("second", "ACME"))
        .await
        .unwrap();
    let GetOrCreated::Existing(found) = &second else {
        panic!("expected the holder, got {second:?}");
    };
    assert_eq!(found.urn, first.stored().urn);
    assert_eq!(
        found.data.name, "first",
        "the holder as it is; the new data is dropped"
    );
    assert_eq!(
        env.counter.snapshot(),
        [
            ("GetItem".to_string(), 1),
            ("TransactWriteItems".to_string(), 1)
        ]
        .into(),
        "the refused create, then the holder DynamoDB named"
    );
    assert_ok(&env).await;
    assert_eq!(concurrency::markers(&env).await.len(), 1);
}

#[tokio::test]
async fn get_or_create_child_and_upsert_work_under_a_parent() {
    let env = TestEnv::new().await;
    let acct = env.store.create(sample::account("p")).await.unwrap();
    let user = |name: &str, email: &str| entities::User {
        display_name: name.into(),
        email: email.into(),
    };
    let a = env
        .store
        .get_or_create_child(&acct, user("Ann", "ann@example.com"))
        .await
        .unwrap();
    assert!(a.was_created());
    let b = env
        .store
        .get_or_create_child(&acct, user("Other", "ANN@example.com"))
        .await
        .unwrap();
    assert!(!b.was_created());
    assert_eq!(b.stored().urn, a.stored().urn);
    // Upsert: the holder takes the new data, at its next version.
    let up = env
        .store
        .upsert_child(&acct, user("Ann Smith", "ann@example.com"))
        .await
        .unwrap();
    let Upserted::Updated(up) = up else {
        panic!("expected an update, got {up:?}");
    };
    assert_eq!(
        (up.urn.clone(), up.meta.version),
        (a.stored().urn.clone(), 2)
    );
    assert_eq!(
        env.store.get(&up.urn).await.unwrap().data.display_name,
        "Ann Smith"
    );
    // Another value: created.
    let new = env
        .store
        .upsert_child(&acct, user("Bob", "bob@example.com"))
        .await
        .unwrap();
    assert!(matches!(new, Upserted::Created(_)));
    // A root upsert.
    let r = env.store.upsert(account("one", "solo")).await.unwrap();
    assert!(matches!(r, Upserted::Created(_)));
    let r = env.store.upsert(account("two", "solo")).await.unwrap();
    assert!(matches!(&r, Upserted::Updated(s) if s.data.name == "two"));
    assert_ok(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_get_or_create_converges_on_one_resource() {
    let env = TestEnv::new().await;
    concurrency::get_or_create_converges(&env, 32).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_with_loses_nothing() {
    let env = TestEnv::new().await;
    concurrency::update_with_loses_nothing(&env, 16).await;
}

/// DynamoDB's read-committed commit, modelled (markers visible before their owner): a
/// get-or-create finds the value's marker already visible while the resource that holds it is
/// not. It must not report "no holder" nor create a second resource: it reads again until the
/// holder is visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_waits_for_a_holder_still_committing() {
    const HOLD: Duration = Duration::from_millis(10);
    const WINDOW: Duration = Duration::from_millis(100);
    let config = ModelConfig {
        hold: HOLD,
        commit_window: Some(WINDOW),
        read_committed: true,
        reverse_visibility: true,
        ..ModelConfig::default()
    };
    let env = TestEnv::with_model(config, Clock::manual()).await;
    let model = env.model.clone().expect("a model");
    // A's create: the account, then its marker; visible in reverse, the marker first (at half
    // the window), the account at its end.
    let creating = {
        let store = env.store.clone();
        tokio::spawn(async move { store.create(account("A", "committing")).await })
    };
    model.until_applied_and_holding(1).await;
    model.clock().advance(HOLD + WINDOW / 2);
    model.until_held_at_most(1).await;
    // B: its create is refused on the marker, which names A; its read of A, held at the gate,
    // would find nothing yet. (Each of B's transactions waits out its hold: the clock steps.)
    let mut first_read = env.gate.hold("GetItem", 1, None);
    let b = {
        let store = env.store.clone();
        tokio::spawn(async move { store.get_or_create(account("B", "committing")).await })
    };
    model.until_applied_and_holding(2).await;
    model.clock().advance(HOLD);
    let body = first_read.arrived().await;
    let mut second_read = env.gate.hold("GetItem", 1, None);
    first_read.release();
    // B read A as absent, and comes round again: a second create, refused the same way, and
    // a second read of A, held too.
    model.until_applied_and_holding(2).await;
    model.clock().advance(HOLD);
    let body2 = second_read.arrived().await;
    let json = |b: &str| serde_json::from_str::<serde_json::Value>(b).expect("a JSON body");
    assert_eq!(json(&body), json(&body2), "the same holder read again");
    // Now A's commit ends: the account is visible.
    model.clock().advance(WINDOW);
    let a = creating.await.unwrap().expect("A is created");
    second_read.release();
    let got = b.await.unwrap().expect("B gets A");
    assert!(
        matches!(&got, GetOrCreated::Existing(s) if s.urn == a.urn),
        "{got:?}"
    );
    assert!(body.contains(a.urn.as_str()), "B read A: {body}");
    // Set-up and audit around the model (its clock is frozen).
    let plain = Store::new(env.raw.clone(), env.store.table());
    let all = ddbrel_runtime::integrity::audit(&plain, 2).await.unwrap();
    assert!(all.is_clean(), "{:?}", all.findings);
}
