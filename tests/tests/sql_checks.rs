//! The invariants of SCHEMA.md section 9 as SQL (`specs/checks/`, #16 item 3), run on the
//! embedded SQLite engine against an export of each table the integrity tests build: for a
//! clean table and for every kind of corruption `integrity.rs` plants (and a few more), the
//! SQL findings restricted to the section 9 invariants equal the in-process checker's, compared
//! as sorted `(kind, invariant, key)` lists, and are not empty where something was planted.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::Item;
use ddbrel_runtime::integrity::{self, Finding, sql};
use ddbrel_tests::TestEnv;
use ddbrel_tests::findings::comparable;
use ddbrel_tests::records::{child_sk, l, marker, n};
use ddbrel_tests::sample::{self, Tree, build_tree};

const GHOST: &str = "urn:pp:System.Account::0195555f-0000-7000-8000-00000000dead";
const SLUG: &str = "System.Account.slug";

/// The rules of SCHEMA.md section 9 (the in-process checker names I9 `counts`) and the fence
/// of section 7: every invariant but `record`.
const SECTION_9: [&str; 12] = [
    "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "counts", "I10", "I11", "fence",
];

fn section_9(findings: &[Finding]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = findings
        .iter()
        .filter(|f| SECTION_9.contains(&f.invariant))
        .map(|f| (f.kind.to_string(), f.invariant.to_string(), f.key.clone()))
        .collect();
    v.sort();
    v
}

fn all_findings(findings: &[Finding]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| (f.kind.to_string(), f.invariant.to_string(), f.key.clone()))
        .collect();
    v.sort();
    v
}

fn render(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("\n  {} {f}", f.kind))
        .collect()
}

/// Exports the table, checks the export in SQL and the items in process; asserts the section 9
/// findings agree (in SQL from the export and from the items alike) and returns them.
async fn same_findings(env: &TestEnv, what: &str) -> Vec<(String, String, String)> {
    same_findings_of(&env.scan_all().await, env.store.table(), what)
}

/// [`same_findings`] on items held in memory (for corruption the engine refuses to store).
fn same_findings_of(items: &[Item], table: &str, what: &str) -> Vec<(String, String, String)> {
    let in_process = integrity::check_items(items);
    let dir = tempfile::tempdir().unwrap();
    integrity::write_export(dir.path(), table, items).unwrap();
    let from_export = sql::audit_export_sql(dir.path()).unwrap();
    assert_eq!(from_export.records, items.len(), "{what}");
    let from_items = sql::check_items_sql(items).unwrap();
    assert_eq!(
        section_9(&from_export.findings),
        section_9(&from_items),
        "{what}"
    );
    assert_eq!(
        section_9(&from_export.findings),
        section_9(&in_process),
        "{what}: SQL:{}\nin process:{}",
        render(&from_export.findings),
        render(&in_process)
    );
    // With the layout rules run on each record as it streams past, the SQL audit gives every
    // finding the in-process checker gives, `record` included.
    assert_eq!(
        all_findings(&from_export.findings),
        all_findings(&in_process),
        "{what}: SQL:{}\nin process:{}",
        render(&from_export.findings),
        render(&in_process)
    );
    // And with the records it reports rechecked on their neighbourhoods, the same findings
    // whole: messages, and the fixes repair would apply.
    assert_eq!(
        comparable(&from_export.findings),
        comparable(&in_process),
        "{what}: the findings with their fixes"
    );
    assert_eq!(
        comparable(&from_items),
        comparable(&in_process),
        "{what}: the findings with their fixes, from items"
    );
    section_9(&in_process)
}

#[track_caller]
fn assert_has(found: &[(String, String, String)], kind: &str, invariant: &str, key: &str) {
    assert!(
        found
            .iter()
            .any(|(k, i, x)| k == kind && i == invariant && x == key),
        "expected {kind} [{invariant}] on {key}, got {found:?}"
    );
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

async fn edit(env: &TestEnv, pk: &str, sk: &str, f: impl FnOnce(&mut Item)) {
    let mut i = env
        .raw_item(pk, sk)
        .await
        .unwrap_or_else(|| panic!("no item {pk} / {sk}"));
    f(&mut i);
    env.put_raw(i).await;
}

/// The sample tree of `integrity.rs`: 2 collections of 3 jobs, 2 labels, 2 users in a team.
async fn tree(env: &TestEnv) -> Tree {
    let t = build_tree(&env.store, 2, 3, 2, 2).await.expect("build");
    assert!(same_findings(env, "the clean tree").await.is_empty());
    t
}

fn urn<E>(s: &ddbrel_runtime::Stored<E>) -> String {
    s.urn.as_str().to_string()
}

/// A compile-time check that a future can be spawned on a multi-threaded runtime.
fn is_send<T: Send>(t: T) -> T {
    t
}

#[tokio::test]
async fn a_clean_table_has_no_findings_in_sql() {
    let env = TestEnv::new().await;
    assert!(same_findings(&env, "empty").await.is_empty());
    tree(&env).await;
    // The live table, read with the audit's Scan, checks the same.
    let live = is_send(sql::audit_sql(&env.store, 2)).await.unwrap();
    assert!(live.is_clean(), "{}", render(&live.findings));
    assert_eq!(live.records, env.scan_all().await.len());
    // Registered types are held to their declaration in SQL as well.
    let all = entities::all();
    env.store.register_types(&all).await.unwrap();
    assert!(same_findings(&env, "registered").await.is_empty());
}

#[tokio::test]
async fn deleted_ends_leave_orphaned_relationships() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let (job, label) = (urn(&t.jobs[0]), urn(&t.labels[0]));
    delete(&env, &job, &job).await;
    let found = same_findings(&env, "a deleted member").await;
    assert_has(
        &found,
        "orphaned-relationship",
        "I1",
        &format!("{} / child#{job}", urn(&t.collections[0])),
    );
    assert_has(
        &found,
        "orphaned-relationship",
        "I1",
        &format!("{label} / member#{job}"),
    );
    delete(&env, &label, &label).await;
    let found = same_findings(&env, "a deleted collection").await;
    assert_has(
        &found,
        "orphaned-relationship",
        "I1",
        &format!("{label} / member#{}", urn(&t.jobs[3])),
    );
}

#[tokio::test]
async fn markers_dangling_missing_misowned_and_contested() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let ghost_key = "unique#System.Account#slug#global#ghost";
    env.put_raw(marker(ghost_key, GHOST, SLUG)).await;
    let unheld = "unique#System.Account#slug#global#unheld";
    env.put_raw(marker(unheld, &urn(&t.account), SLUG)).await;
    let slug_key = t.account.meta.unique_keys[0].clone();
    let email_key = t.users[0].meta.unique_keys[0].clone();
    delete(&env, &slug_key, &slug_key).await;
    edit(&env, &email_key, &email_key, |m| {
        m.insert("_ownerUrn".into(), AV::S(GHOST.into()));
    })
    .await;
    let found = same_findings(&env, "markers").await;
    assert_has(&found, "dangling-marker", "I4", ghost_key);
    assert_has(&found, "dangling-marker", "I4", unheld);
    assert_has(&found, "missing-marker", "I4", &urn(&t.account));
    assert_has(&found, "missing-marker", "I4", &urn(&t.users[0]));

    // A value claimed twice; a marker of the wrong type and scope; a bad _constraint.
    let other = env.store.create(sample::account("other")).await.unwrap();
    let o = urn(&other);
    let email2 = t.users[1].meta.unique_keys[0].clone();
    let mut keys = other.meta.unique_keys.clone();
    keys.push(email2.clone());
    edit(&env, &o, &o, |i| {
        i.insert("_uniqueKeys".into(), AV::Ss(keys));
    })
    .await;
    let odd = "unique#System.Account.User#email#urn:pp:System.Account::0195555f-0000-7000-8000-000000000001#x";
    env.put_raw(marker(odd, &o, "System.Account.User.mail"))
        .await;
    let found = same_findings(&env, "contested").await;
    assert_has(&found, "contested-marker", "I4", &o);
    assert_has(&found, "schema", "I4", odd);
}

#[tokio::test]
async fn membership_sets_and_counts() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let (job, label1) = (urn(&t.jobs[0]), urn(&t.labels[1]));
    let user = urn(&t.users[1]);
    edit(&env, &job, &job, |i| {
        i.insert("_memberOf".into(), AV::Ss(vec![label1.clone()]));
        i.insert("_conveyingCollections".into(), AV::Ss(vec![label1.clone()]));
    })
    .await;
    edit(&env, &user, &user, |i| {
        i.remove("_conveyingCollections");
    })
    .await;
    let u0 = urn(&t.users[0]);
    edit(&env, &u0, &u0, |i| {
        i.remove("_memberOf");
    })
    .await;
    let (account, label, col) = (urn(&t.account), urn(&t.labels[1]), urn(&t.collections[1]));
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
    let found = same_findings(&env, "sets and counts").await;
    assert_has(&found, "membership-mismatch", "I6", &job);
    assert_has(&found, "membership-mismatch", "I6", &user);
    assert_has(&found, "membership-mismatch", "I6", &u0);
    assert_has(&found, "count-mismatch", "counts", &account);
    assert_has(&found, "count-mismatch", "counts", &label);
    assert_has(&found, "count-mismatch", "counts", &col);
}

#[tokio::test]
async fn orphans_and_unrepairable_kinds() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let col = urn(&t.collections[0]);
    let (job3, job4, job5) = (urn(&t.jobs[3]), urn(&t.jobs[4]), urn(&t.jobs[5]));
    let col1 = urn(&t.collections[1]);
    delete(&env, &col, &col).await;
    edit(&env, &job3, &job3, |i| {
        i.insert("_accountUrn".into(), AV::S(col1.clone()));
    })
    .await;
    edit(&env, &job4, &job4, |i| {
        i.insert("_version".into(), n(0));
        i.insert("_createdAt".into(), AV::S("yesterday".into()));
        i.insert("_writeToken".into(), AV::N("7".into()));
    })
    .await;
    delete(&env, &col1, &child_sk(&job5)).await;
    let found = same_findings(&env, "orphans and unrepairable").await;
    let job0 = urn(&t.jobs[0]);
    assert_has(&found, "parent-relationship", "I2", &job0);
    assert_has(
        &found,
        "orphaned-relationship",
        "I1",
        &format!("{col} / child#{job0}"),
    );
    assert_has(&found, "account-mismatch", "I5", &job3);
    assert_has(&found, "schema", "I8", &job4);
    assert_has(&found, "parent-relationship", "I2", &job5);
    assert_has(&found, "count-mismatch", "counts", &col1);
}

#[tokio::test]
async fn layouts_ancestors_listings_and_accounts() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let account = urn(&t.account);
    let (job, user, label) = (urn(&t.jobs[1]), urn(&t.users[0]), urn(&t.labels[0]));
    // The root's listing gone; a job's ancestors wrong; a user's updated before created; a
    // label with a listing key, and _accountUrn on a relationship record and a marker.
    edit(&env, &account, &account, |i| {
        i.remove("GSI1PK");
        i.remove("GSI1SK");
    })
    .await;
    edit(&env, &job, &job, |i| {
        i.insert("_ancestors".into(), l([account.clone(), account.clone()]));
    })
    .await;
    edit(&env, &user, &user, |i| {
        i.insert(
            "_updatedAt".into(),
            AV::S("2000-01-01T00:00:00.000Z".into()),
        );
        i.insert("_resourceType".into(), AV::S("System.Account.Team".into()));
    })
    .await;
    edit(&env, &label, &label, |i| {
        i.insert("GSI1PK".into(), AV::S(account.clone()));
        i.insert("GSI1SK".into(), AV::S(account.clone()));
    })
    .await;
    let col = urn(&t.collections[0]);
    let job0 = urn(&t.jobs[0]);
    edit(&env, &col, &child_sk(&job0), |i| {
        i.insert("_accountUrn".into(), AV::S(account.clone()));
    })
    .await;
    let slug_key = t.account.meta.unique_keys[0].clone();
    edit(&env, &slug_key, &slug_key, |i| {
        i.insert("_accountUrn".into(), AV::S(account.clone()));
    })
    .await;
    let found = same_findings(&env, "layouts").await;
    assert_has(&found, "schema", "I11", &account);
    assert_has(&found, "ancestors", "I3", &job);
    assert_has(&found, "schema", "I8", &user);
    assert_has(&found, "schema", "I7", &label);
    assert_has(
        &found,
        "account-mismatch",
        "I5",
        &format!("{col} / child#{job0}"),
    );
    assert_has(&found, "account-mismatch", "I5", &slug_key);
}

/// A cascade cut short after its fence (every cut point `integrity.rs` uses): the fenced
/// subtree is exempt from I1, I2, I4, I6 and the counts above the records, the fence is
/// reported once, and a count above the fence is still reported.
#[tokio::test]
async fn an_interrupted_cascade_is_exempt_as_in_process() {
    for k in 2..=6 {
        let env = TestEnv::new().await;
        let t = tree(&env).await;
        let account = urn(&t.account);
        let col = t.collections[0].urn.as_any().clone();
        let first = env.sweep_cut_at(&col, k).await;
        assert!(first.is_err(), "k={k}: the fault struck");
        let found = same_findings(&env, &format!("k={k}")).await;
        assert_has(&found, "unfinished-cascade", "fence", col.as_str());
        edit(&env, &account, &account, |i| {
            i.insert("_childCount".into(), n(42));
        })
        .await;
        let found = same_findings(&env, &format!("k={k}, count above")).await;
        assert_has(&found, "count-mismatch", "counts", &account);
    }
}

#[tokio::test]
async fn an_interrupted_cascade_of_the_root_is_exempt_as_in_process() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    for k in [3, 5, 8] {
        let _ = env.sweep_cut_at(t.account.urn.as_any(), k).await;
        let found = same_findings(&env, &format!("root, k={k}")).await;
        if env
            .raw_item(&urn(&t.account), &urn(&t.account))
            .await
            .is_some()
        {
            assert_has(&found, "unfinished-cascade", "fence", &urn(&t.account));
        }
    }
}

#[tokio::test]
async fn a_fence_two_levels_up_is_found_through_the_ancestors() {
    // A job two levels beneath the fence, conveying a collection it is not a member of: a
    // finding everywhere, but inside a fenced subtree not one to fix. Only the job's
    // `_ancestors` say it is fenced: the sweep is cut before it fences the job's collection.
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    let _ = env.sweep_cut_at(t.account.urn.as_any(), 2).await;
    let a = urn(&t.account);
    let account = env
        .raw_item(&a, &a)
        .await
        .expect("the account is still there");
    assert!(account.contains_key("_deleting"), "the account is fenced");
    let mut planted = None;
    for job in &t.jobs {
        let j = urn(job);
        let Some(item) = env.raw_item(&j, &j).await else {
            continue;
        };
        let Some(AV::S(parent)) = item.get("_parentUrn") else {
            continue;
        };
        let collection = env.raw_item(parent, parent).await;
        if collection.is_none_or(|c| c.contains_key("_deleting")) {
            continue;
        }
        edit(&env, &j, &j, |i| {
            i.insert("_conveyingCollections".into(), AV::Ss(vec![urn(&t.team)]));
        })
        .await;
        planted = Some(j);
        break;
    }
    let j = planted.expect("a job under a collection the sweep has not fenced yet");
    let found = same_findings(&env, "a job two levels beneath the fence").await;
    assert_has(&found, "membership-mismatch", "I6", &j);
}

#[tokio::test]
async fn the_printed_script_names_every_check_for_every_engine() {
    for engine in sql::SqlEngine::ALL {
        let s = sql::script(engine);
        for (name, text) in sql::CHECKS {
            assert!(s.contains(name), "{engine:?}: {name}");
            assert!(s.contains(text.trim_end()), "{engine:?}: {name}");
        }
    }
}

fn find<'a>(items: &'a mut [Item], pk: &str, sk: &str) -> &'a mut Item {
    items
        .iter_mut()
        .find(|i| {
            i.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some(pk)
                && i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some(sk)
        })
        .unwrap_or_else(|| panic!("no item {pk} / {sk}"))
}

/// Corruption the engine would refuse to store (empty or mistyped index keys) or that is
/// quicker to plant in memory: checked on the items, in process and in SQL.
#[tokio::test]
async fn corruption_planted_in_memory() {
    let env = TestEnv::new().await;
    let t = tree(&env).await;
    env.store.register_types(&entities::all()).await.unwrap();
    let mut items = env.scan_all().await;
    let account = urn(&t.account);
    let (col, job0, job1, job2) = (
        urn(&t.collections[0]),
        urn(&t.jobs[0]),
        urn(&t.jobs[1]),
        urn(&t.jobs[2]),
    );
    let (label, user, team) = (urn(&t.labels[0]), urn(&t.users[0]), urn(&t.team));
    find(&mut items, &label, &label).insert("GSI1PK".into(), AV::S(String::new()));
    find(&mut items, &label, &label).insert("GSI1SK".into(), AV::N("1".into()));
    find(&mut items, &user, &user).insert("_accountUrn".into(), AV::S(String::new()));
    find(&mut items, &job0, &job0).remove("_ancestors");
    find(&mut items, &job1, &job1).insert("_ancestors".into(), l([job1.clone()]));
    find(&mut items, &job2, &job2).insert("_childCount".into(), n(-1));
    find(&mut items, &job2, &job2).insert("_memberCount".into(), AV::S("x".into()));
    find(&mut items, &team, &team).insert("_accountUrn".into(), AV::S(team.clone()));
    // The collection fenced: its jobs are exempt, the fence is reported.
    find(&mut items, &col, &col)
        .insert("_deleting".into(), AV::S("2026-11-25T10:30:00.000Z".into()));
    // A stray record naming the root as a child; a marker with a malformed key.
    items.push(ddbrel_tests::records::parent_child(&col, &account));
    items.push(marker("unique#System.Account", &account, SLUG));
    items.push(marker(
        &format!("unique#System.Account#slug#global#{}", "v".repeat(1100)),
        &account,
        SLUG,
    ));
    // The registry: the user type registered at an older schema version, not account-scoped,
    // and with another parent type.
    for i in items.iter_mut() {
        if i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str)
            == Some("type#pp#System.Account.User")
        {
            i.insert("schemaVersion".into(), n(0));
            i.insert("accountScoped".into(), AV::Bool(false));
            i.insert("parent".into(), AV::S("System.Account.Team".into()));
        }
    }
    let found = same_findings_of(&items, env.store.table(), "in memory");
    assert_has(&found, "schema", "I7", &label);
    assert_has(&found, "schema", "I7", &user);
    assert_has(&found, "parent-relationship", "I2", &job0);
    assert_has(&found, "ancestors", "I3", &job1);
    assert_has(&found, "count-mismatch", "counts", &job2);
    assert_has(&found, "account-mismatch", "I5", &team);
    assert_has(&found, "unfinished-cascade", "fence", &col);
    assert_has(&found, "parent-relationship", "I2", &account);
    assert_has(&found, "schema", "I4", "unique#System.Account");
    assert_has(&found, "schema", "I10", "type System.Account.User");
    assert_has(&found, "account-mismatch", "I5", "type System.Account.User");
    assert_has(
        &found,
        "parent-relationship",
        "I2",
        "type System.Account.User",
    );
}

/// A small deterministic generator (a 64-bit LCG), so the random corruption below is the same
/// on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn s_of(i: &Item, name: &str) -> String {
    i.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// Random corruption of a sample tree (records dropped, counts, sets, parents, ancestors,
/// accounts, fences, listings, markers' owners changed), 24 fixed seeds: SQL and the
/// in-process checker agree on every one.
#[tokio::test]
async fn random_corruption_agrees() {
    let env = TestEnv::new().await;
    build_tree(&env.store, 3, 4, 2, 3).await.expect("build");
    let base = env.scan_all().await;
    let mut planted = 0;
    for seed in 0..24u64 {
        let mut rnd = Lcg(seed);
        let mut items: Vec<Item> = base
            .iter()
            .filter(|_| rnd.below(100) >= 4)
            .cloned()
            .collect();
        let urns: Vec<String> = items
            .iter()
            .filter(|i| s_of(i, "_type") == "Resource")
            .map(|i| s_of(i, "PK"))
            .collect();
        for _ in 0..8 {
            let at = rnd.below(items.len());
            let other = AV::S(urns[rnd.below(urns.len())].clone());
            let i = &mut items[at];
            match rnd.below(12) {
                0 => i.insert("_childCount".into(), n(rnd.below(6) as i64 - 1)),
                1 => i.insert("_deleting".into(), AV::S("2026-11-25T10:30:00.000Z".into())),
                2 => i.remove("_ancestors"),
                3 => i.insert("_memberOf".into(), AV::Ss(vec![urns[0].clone()])),
                4 => i.insert(
                    "_conveyingCollections".into(),
                    AV::Ss(vec![urns[1].clone()]),
                ),
                5 => i.insert("_accountUrn".into(), other),
                6 => i.remove("GSI1PK"),
                7 => i.insert("_parentUrn".into(), other),
                8 => i.remove("_parentUrn"),
                9 => i.insert("_memberCount".into(), n(rnd.below(4) as i64 - 1)),
                10 => i.insert("_ownerUrn".into(), other),
                _ => i.insert(
                    "_ancestors".into(),
                    l([urns[rnd.below(urns.len())].clone()]),
                ),
            };
        }
        planted += same_findings_of(&items, env.store.table(), &format!("seed {seed}")).len();
    }
    assert!(planted > 24, "the corruption was found: {planted} findings");
}

#[test]
fn a_damaged_or_missing_export_is_a_typed_error() {
    let empty = tempfile::tempdir().unwrap();
    let err = sql::audit_export_sql(empty.path()).unwrap_err();
    assert!(
        matches!(err, ddbrel_runtime::Error::InvalidArgument { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("AWSDynamoDB"), "{err}");
    // A data line that is not an item names its file and line.
    let dir = tempfile::tempdir().unwrap();
    let written = integrity::write_export(
        dir.path(),
        "t",
        &[marker("unique#System.Account#slug#global#x", GHOST, SLUG)],
    )
    .unwrap();
    let data = std::fs::read_dir(written.root.join("data"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&data).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut gz, b"{\"Item\":{\"PK\":{\"Q\":1}}}\n").unwrap();
    gz.finish().unwrap();
    let err = sql::audit_export_sql(dir.path()).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    assert!(err.to_string().contains(".json.gz"), "{err}");
}
