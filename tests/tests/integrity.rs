//! `integrity::audit` and `integrity::repair` on the engine: each kind of corruption, planted
//! with the plain SDK, is found; repair fixes the repairable kinds (a second audit finds
//! nothing), leaves the others in place and still reports them, never overwrites a concurrent
//! change, and finishes an interrupted cascade.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::integrity::{self, Audit, FindingKind, RepairReport};
use ddbrel_runtime::{DeleteOptions, Item};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::FaultMode;
use ddbrel_tests::findings::comparable;
use ddbrel_tests::invariants;
use ddbrel_tests::records::{child_sk, marker, n};
use ddbrel_tests::sample::{self, Tree, build_tree};

const GHOST: &str = "urn:pp:System.Account::0195555f-0000-7000-8000-00000000dead";
/// The `_constraint` of an Account's slug marker.
const SLUG: &str = "System.Account.slug";

/// The audit by the SQL checks, in bounded memory (the CLI's default), which the tests here
/// repair from. It must give the findings of the in-process checker's live audit, with the
/// same fixes; and the same table written as a DynamoDB export and audited from it (the
/// snapshot path of #16) the same findings again.
async fn audit(env: &TestEnv) -> Audit {
    let live = integrity::audit(&env.store, 3).await.expect("audit");
    let dir = tempfile::tempdir().expect("temporary directory");
    integrity::write_export(dir.path(), env.store.table(), &env.scan_all().await).expect("export");
    let snapshot = integrity::audit_export(dir.path()).expect("audit of the export");
    assert_eq!(
        snapshot.findings, live.findings,
        "the export audits as the live table"
    );
    let bounded = integrity::sql::audit_sql(&env.store, 3)
        .await
        .expect("audit by the SQL checks");
    assert_eq!(
        comparable(&bounded.findings),
        comparable(&live.findings),
        "the SQL checks find what the checker finds, with the same fixes"
    );
    bounded
}

fn render(a: &Audit) -> String {
    a.findings
        .iter()
        .map(|f| format!("\n  {} {f}", f.kind))
        .collect()
}

#[track_caller]
fn assert_found(a: &Audit, kind: FindingKind, key: &str, needle: &str) {
    assert!(
        a.findings
            .iter()
            .any(|f| f.kind == kind && f.key == key && f.message.contains(needle)),
        "expected {kind} on {key}: …{needle}…, got:{}",
        render(a)
    );
}

#[track_caller]
fn assert_clean(a: &Audit) {
    assert!(a.is_clean(), "findings:{}", render(a));
}

/// Repairs, then audits again.
async fn repair(env: &TestEnv, before: &Audit) -> (RepairReport, Audit) {
    let report = integrity::repair(&env.store, before).await.expect("repair");
    (report, audit(env).await)
}

async fn delete(env: &TestEnv, pk: &str, sk: &str) {
    env.raw
        .delete_item()
        .table_name(env.store.table())
        .key("PK", AV::S(pk.into()))
        .key("SK", AV::S(sk.into()))
        .send()
        .await
        .expect("delete_item");
}

async fn item(env: &TestEnv, pk: &str, sk: &str) -> Item {
    env.raw_item(pk, sk)
        .await
        .unwrap_or_else(|| panic!("no item {pk} / {sk}"))
}

/// Rewrites one item with the plain SDK.
async fn edit(env: &TestEnv, pk: &str, sk: &str, f: impl FnOnce(&mut Item)) {
    let mut i = item(env, pk, sk).await;
    f(&mut i);
    env.put_raw(i).await;
}

fn count(i: &Item, name: &str) -> i64 {
    match i.get(name) {
        None => 0,
        Some(v) => v.as_n().expect("N").parse().expect("integer"),
    }
}

fn set(i: &Item, name: &str) -> Vec<String> {
    let mut v = match i.get(name) {
        None => Vec::new(),
        Some(v) => v.as_ss().expect("SS").clone(),
    };
    v.sort();
    v
}

/// A sample tree: 2 collections of 3 jobs, 2 labels (label 0 holds jobs 0 and 3, label 1
/// jobs 1 and 4), 2 users in a team.
async fn tree(env: &TestEnv) -> Tree {
    let t = build_tree(&env.store, 2, 3, 2, 2).await.expect("build");
    assert_clean(&audit(env).await);
    t
}

#[tokio::test]
async fn a_consistent_table_audits_clean_and_repair_does_nothing() {
    let env = TestEnv::new().await;
    assert_clean(&audit(&env).await);
    tree(&env).await;
    let a = audit(&env).await;
    assert_clean(&a);
    // Every segment count reads every record once.
    let all = env.scan_all().await.len();
    assert_eq!(a.records, all);
    for segments in [0, 1, 2, 7] {
        let a = integrity::audit(&env.store, segments).await.unwrap();
        assert_eq!(a.records, all, "{segments} segments");
    }
    let (report, after) = repair(&env, &a).await;
    assert!(report.actions.is_empty(), "{:?}", report.actions);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_clean(&after);
}

#[tokio::test]
async fn a_deleted_member_leaves_orphaned_records_that_repair_removes() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let job = t.jobs[0].urn.as_str().to_string();
    let col = t.collections[0].urn.as_str().to_string();
    let label = t.labels[0].urn.as_str().to_string();
    delete(&env, &job, &job).await;

    let a = audit(&env).await;
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{col} / child#{job}"),
        "its child",
    );
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{label} / member#{job}"),
        "its member",
    );
    assert!(a.findings.iter().all(|f| f.repairable()), "{}", render(&a));

    let (report, after) = repair(&env, &a).await;
    assert_clean(&after);
    assert_eq!(report.actions.len(), 2, "{:?}", report.actions);
    assert!(report.unrepairable.is_empty());
    assert_eq!(count(&item(&env, &col, &col).await, "_childCount"), 2);
    assert_eq!(count(&item(&env, &label, &label).await, "_memberCount"), 1);
    invariants::assert_ok(&env).await;
}

#[tokio::test]
async fn a_deleted_collection_leaves_memberships_that_repair_removes() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let label = t.labels[0].urn.as_str().to_string();
    let account = t.account.urn.as_str().to_string();
    let member = t.jobs[3].urn.as_str().to_string();
    delete(&env, &label, &label).await;

    let a = audit(&env).await;
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{label} / member#{member}"),
        "its collection",
    );
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{account} / child#{label}"),
        "its child",
    );

    let (report, after) = repair(&env, &a).await;
    assert_clean(&after);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let m = item(&env, &member, &member).await;
    assert!(set(&m, "_memberOf").is_empty(), "{m:?}");
    assert_eq!(
        count(&item(&env, &account, &account).await, "_childCount"),
        6
    );
}

#[tokio::test]
async fn dangling_markers_are_deleted() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    // Owner missing.
    let ghost_key = "unique#System.Account#slug#global#ghost";
    env.put_raw(marker(ghost_key, GHOST, SLUG)).await;
    // Owner present but not holding it.
    let unheld = "unique#System.Account#slug#global#unheld";
    env.put_raw(marker(unheld, t.account.urn.as_str(), SLUG))
        .await;

    let a = audit(&env).await;
    assert_found(&a, FindingKind::DanglingMarker, ghost_key, "does not exist");
    assert_found(&a, FindingKind::DanglingMarker, unheld, "does not list it");
    assert_eq!(a.findings.len(), 2, "{}", render(&a));

    let (report, after) = repair(&env, &a).await;
    assert_clean(&after);
    assert_eq!(report.actions.len(), 2, "{:?}", report.actions);
    assert!(env.raw_item(ghost_key, ghost_key).await.is_none());
    assert!(env.raw_item(unheld, unheld).await.is_none());
}

#[tokio::test]
async fn a_missing_marker_is_re_created_and_a_misowned_one_handed_back() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let slug_key = t.account.meta.unique_keys[0].clone();
    let email_key = t.users[0].meta.unique_keys[0].clone();
    // The account's marker is gone; the user's names somebody else.
    delete(&env, &slug_key, &slug_key).await;
    edit(&env, &email_key, &email_key, |m| {
        m.insert("_ownerUrn".into(), AV::S(GHOST.into()));
    })
    .await;

    let a = audit(&env).await;
    let account = t.account.urn.as_str();
    let user = t.users[0].urn.as_str();
    assert_found(&a, FindingKind::MissingMarker, account, "no such marker");
    assert_found(&a, FindingKind::MissingMarker, user, "owned by");
    assert_found(
        &a,
        FindingKind::DanglingMarker,
        &email_key,
        "does not exist",
    );
    assert!(a.findings.iter().all(|f| f.repairable()), "{}", render(&a));

    let (report, after) = repair(&env, &a).await;
    assert_clean(&after);
    assert_eq!(report.actions.len(), 2, "{:?}", report.actions);
    // The values are enforced again: the store finds the holders by them.
    let found = env
        .store
        .find_unique::<entities::Account>("slug", None, vec![t.account.slug.clone()])
        .await
        .unwrap()
        .expect("the account by its slug");
    assert_eq!(found.urn, t.account.urn);
    let m = item(&env, &email_key, &email_key).await;
    assert_eq!(m["_ownerUrn"].as_s().unwrap(), user);
}

#[tokio::test]
async fn a_value_claimed_twice_is_left_and_reported() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let other = env.store.create(sample::account("other")).await.unwrap();
    let slug_key = t.account.meta.unique_keys[0].clone();
    let mut keys = other.meta.unique_keys.clone();
    keys.push(slug_key.clone());
    let o = other.urn.as_str().to_string();
    edit(&env, &o, &o, |i| {
        i.insert("_uniqueKeys".into(), AV::Ss(keys));
    })
    .await;
    let before = item(&env, &o, &o).await;

    let a = audit(&env).await;
    assert_found(&a, FindingKind::ContestedMarker, &o, "owned by");
    let (report, after) = repair(&env, &a).await;
    assert!(report.actions.is_empty(), "{:?}", report.actions);
    assert_eq!(report.unrepairable.len(), 1);
    assert_eq!(report.unrepairable[0].kind, FindingKind::ContestedMarker);
    assert_found(&after, FindingKind::ContestedMarker, &o, "owned by");
    assert_eq!(item(&env, &o, &o).await, before, "nothing was written");
    let m = item(&env, &slug_key, &slug_key).await;
    assert_eq!(m["_ownerUrn"].as_s().unwrap(), t.account.urn.as_str());
}

#[tokio::test]
async fn membership_sets_are_rebuilt_from_the_records() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let job = t.jobs[0].urn.as_str().to_string();
    let label0 = t.labels[0].urn.as_str().to_string();
    let label1 = t.labels[1].urn.as_str().to_string();
    let user = t.users[1].urn.as_str().to_string();
    let team = t.team.urn.as_str().to_string();
    // The job forgets its label and claims another; the user's team no longer conveys.
    edit(&env, &job, &job, |i| {
        i.insert("_memberOf".into(), AV::Ss(vec![label1.clone()]));
        i.insert("_conveyingCollections".into(), AV::Ss(vec![label1.clone()]));
    })
    .await;
    edit(&env, &user, &user, |i| {
        i.remove("_conveyingCollections");
    })
    .await;

    let a = audit(&env).await;
    assert_found(&a, FindingKind::MembershipMismatch, &job, "_memberOf lists");
    assert_found(&a, FindingKind::MembershipMismatch, &job, "_memberOf lacks");
    assert_found(
        &a,
        FindingKind::MembershipMismatch,
        &user,
        "_conveyingCollections lacks",
    );
    assert!(a.findings.iter().all(|f| f.repairable()), "{}", render(&a));

    let (_, after) = repair(&env, &a).await;
    assert_clean(&after);
    let j = item(&env, &job, &job).await;
    assert_eq!(set(&j, "_memberOf"), vec![label0]);
    assert!(set(&j, "_conveyingCollections").is_empty());
    let u = item(&env, &user, &user).await;
    assert_eq!(set(&u, "_conveyingCollections"), vec![team]);
}

#[tokio::test]
async fn counts_are_recomputed() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let account = t.account.urn.as_str().to_string();
    let label = t.labels[1].urn.as_str().to_string();
    let col = t.collections[1].urn.as_str().to_string();
    edit(&env, &account, &account, |i| {
        i.insert("_childCount".into(), n(99));
    })
    .await;
    edit(&env, &label, &label, |i| {
        i.remove("_memberCount");
    })
    .await;
    edit(&env, &col, &col, |i| {
        i.insert("_memberCount".into(), n(-2));
    })
    .await;

    let a = audit(&env).await;
    assert_found(
        &a,
        FindingKind::CountMismatch,
        &account,
        "_childCount is 99",
    );
    assert_found(
        &a,
        FindingKind::CountMismatch,
        &label,
        "below the 2 member#",
    );
    assert_found(&a, FindingKind::CountMismatch, &col, "negative");

    let (report, after) = repair(&env, &a).await;
    assert_clean(&after);
    assert_eq!(report.actions.len(), 3, "{:?}", report.actions);
    assert_eq!(
        count(&item(&env, &account, &account).await, "_childCount"),
        7
    );
    assert_eq!(count(&item(&env, &label, &label).await, "_memberCount"), 2);
    assert_eq!(count(&item(&env, &col, &col).await, "_memberCount"), 0);
}

#[tokio::test]
async fn an_orphaned_child_is_reported_and_never_deleted() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let col = t.collections[0].urn.as_str().to_string();
    let account = t.account.urn.as_str().to_string();
    delete(&env, &col, &col).await;

    let a = audit(&env).await;
    let job = t.jobs[0].urn.as_str().to_string();
    assert_found(
        &a,
        FindingKind::ParentRelationship,
        &job,
        &format!("its parent {col} does not exist"),
    );
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{col} / child#{job}"),
        "the child is an orphan",
    );
    // The collection's own record and marker are repairable.
    assert_found(
        &a,
        FindingKind::OrphanedRelationship,
        &format!("{account} / child#{col}"),
        "its child",
    );
    let col_key = t.collections[0].meta.unique_keys[0].clone();
    assert_found(&a, FindingKind::DanglingMarker, &col_key, "does not exist");

    let (report, after) = repair(&env, &a).await;
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(!after.is_clean());
    let orphans: Vec<&str> = t.jobs[0..3].iter().map(|j| j.urn.as_str()).collect();
    assert!(
        after.findings.iter().all(|f| !f.repairable()
            && (orphans.contains(&f.key.as_str())
                || f.key.starts_with(&format!("{col} / child#")))),
        "only the orphans and their records are left:{}",
        render(&after)
    );
    for j in &t.jobs[0..3] {
        assert!(env.raw_item(j.urn.as_str(), j.urn.as_str()).await.is_some());
        assert!(
            env.raw_item(&col, &child_sk(j.urn.as_str()))
                .await
                .is_some()
        );
    }
    assert_eq!(
        count(&item(&env, &account, &account).await, "_childCount"),
        6
    );
}

#[tokio::test]
async fn unrepairable_kinds_are_left_in_place_and_reported() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let col = t.collections[0].urn.as_str().to_string();
    let job0 = t.jobs[0].urn.as_str().to_string();
    let job1 = t.jobs[1].urn.as_str().to_string();
    let job2 = t.jobs[2].urn.as_str().to_string();
    // A wrong account, a record that breaks the layout, a child without its record while
    // its parent exists.
    edit(&env, &job0, &job0, |i| {
        i.insert("_accountUrn".into(), AV::S(col.clone()));
    })
    .await;
    edit(&env, &job1, &job1, |i| {
        i.insert("_version".into(), n(0));
        i.insert("_createdAt".into(), AV::S("yesterday".into()));
        i.insert("_writeToken".into(), AV::N("7".into()));
    })
    .await;
    delete(&env, &col, &child_sk(&job2)).await;
    let items: Vec<Item> = {
        let mut v = Vec::new();
        for u in [&job0, &job1, &job2] {
            v.push(item(&env, u, u).await);
        }
        v
    };

    let a = audit(&env).await;
    assert_found(&a, FindingKind::AccountMismatch, &job0, "_accountUrn");
    assert_found(&a, FindingKind::Schema, &job1, "_version is 0");
    assert_found(&a, FindingKind::Schema, &job1, "_createdAt");
    assert_found(&a, FindingKind::Schema, &job1, "_writeToken is N, not S");
    assert_found(
        &a,
        FindingKind::ParentRelationship,
        &job2,
        "no ParentChildRelationship record",
    );
    // The collection's count now exceeds its records: that much is repairable.
    assert_found(&a, FindingKind::CountMismatch, &col, "_childCount is 3");

    let (report, after) = repair(&env, &a).await;
    assert_eq!(report.actions.len(), 1, "{:?}", report.actions);
    assert_eq!(report.unrepairable.len(), a.findings.len() - 1);
    assert_eq!(
        after.findings.len(),
        a.findings.len() - 1,
        "{}",
        render(&after)
    );
    assert!(after.findings.iter().all(|f| !f.repairable()));
    for kind in [
        FindingKind::AccountMismatch,
        FindingKind::Schema,
        FindingKind::ParentRelationship,
    ] {
        assert!(after.findings.iter().any(|f| f.kind == kind), "{kind}");
    }
    for (u, before) in [&job0, &job1, &job2].into_iter().zip(items) {
        assert_eq!(item(&env, u, u).await, before, "{u} was not written");
    }
}

#[tokio::test]
async fn repair_never_overwrites_a_change_made_after_the_audit() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let account = t.account.urn.as_str().to_string();
    let ghost_key = "unique#System.Account#slug#global#ghost";
    env.put_raw(marker(ghost_key, GHOST, SLUG)).await;
    edit(&env, &account, &account, |i| {
        i.insert("_childCount".into(), n(99));
    })
    .await;
    let a = audit(&env).await;
    assert_eq!(a.findings.len(), 2, "{}", render(&a));

    // Meanwhile somebody else writes both items.
    edit(&env, &account, &account, |i| {
        i.insert("_childCount".into(), n(98));
    })
    .await;
    let other = t.account.urn.as_str().to_string();
    edit(&env, ghost_key, ghost_key, |i| {
        i.insert("_ownerUrn".into(), AV::S(other.clone()));
    })
    .await;

    let report = integrity::repair(&env.store, &a).await.unwrap();
    assert!(report.actions.is_empty(), "{:?}", report.actions);
    assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
    assert!(
        report
            .skipped
            .iter()
            .all(|s| s.contains("changed since the audit")),
        "{:?}",
        report.skipped
    );
    assert_eq!(
        count(&item(&env, &account, &account).await, "_childCount"),
        98
    );
    let m = item(&env, ghost_key, ghost_key).await;
    assert_eq!(m["_ownerUrn"].as_s().unwrap(), &other);

    // A fresh audit and repair then fix both.
    let a = audit(&env).await;
    let (_, after) = repair(&env, &a).await;
    assert_clean(&after);
}

#[tokio::test]
async fn an_interrupted_cascade_is_finished_by_repair() {
    for k in 2..=6 {
        let env = TestEnv::new().await;
        let t = tree(&env).await;
        let account = t.account.urn.as_str().to_string();
        // The cascade of one collection, cut short after the fence.
        let col = t.collections[0].urn.as_any().clone();
        let first = env.sweep_cut_at(&col, k).await;
        assert!(first.is_err(), "k={k}: the fault struck");

        let a = audit(&env).await;
        assert_found(
            &a,
            FindingKind::UnfinishedCascade,
            col.as_str(),
            "has not finished",
        );
        // Counts above a fence are left alone.
        edit(&env, &account, &account, |i| {
            i.insert("_childCount".into(), n(42));
        })
        .await;
        let a = audit(&env).await;
        let count_finding = a
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::CountMismatch && f.key == account)
            .unwrap_or_else(|| panic!("k={k}: no count finding:{}", render(&a)));
        assert!(!count_finding.repairable(), "k={k}: {count_finding}");

        let (report, after) = repair(&env, &a).await;
        assert!(
            report.actions[0].starts_with("finished the cascading delete"),
            "k={k}: {:?}",
            report.actions
        );
        assert_clean(&after);
        assert!(env.raw_item(col.as_str(), col.as_str()).await.is_none());
        for j in &t.jobs[0..3] {
            assert!(env.raw_item(j.urn.as_str(), j.urn.as_str()).await.is_none());
        }
        assert_eq!(
            count(&item(&env, &account, &account).await, "_childCount"),
            6
        );
    }
}

#[tokio::test]
async fn an_interrupted_cascade_of_the_root_is_finished_by_repair() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    env.faults.arm(3, FaultMode::BeforeSend);
    let first = env
        .store
        .delete_with(
            t.account.urn.as_any(),
            DeleteOptions {
                force_sweep: true,
                ..Default::default()
            },
        )
        .await;
    env.faults.disarm();
    assert!(first.is_err());
    let a = audit(&env).await;
    assert_found(
        &a,
        FindingKind::UnfinishedCascade,
        t.account.urn.as_str(),
        "has not finished",
    );
    invariants::assert_ok(&env).await;
    let (report, after) = repair(&env, &a).await;
    assert_eq!(report.actions.len(), 1, "{:?}", report.actions);
    assert_clean(&after);
    assert_eq!(after.records, 0);
}
