//! The request-count table of docs/BENCHMARKS.md, asserted: every public operation's requests
//! against the floor DynamoDB allows, in three tests (writes, reads and memberships, deletes).
//! Run with `--nocapture` to print the table, in those three parts.

use std::collections::BTreeMap;

use ddbrel_runtime::{Entity, Order, PageRequest, Store, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::sample::{self, job};
use entities::{Account, Job, JobCollection, Label, Team, User};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.A")]
struct A {
    n: u32,
}
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.A.B")]
#[parent(A)]
struct B {
    n: u32,
}
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.A.B.C")]
#[parent(B)]
struct C {
    n: u32,
}
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.A.B.C.D")]
#[parent(C)]
struct D {
    n: u32,
}

/// Three unique constraints.
/// Nested in itself: in an `A`, or in another `Nest`.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.A.Nest")]
#[parent(A, Self)]
struct Nest {
    #[unique(scope = parent)]
    n: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "Deep.Tri")]
struct Tri {
    #[unique]
    a: String,
    #[unique]
    b: String,
    #[unique]
    c: String,
}

struct Table {
    rows: Vec<(String, u64, u64, String)>,
}

impl Table {
    fn new() -> Table {
        Table { rows: Vec::new() }
    }

    /// Prints the rows (`--nocapture`), as docs/BENCHMARKS.md shows them.
    fn print(&self) {
        println!("| operation | requests | floor | detail |");
        println!("|---|---|---|---|");
        for (op, total, floor, detail) in &self.rows {
            println!("| {op} | {total} | {floor} | {detail} |");
        }
    }

    fn row(&mut self, op: &str, counts: &BTreeMap<String, u64>, floor: u64) -> u64 {
        let total: u64 = counts.values().sum();
        let detail = counts
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .collect::<Vec<_>>()
            .join(" + ");
        self.rows.push((op.to_string(), total, floor, detail));
        total
    }
}

async fn jobs_under(store: &Store, col: &Stored<JobCollection>, n: usize) {
    stream::iter(0..n)
        .map(|i| async move { store.create_child(col, job(&format!("j{i}"))).await })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
}

/// An account with a user, a job collection holding 21 jobs (the first is `job`), a label
/// holding nothing yet and a team holding the user; and a root `A`. Not measured.
struct Sample {
    acct: Stored<Account>,
    user: Stored<User>,
    col: Stored<JobCollection>,
    job: Stored<Job>,
    label: Stored<Label>,
    a: Stored<A>,
}

async fn sample_tree(store: &Store) -> Sample {
    let acct = store.create(sample::account("rc")).await.unwrap();
    let user = sample::user(store, &acct, "u@x.io").await.unwrap();
    let col = sample::collection(store, &acct, "c").await.unwrap();
    let job = store.create_child(&col, sample::job("j")).await.unwrap();
    jobs_under(store, &col, 20).await;
    let label = sample::label(store, &acct, "l").await.unwrap();
    let team = store
        .create_child(&acct, Team { name: "t".into() })
        .await
        .unwrap();
    store.add_member(&team, &user).await.unwrap();
    let a = store.create(A { n: 0 }).await.unwrap();
    Sample {
        acct,
        user,
        col,
        job,
        label,
        a,
    }
}

#[tokio::test]
async fn writes_are_at_the_floor() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let c = &env.counter;
    let mut t = Table::new();

    let (acct, n) = c.measure(store.create(sample::account("rc"))).await;
    let acct = acct.unwrap();
    assert_eq!(t.row("create root, 1 unique constraint", &n, 1), 1);
    let (tri, n) = c
        .measure(store.create(Tri {
            a: "a".into(),
            b: "b".into(),
            c: "c".into(),
        }))
        .await;
    let tri = tri.unwrap();
    assert_eq!(t.row("create root, 3 unique constraints", &n, 1), 1);
    let (_, n) = c.measure(store.create(A { n: 0 })).await;
    assert_eq!(t.row("create root, no constraint (PutItem)", &n, 1), 1);
    let (_, n) = c.measure(sample::user(store, &acct, "u@x.io")).await;
    assert_eq!(t.row("create child, 1 unique constraint", &n, 1), 1);
    let (col, n) = c.measure(sample::collection(store, &acct, "c")).await;
    let col = col.unwrap();
    assert_eq!(t.row("create child (depth 1)", &n, 1), 1);
    let (j, n) = c.measure(store.create_child(&col, job("j"))).await;
    let j = j.unwrap();
    assert_eq!(
        t.row("create child (depth 2, parent checked only)", &n, 1),
        1
    );

    let (got, n) = c.measure(store.get(&j.urn)).await;
    let mut got = got.unwrap();
    assert_eq!(t.row("get", &n, 1), 1);
    got.data.name = "renamed".into();
    let (_, n) = c.measure(store.update(&got)).await;
    assert_eq!(t.row("update, no unique change (UpdateItem)", &n, 1), 1);
    let mut tri2 = tri.clone();
    tri2.data.b = "b2".into();
    let (_, n) = c.measure(store.update(&tri2)).await;
    assert_eq!(t.row("update, one unique change", &n, 1), 1);
    let (_, n) = c.measure(Tri::find_by_b(store, "b2")).await;
    assert_eq!(t.row("lookup by unique value", &n, 2), 2);
    let (patched, n) = c
        .measure(
            store
                .patch(&j.urn)
                .set(Job::fields().schedule, Some("@daily".to_string()))
                .send(),
        )
        .await;
    assert_eq!(patched.unwrap().meta.version, 3);
    assert_eq!(t.row("patch of one field (UpdateItem)", &n, 1), 1);
    let missing = Job::new_urn();
    let (many, n) = c
        .measure(store.get_many(&[j.urn.clone(), missing.clone(), j.urn.clone()]))
        .await;
    let many = many.unwrap();
    assert_eq!(t.row("get_many, 3 URNs (1 missing, 1 repeated)", &n, 1), 1);
    assert_eq!(many.len(), 3, "one entry per URN, in order");
    assert_eq!(many[0].as_ref().map(|s| &s.urn), Some(&j.urn));
    assert!(many[1].is_none(), "the missing one is reported");
    assert_eq!(many[2].as_ref().map(|s| &s.urn), Some(&j.urn));
    t.print();
}

#[tokio::test]
async fn reads_and_memberships_are_at_the_floor() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let c = &env.counter;
    let mut t = Table::new();
    let Sample {
        acct,
        user,
        col,
        job: j,
        label,
        a,
    } = sample_tree(store).await;

    let (_, n) = c.measure(store.add_member(&label, &j)).await;
    assert_eq!(t.row("add member", &n, 1), 1);
    let (_, n) = c.measure(store.parent_of(&j.urn)).await;
    assert_eq!(t.row("parent of", &n, 1), 1);
    let (_, n) = c
        .measure(store.children_with_data::<Job>(&col.urn, PageRequest::first(100)))
        .await;
    assert_eq!(t.row("children page with data (21)", &n, 2), 2);
    let (_, n) = c
        .measure(store.members(&label.urn, PageRequest::all()))
        .await;
    assert_eq!(t.row("members page", &n, 1), 1);
    let (_, n) = c
        .measure(store.collections_of(j.urn.as_any(), PageRequest::all()))
        .await;
    assert_eq!(t.row("collections of (InvertedIndex)", &n, 1), 1);
    let (_, n) = c
        .measure(store.by_account::<Job>(&acct.urn, Order::OldestFirst, PageRequest::first(50)))
        .await;
    assert_eq!(t.row("account page (ResourcesByAccountIndex)", &n, 1), 1);
    let (_, n) = c.measure(store.ancestors(j.urn.as_any())).await;
    assert_eq!(t.row("ancestors", &n, 1), 1);

    // Authorization scope at depth 1 and 4.
    let b = store.create_child(&a, B { n: 1 }).await.unwrap();
    let cc = store.create_child(&b, C { n: 2 }).await.unwrap();
    let d = store.create_child(&cc, D { n: 3 }).await.unwrap();
    let (_, n1) = c.measure(store.authorization_scope(b.urn.as_any())).await;
    let (_, n4) = c.measure(store.authorization_scope(d.urn.as_any())).await;
    let s1 = t.row("authorization scope, depth 1", &n1, 2);
    let s4 = t.row("authorization scope, depth 4", &n4, 2);
    assert_eq!(s1, 2);
    assert_eq!(s4, s1, "the depth does not add requests");
    let (_, n) = c
        .measure(store.authorization_scope(user.urn.as_any()))
        .await;
    assert_eq!(
        t.row("authorization scope, via a conveying collection", &n, 3),
        3
    );
    t.print();
}

#[tokio::test]
async fn deletes_are_at_the_floor() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let c = &env.counter;
    let mut t = Table::new();
    let Sample { acct, a, .. } = sample_tree(store).await;

    let b = store.create_child(&a, B { n: 1 }).await.unwrap();
    let cc = store.create_child(&b, C { n: 2 }).await.unwrap();
    let d = store.create_child(&cc, D { n: 3 }).await.unwrap();
    let leaf = store.get(&d.urn).await.unwrap();
    let (_, n) = c.measure(store.delete(&leaf)).await;
    assert_eq!(t.row("delete leaf", &n, 1), 1);
    for (label_text, jobs) in [("≈10", 4usize), ("≈1,000", 499), ("≈10,000", 4999)] {
        let col = sample::collection(store, &acct, &format!("cascade-{jobs}"))
            .await
            .unwrap();
        jobs_under(store, &col, jobs).await;
        // Records: the collection, its parent record, its name marker, and per job the
        // resource and its parent record.
        let records = (3 + 2 * jobs) as u64;
        let (report, n) = c.measure(store.delete_urn(col.urn.as_any())).await;
        let report = report.unwrap();
        assert_eq!(report.record_count() as u64, records);
        let discovery = n.get("Query").copied().unwrap_or(0)
            + n.get("BatchGetItem").copied().unwrap_or(0)
            + n.get("GetItem").copied().unwrap_or(0);
        // The sweep (SCHEMA.md §7): the fence, one transaction per 49 leaves (each job is its
        // resource and its parent-child record; the collection's count takes the 99th action),
        // and the root's own delete, on top of its reads.
        let jobs = jobs as u64;
        let floor = if report.swept {
            discovery + 2 + jobs.div_ceil(49)
        } else {
            discovery + 1
        };
        if report.swept {
            assert_eq!(
                n.get("TransactWriteItems").copied().unwrap_or(0),
                jobs.div_ceil(49) + 1,
                "{n:?}"
            );
            // One Query and one BatchGetItem per 98 records of the collection, one more
            // Query to see it empty, and the pages of the small-closure attempt; before them
            // the restrict pass (SCHEMA.md §7, "Restrict"): the partition's pages and one
            // BatchGetItem per 100 children.
            let reads =
                n.get("Query").copied().unwrap_or(0) + n.get("BatchGetItem").copied().unwrap_or(0);
            assert!(
                reads <= 2 * jobs.div_ceil(98) + jobs.div_ceil(100) + 8,
                "{n:?}"
            );
        }
        let spent = t.row(
            &format!("cascade of {label_text} records ({records})"),
            &n,
            floor,
        );
        assert!(
            spent as f64 <= floor as f64 * 1.1,
            "{records} records: {spent} requests, floor {floor}: {n:?}"
        );
    }

    t.print();
}

/// `get_many` of 250 URNs: one BatchGetItem per 100 distinct keys, in the caller's order.
#[tokio::test]
async fn get_many_is_one_batch_get_per_100_urns_in_order() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let acct = store.create(sample::account("many")).await.unwrap();
    let col = sample::collection(store, &acct, "c").await.unwrap();
    jobs_under(store, &col, 240).await;
    let mut urns: Vec<_> = store
        .children::<Job>(&col.urn, PageRequest::all())
        .await
        .unwrap()
        .items;
    urns.reverse();
    urns.extend((0..10).map(|_| Job::new_urn()));
    env.counter.reset();
    let many = store.get_many(&urns).await.unwrap();
    assert_eq!(
        env.counter.snapshot(),
        [("BatchGetItem".to_string(), 3)].into()
    );
    assert_eq!(many.len(), 250);
    for (urn, got) in urns.iter().zip(&many).take(240) {
        assert_eq!(got.as_ref().map(|s| &s.urn), Some(urn));
    }
    assert!(many[240..].iter().all(Option::is_none));
}

/// Related data of mixed types: ancestors and collections with their data in 2 requests each
/// (1 for a root), a mixed page in 1, each decoded by a typed dispatch.
#[tokio::test]
async fn related_data_of_mixed_types_in_two_requests() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let c = &env.counter;
    let acct = store.create(sample::account("rel")).await.unwrap();
    let col = sample::collection(store, &acct, "c").await.unwrap();
    let j = store.create_child(&col, job("j")).await.unwrap();
    let mut labels = Vec::new();
    for name in ["red", "blue"] {
        let label = sample::label(store, &acct, name).await.unwrap();
        store.add_member(&label, &j).await.unwrap();
        labels.push(label);
    }

    let (ancestors, n) = c.measure(store.ancestors_with_data(j.urn.as_any())).await;
    let ancestors = ancestors.unwrap();
    assert_eq!(n.values().sum::<u64>(), 2, "{n:?}");
    assert_eq!(n.get("BatchGetItem"), Some(&1), "{n:?}");
    let urns: Vec<_> = ancestors.iter().map(|a| a.urn.clone()).collect();
    assert_eq!(urns, [acct.urn.as_any().clone(), col.urn.as_any().clone()]);
    let root = ancestors[0]
        .decode::<Account>()
        .expect("an Account")
        .unwrap();
    assert_eq!(root.data.name, acct.data.name);
    assert!(ancestors[0].decode::<JobCollection>().is_none());
    let parent = ancestors[1]
        .decode::<JobCollection>()
        .expect("a JobCollection");
    assert_eq!(parent.unwrap().meta.child_count, 1);

    let (none, n) = c
        .measure(store.ancestors_with_data(acct.urn.as_any()))
        .await;
    assert!(none.unwrap().is_empty());
    assert_eq!(n.values().sum::<u64>(), 1, "a root: no BatchGetItem: {n:?}");

    let (collections, n) = c.measure(store.collections_with_data(j.urn.as_any())).await;
    let collections = collections.unwrap();
    assert_eq!(n.values().sum::<u64>(), 2, "{n:?}");
    let mut names: Vec<String> = collections
        .iter()
        .map(|s| s.decode::<Label>().expect("a Label").unwrap().data.name)
        .collect();
    names.sort();
    assert_eq!(names, ["blue", "red"]);

    let missing = Job::new_urn();
    let page = [
        j.urn.as_any().clone(),
        missing.as_any().clone(),
        acct.urn.as_any().clone(),
    ];
    let (mixed, n) = c.measure(store.get_many_any(&page)).await;
    let mixed = mixed.unwrap();
    assert_eq!(n.values().sum::<u64>(), 1, "{n:?}");
    assert!(mixed[0].as_ref().is_some_and(|r| r.is::<Job>()));
    assert!(mixed[1].is_none(), "the missing one is reported");
    assert!(mixed[2].as_ref().is_some_and(|r| r.is::<Account>()));
}

#[tokio::test]
async fn a_filtered_listing_reads_what_the_unfiltered_one_reads() {
    let env = TestEnv::new().await;
    let (store, c) = (&env.store, &env.counter);
    let acct = store.create(sample::account("filtered")).await.unwrap();
    let col = sample::collection(store, &acct, "c").await.unwrap();
    let label = sample::label(store, &acct, "l").await.unwrap();
    jobs_under(store, &col, 20).await;
    let jobs = store
        .children_with_data::<Job>(&col.urn, PageRequest::all())
        .await
        .unwrap();
    for j in &jobs.items {
        store.add_member(&label, j).await.unwrap();
    }
    // The sample jobs are active: a filter for paused ones keeps none of what it reads.
    let paused = Job::fields().status.equals(entities::JobStatus::Paused);
    let (page, n) = c
        .measure(Box::pin(store.by_account_where::<Job>(
            &acct.urn,
            &paused,
            Order::OldestFirst,
            PageRequest::first(50),
        )))
        .await;
    assert!(page.unwrap().items.is_empty());
    assert_eq!(n, BTreeMap::from([("Query".to_string(), 1)]));
    let (page, n) = c
        .measure(Box::pin(store.children_with_data_where::<Job>(
            &col.urn,
            &paused,
            PageRequest::first(100),
        )))
        .await;
    assert!(page.unwrap().items.is_empty());
    let two = BTreeMap::from([("BatchGetItem".to_string(), 1), ("Query".to_string(), 1)]);
    assert_eq!(n, two);
    let (page, n) = c
        .measure(Box::pin(store.members_with_data_where::<Label, Job>(
            &label.urn,
            &paused,
            PageRequest::all(),
        )))
        .await;
    assert!(page.unwrap().items.is_empty());
    assert_eq!(n, two);
}

/// A type nested in itself (#14 item 1) costs at depth 5 what a child of one parent type
/// costs: a create is 1 transaction (the parent passed as read), `parent_of` 1 GetItem,
/// children 1 Query a page, a lookup among a parent's children 2, the authorization scope 2.
#[tokio::test]
async fn a_type_nested_in_itself_costs_what_one_parent_type_costs() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let c = &env.counter;
    let a = store.create(A { n: 0 }).await.unwrap();
    let mut chain = vec![store.create_child(&a, Nest { n: 0 }).await.unwrap()];
    for n in 1..4 {
        let parent = chain.last().unwrap().clone();
        chain.push(store.create_child(&parent, Nest { n }).await.unwrap());
    }
    let deepest = chain.last().unwrap().clone();
    let (made, n) = c.measure(store.create_child(&deepest, Nest { n: 9 })).await;
    let made = made.unwrap();
    assert_eq!(n, [("TransactWriteItems".to_string(), 1)].into());
    assert_eq!(made.meta.ancestors.len(), 5);
    let (parent, n) = c.measure(store.parent_of(&made.urn)).await;
    assert_eq!(parent.unwrap(), NestParent::Nest(deepest.urn.clone()));
    assert_eq!(n, [("GetItem".to_string(), 1)].into());
    let (kids, n) = c
        .measure(store.children::<Nest>(&deepest.urn, PageRequest::all()))
        .await;
    assert_eq!(kids.unwrap().items, vec![made.urn.clone()]);
    assert_eq!(n, [("Query".to_string(), 1)].into());
    let (found, n) = c.measure(Nest::find_by_n(store, &deepest.urn, 9)).await;
    assert_eq!(found.unwrap().map(|f| f.urn), Some(made.urn.clone()));
    assert_eq!(n.values().sum::<u64>(), 2, "{n:?}");
    let (scope, n) = c
        .measure(store.authorization_scope(made.urn.as_any()))
        .await;
    assert_eq!(scope.unwrap().len(), 6);
    assert_eq!(
        n,
        [("BatchGetItem".to_string(), 1), ("GetItem".to_string(), 1)].into()
    );
}
