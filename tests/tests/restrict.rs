//! `on_delete = restrict` (SCHEMA.md §7, "Restrict"): a delete whose closure holds a child of
//! a type declared `#[parent(.., on_delete = restrict)]`, or a member of a collection declared
//! `on_delete = restrict`, is refused with `Error::Restricted` and leaves the table as it was,
//! on the atomic path and on the sweep, and against a concurrent create held at the gate.

use std::collections::BTreeSet;

use ddbrel_runtime::{AnyUrn, DeleteOptions, Entity, Error, OnDelete, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample;
use entities::Account;
use serde::{Deserialize, Serialize};

/// Refuses the delete of its Account while it exists.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Invoice")]
#[parent(Account, on_delete = restrict)]
#[account_scoped]
struct Invoice {
    number: String,
}

/// An ordinary (cascading) child of Account.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Note")]
#[parent(Account, on_delete = cascade)]
#[account_scoped]
struct Note {
    text: String,
}

/// A cascading child of Account whose Books restrict it.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Shelf")]
#[parent(Account)]
#[account_scoped]
struct Shelf {
    name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Shelf.Book")]
#[parent(Shelf, on_delete = restrict)]
#[account_scoped]
struct Book {
    title: String,
}

/// A collection that cannot be deleted while it has members.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Roster")]
#[parent(Account)]
#[account_scoped]
#[collection(of(Note), conveys_authorization = false, on_delete = restrict)]
struct Roster {
    name: String,
}

fn sweep() -> DeleteOptions {
    DeleteOptions {
        force_sweep: true,
        ..DeleteOptions::default()
    }
}

async fn account(env: &TestEnv, hint: &str) -> Stored<Account> {
    env.store.create(sample::account(hint)).await.unwrap()
}

async fn invoice(env: &TestEnv, a: &Stored<Account>) -> Stored<Invoice> {
    let number = "1".to_string();
    env.store.create_child(a, Invoice { number }).await.unwrap()
}

async fn note(env: &TestEnv, a: &Stored<Account>) -> Stored<Note> {
    let text = "n".to_string();
    env.store.create_child(a, Note { text }).await.unwrap()
}

/// Every item of the table, as text, to compare before and after a refused delete.
async fn snapshot(env: &TestEnv) -> BTreeSet<String> {
    env.scan_all()
        .await
        .iter()
        .map(|item| {
            let mut kv: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            kv.sort();
            kv.join(",")
        })
        .collect()
}

/// Asserts `result` is the refusal of deleting `urn` because `held` has `by` as `relationship`.
fn assert_restricted<T: std::fmt::Debug>(
    result: ddbrel_runtime::Result<T>,
    urn: &AnyUrn,
    held: &AnyUrn,
    by: &AnyUrn,
    relationship: &str,
) {
    match result {
        Err(Error::Restricted {
            urn: u,
            held: h,
            by: b,
            relationship: r,
        }) => {
            assert_eq!(
                (u.as_str(), h.as_str(), b.as_str(), r),
                (urn.as_str(), held.as_str(), by.as_str(), relationship)
            );
        }
        other => panic!("expected Restricted, got {other:?}"),
    }
}

#[test]
fn the_descriptors_record_the_rule() {
    assert_eq!(Invoice::descriptor().on_delete, OnDelete::Restrict);
    assert_eq!(Note::descriptor().on_delete, OnDelete::Cascade);
    assert_eq!(Shelf::descriptor().on_delete, OnDelete::Cascade);
    assert_eq!(Account::descriptor().on_delete, OnDelete::Cascade);
    let roster = Roster::descriptor().collection.unwrap();
    assert_eq!(roster.on_delete, OnDelete::Restrict);
}

#[tokio::test]
async fn a_restricting_child_refuses_its_parents_delete_until_it_is_gone() {
    let env = TestEnv::new().await;
    let a = account(&env, "restrict").await;
    let n = note(&env, &a).await;
    let i = invoice(&env, &a).await;
    let record = env
        .raw_item(a.urn.as_str(), &format!("child#{}", i.urn))
        .await
        .unwrap();
    assert!(record.contains_key("_onDelete"), "{record:?}");
    let plain = env
        .raw_item(a.urn.as_str(), &format!("child#{}", n.urn))
        .await
        .unwrap();
    assert!(!plain.contains_key("_onDelete"), "a cascade is not stored");

    let before = snapshot(&env).await;
    env.counter.reset();
    let refused = env.store.delete_urn(a.urn.as_any()).await;
    let requests = env.counter.total();
    let (root, by) = (a.urn.as_any(), i.urn.as_any());
    assert_restricted(refused, root, root, by, "child");
    assert_eq!(requests, 2, "GetItem of the root + Query of its partition");
    let a_now = env.store.get(&a.urn).await.unwrap();
    assert_restricted(env.store.delete(&a_now).await, root, root, by, "child");
    assert_restricted(env.store.plan_delete(root).await, root, root, by, "child");
    assert_eq!(snapshot(&env).await, before, "nothing changed");
    assert_ok(&env).await;

    env.store.delete(&i).await.unwrap();
    let report = env.store.delete_urn(a.urn.as_any()).await.unwrap();
    assert_eq!(report.resource_count(), 2, "the account and its note");
    assert!(env.scan_all().await.is_empty());
}

#[tokio::test]
async fn a_cascading_sibling_type_does_not_block() {
    let env = TestEnv::new().await;
    let a = account(&env, "sibling").await;
    note(&env, &a).await;
    note(&env, &a).await;
    let report = env.store.delete_urn(a.urn.as_any()).await.unwrap();
    assert_eq!(report.resource_count(), 3);
    assert_ok(&env).await;
}

#[tokio::test]
async fn a_restricting_collection_refuses_while_it_has_members() {
    let env = TestEnv::new().await;
    let a = account(&env, "roster").await;
    let r = env
        .store
        .create_child(&a, Roster { name: "r".into() })
        .await
        .unwrap();
    let n = note(&env, &a).await;
    env.store.add_member(&r, &n).await.unwrap();

    let before = snapshot(&env).await;
    let (ru, nu) = (r.urn.as_any(), n.urn.as_any());
    assert_restricted(env.store.delete_urn(ru).await, ru, ru, nu, "member");
    // Deleting the account would delete the collection: refused too, naming it.
    let au = a.urn.as_any();
    assert_restricted(env.store.delete_urn(au).await, au, ru, nu, "member");
    assert_restricted(
        env.store.delete_with(au, sweep()).await,
        au,
        ru,
        nu,
        "member",
    );
    assert_eq!(snapshot(&env).await, before, "nothing changed");
    assert_ok(&env).await;

    env.store.remove_member(&r.urn, &n.urn).await.unwrap();
    env.store.delete_urn(ru).await.unwrap();
    assert_ok(&env).await;
}

#[tokio::test]
async fn restrict_holds_at_any_depth() {
    let env = TestEnv::new().await;
    let a = account(&env, "depth").await;
    let s = env
        .store
        .create_child(&a, Shelf { name: "s".into() })
        .await
        .unwrap();
    let b = env
        .store
        .create_child(&s, Book { title: "b".into() })
        .await
        .unwrap();
    note(&env, &a).await;

    let before = snapshot(&env).await;
    let (au, su, bu) = (a.urn.as_any(), s.urn.as_any(), b.urn.as_any());
    assert_restricted(env.store.delete_urn(au).await, au, su, bu, "child");
    assert_restricted(env.store.delete_urn(su).await, su, su, bu, "child");
    assert_restricted(
        env.store.delete_with(au, sweep()).await,
        au,
        su,
        bu,
        "child",
    );
    assert_eq!(
        snapshot(&env).await,
        before,
        "fences lifted, nothing deleted"
    );
    assert!(env.store.get(&s.urn).await.unwrap().meta.deleting.is_none());
    assert_ok(&env).await;

    // The book itself goes like any leaf; then the cascade is free.
    env.store.delete(&b).await.unwrap();
    let report = env.store.delete_with(au, sweep()).await.unwrap();
    assert_eq!(report.resource_count(), 3, "account, shelf, note");
    assert!(env.scan_all().await.is_empty());
}

#[tokio::test]
async fn the_sweep_refuses_before_deleting_anything_and_lifts_its_fence() {
    let env = TestEnv::new().await;
    let a = account(&env, "sweep").await;
    for _ in 0..3 {
        note(&env, &a).await;
    }
    let i = invoice(&env, &a).await;
    let before = snapshot(&env).await;
    let au = a.urn.as_any();
    let refused = env.store.delete_with(au, sweep()).await;
    assert_restricted(refused, au, au, i.urn.as_any(), "child");
    assert!(env.store.get(&a.urn).await.unwrap().meta.deleting.is_none());
    assert_eq!(
        snapshot(&env).await,
        before,
        "nothing deleted, fence lifted"
    );
    assert_ok(&env).await;
    // Not fenced: the account takes children again.
    note(&env, &a).await;
}

/// The atomic path: the delete's transaction is held after its discovery; a restricting
/// child is created meanwhile. The transaction, conditioned on the account's count as read,
/// is cancelled; the next discovery finds the child and refuses.
#[tokio::test]
async fn race_a_restricting_child_created_before_the_atomic_delete_lands() {
    let env = TestEnv::new().await;
    let a = account(&env, "race").await;
    note(&env, &a).await;
    let mut held = env.gate.hold("TransactWriteItems", 1, Some(a.urn.as_str()));
    let store = env.store.clone();
    let root = a.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_urn(&root).await });
    held.arrived().await;
    let i = invoice(&env, &a).await;
    held.release();
    let au = a.urn.as_any();
    assert_restricted(task.await.unwrap(), au, au, i.urn.as_any(), "child");
    assert!(env.store.try_get(&i.urn).await.unwrap().is_some());
    assert_ok(&env).await;
}

/// The sweep: the root's fence is held; a restricting child is created before it lands. The
/// pass, after the fence, finds the child and refuses, lifting the fence.
#[tokio::test]
async fn race_a_restricting_child_created_before_the_fence() {
    let env = TestEnv::new().await;
    let a = account(&env, "fence").await;
    note(&env, &a).await;
    let mut held = env.gate.hold("UpdateItem", 1, Some(a.urn.as_str()));
    let store = env.store.clone();
    let root = a.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let i = invoice(&env, &a).await;
    held.release();
    let au = a.urn.as_any();
    assert_restricted(task.await.unwrap(), au, au, i.urn.as_any(), "child");
    assert!(env.store.get(&a.urn).await.unwrap().meta.deleting.is_none());
    assert_ok(&env).await;
}

/// The sweep: the pass's read of the fenced root is held; a restricting child's create is
/// refused by the fence, and the delete, which found nothing restricting, completes.
#[tokio::test]
async fn race_a_restricting_child_created_after_the_fence_is_refused() {
    let env = TestEnv::new().await;
    let a = account(&env, "fenced").await;
    note(&env, &a).await;
    let mut held = env.gate.hold("Query", 1, Some(a.urn.as_str()));
    let store = env.store.clone();
    let root = a.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let number = "late".to_string();
    let refused = env.store.create_child(&a, Invoice { number }).await;
    assert!(
        matches!(refused, Err(Error::BeingDeleted { .. })),
        "{refused:?}"
    );
    held.release();
    let report = task.await.unwrap().unwrap();
    assert_eq!(report.resource_count(), 2, "{report:?}");
    assert!(env.scan_all().await.is_empty());
}

/// The sweep, after its pass: the delete of a resource that was a leaf when the pass read it
/// is held, and a restricting child is created under that leaf meanwhile. A restricting
/// child's create checks every ancestor above its parent for a fence, so it is refused
/// (`BeingDeleted`, naming the fenced root), and the cascade, whose pass found nothing, ends.
#[tokio::test]
async fn race_a_restricting_child_under_a_leaf_the_pass_read_is_refused() {
    let env = TestEnv::new().await;
    let a = account(&env, "leafrace").await;
    let s = env
        .store
        .create_child(&a, Shelf { name: "s".into() })
        .await
        .unwrap();
    let mut held = env.gate.hold("TransactWriteItems", 1, Some(s.urn.as_str()));
    let store = env.store.clone();
    let root = a.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let refused = env.store.create_child(&s, Book { title: "b".into() }).await;
    match refused {
        Err(Error::BeingDeleted { urn }) => assert_eq!(urn, a.urn.to_string()),
        other => panic!("expected BeingDeleted naming the account, got {other:?}"),
    }
    // The same create in a composed transaction is refused the same way.
    let mut tx = env.store.transaction();
    tx.create_child(&s, Book { title: "c".into() });
    let e = tx.commit().await.unwrap_err();
    assert!(
        matches!(e.error, Error::BeingDeleted { ref urn } if *urn == a.urn.to_string()),
        "{e:?}"
    );
    held.release();
    let report = task.await.unwrap().unwrap();
    assert_eq!(report.resource_count(), 2, "{report:?}");
    assert!(env.scan_all().await.is_empty());
}

/// The same for a member added to a restricting collection that was a leaf when the pass read
/// it: the membership checks the collection's ancestors, and is refused.
#[tokio::test]
async fn race_a_member_added_to_a_leaf_restricting_collection_is_refused() {
    let env = TestEnv::new().await;
    let a = account(&env, "rosterrace").await;
    let r = env
        .store
        .create_child(&a, Roster { name: "r".into() })
        .await
        .unwrap();
    let n = note(&env, &a).await;
    let mut held = env.gate.hold("TransactWriteItems", 1, Some(r.urn.as_str()));
    let store = env.store.clone();
    let root = a.urn.as_any().clone();
    let task = tokio::spawn(async move { store.delete_with(&root, sweep()).await });
    held.arrived().await;
    let refused = env.store.add_member(&r, &n).await;
    assert!(
        matches!(refused, Err(Error::BeingDeleted { ref urn }) if *urn == a.urn.to_string()),
        "{refused:?}"
    );
    let mut tx = env.store.transaction();
    tx.add_member(&r, &n);
    let e = tx.commit().await.unwrap_err();
    assert!(matches!(e.error, Error::BeingDeleted { .. }), "{e:?}");
    held.release();
    task.await.unwrap().unwrap();
    assert!(env.scan_all().await.is_empty());
}

/// Without a cascade, a restricting child and a restricting membership are one transaction
/// each, the ancestor checks included, and a non-restricting child checks no ancestor.
#[tokio::test]
async fn a_restricting_relationship_checks_the_ancestors_in_its_one_transaction() {
    let env = TestEnv::new().await;
    let a = account(&env, "guard").await;
    let s = env
        .store
        .create_child(&a, Shelf { name: "s".into() })
        .await
        .unwrap();
    let c = &env.counter;
    let (b, n) = c
        .measure(env.store.create_child(&s, Book { title: "b".into() }))
        .await;
    b.unwrap();
    assert_eq!(n, [("TransactWriteItems".to_string(), 1)].into());
    let r = env
        .store
        .create_child(&a, Roster { name: "r".into() })
        .await
        .unwrap();
    let no = note(&env, &a).await;
    let (added, n) = c.measure(env.store.add_member(&r, &no)).await;
    added.unwrap();
    assert_eq!(n, [("TransactWriteItems".to_string(), 1)].into());
    assert_ok(&env).await;
}

/// The type registry records the rule (for tools; deletes read it from the records): `onDelete`
/// only where it is `restrict`, on the type and on the collection, and the checker accepts it.
#[tokio::test]
async fn the_registry_records_restrict() {
    let env = TestEnv::new().await;
    env.store
        .register_types(&[
            Account::descriptor(),
            Invoice::descriptor(),
            Note::descriptor(),
            Roster::descriptor(),
        ])
        .await
        .unwrap();
    let raw = |t: &str| format!("type#pp#{t}");
    let invoice = env
        .raw_item(
            ddbrel_runtime::schema::REGISTRY_PK,
            &raw(Invoice::RESOURCE_TYPE),
        )
        .await
        .unwrap();
    assert_eq!(invoice["onDelete"].as_s().unwrap(), "restrict");
    let note = env
        .raw_item(
            ddbrel_runtime::schema::REGISTRY_PK,
            &raw(Note::RESOURCE_TYPE),
        )
        .await
        .unwrap();
    assert!(!note.contains_key("onDelete"));
    let roster = env
        .raw_item(
            ddbrel_runtime::schema::REGISTRY_PK,
            &raw(Roster::RESOURCE_TYPE),
        )
        .await
        .unwrap();
    assert!(!roster.contains_key("onDelete"));
    let collection = roster["collection"].as_m().unwrap();
    assert_eq!(collection["onDelete"].as_s().unwrap(), "restrict");
    let schemas = env.store.registered_types().await.unwrap();
    let invoice = schemas
        .iter()
        .find(|t| t.resource_type == Invoice::RESOURCE_TYPE)
        .unwrap();
    assert_eq!(invoice.on_delete, Some(OnDelete::Restrict));
    let audit = ddbrel_runtime::integrity::audit(&env.store, 2)
        .await
        .unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
}

/// A composed transaction may create a whole chain down to a restricting child: the ancestor
/// checks skip the ancestors it creates itself (new items cannot be fenced).
#[tokio::test]
async fn a_composed_chain_down_to_a_restricting_child_commits() {
    let env = TestEnv::new().await;
    let mut tx = env.store.transaction();
    let a = tx.create(sample::account("chain"));
    let s = tx.create_child(&a, Shelf { name: "s".into() });
    let b = tx.create_child(&s, Book { title: "b".into() });
    let done = tx.commit().await.unwrap();
    let b = done.stored(&b).unwrap();
    assert_eq!(b.meta.ancestors.len(), 2);
    assert_ok(&env).await;
}
