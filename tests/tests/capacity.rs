//! Consumed capacity per operation (ReturnConsumedCapacity = INDEXES, summed by the
//! CapacityMeter interceptor): a resource of a child type costs no InvertedIndex write; a
//! root costs exactly its listing entry (contract 4).

use ddbrel_runtime::{CapacityMeter, Store};
use ddbrel_tests::sample::{self, job};
use entities::{Account, JobCollection, Label};

#[tokio::test]
async fn capacity_is_reported_and_only_roots_and_relationships_cost_inverted_index_writes() {
    let engine = ddbrel_runtime::embedded::Engine::memory().await.unwrap();
    let meter = CapacityMeter::new();
    let config = engine.config_builder().interceptor(meter.clone()).build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "capacity");
    store.create_table().await.unwrap();

    let (acct, cap) = meter.measure(store.create(sample::account("cap"))).await;
    let acct = acct.unwrap();
    assert_eq!(cap.requests, 1);
    assert!(cap.write_units > 0.0, "{cap:?}");
    assert_eq!(
        cap.inverted_index_units, 1.0,
        "a root resource: its listing entry, one GSI1 write"
    );

    let (col, cap) = meter
        .measure(store.create_child(
            &acct,
            JobCollection {
                name: "c".into(),
                description: None,
            },
        ))
        .await;
    let col = col.unwrap();
    assert!(cap.write_units > 0.0);
    let (j, _) = meter.measure(store.create_child(&col, job("j"))).await;
    let j = j.unwrap();

    let (_, cap) = meter.measure(store.get(&j.urn)).await;
    assert!(cap.read_units > 0.0, "{cap:?}");
    assert_eq!(cap.write_units, 0.0);

    // An update of a resource touches no InvertedIndex.
    let mut g = store.get(&j.urn).await.unwrap();
    g.data.name = "renamed".into();
    let (_, cap) = meter.measure(store.update(&g)).await;
    assert!(cap.write_units > 0.0);
    assert_eq!(cap.inverted_index_units, 0.0, "{cap:?}");

    let label = store
        .create_child(
            &acct,
            Label {
                name: "l".into(),
                color: "c".into(),
            },
        )
        .await
        .unwrap();
    let (_, cap) = meter.measure(store.add_member(&label, &j)).await;
    assert!(cap.write_units > 0.0, "{cap:?}");
    assert!(
        cap.inverted_index_units > 0.0,
        "a membership record is written to the InvertedIndex, and the meter sees it: {cap:?}"
    );
}

/// The WCU/RCU column of docs/BENCHMARKS.md: capacity per operation, next to its requests.
/// Run with `--nocapture` to print the table.
#[tokio::test]
async fn capacity_per_operation() {
    use ddbrel_runtime::{Capacity, Order, PageRequest, RequestCounter};
    use entities::{Job, Team, User};
    let engine = ddbrel_runtime::embedded::Engine::memory().await.unwrap();
    let meter = CapacityMeter::new();
    let counter = RequestCounter::new();
    let config = engine
        .config_builder()
        .interceptor(meter.clone())
        .interceptor(counter.clone())
        .build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "capacity");
    store.create_table().await.unwrap();
    let mut rows: Vec<(String, u64, Capacity)> = Vec::new();
    macro_rules! op {
        ($name:expr, $f:expr) => {{
            meter.reset();
            counter.reset();
            let out = $f.await.unwrap();
            rows.push(($name.to_string(), counter.total(), meter.total()));
            out
        }};
    }
    let acct = op!(
        "create root, 1 unique constraint",
        store.create(sample::account("w"))
    );
    let col = op!(
        "create child, 1 unique constraint",
        store.create_child(
            &acct,
            JobCollection {
                name: "c".into(),
                description: None
            }
        )
    );
    let j = op!("create child (depth 2)", store.create_child(&col, job("j")));
    let mut g = op!("get", store.get(&j.urn));
    g.data.name = "x".into();
    op!("update, no unique change", store.update(&g));
    let user = store
        .create_child(
            &acct,
            User {
                email: "a@b.c".into(),
                display_name: "a".into(),
            },
        )
        .await
        .unwrap();
    let team = store
        .create_child(&acct, Team { name: "t".into() })
        .await
        .unwrap();
    op!("add member", store.add_member(&team, &user));
    op!(
        "children page with data (1)",
        store.children_with_data::<Job>(&col.urn, PageRequest::all())
    );
    op!(
        "account page",
        store.by_account::<Job>(&acct.urn, Order::OldestFirst, PageRequest::all())
    );
    op!(
        "authorization scope (user in a team)",
        store.authorization_scope(user.urn.as_any())
    );
    op!(
        "lookup by unique value",
        Account::find_by_slug(&store, acct.data.slug.clone())
    );
    let leaf = store.get(&j.urn).await.unwrap();
    op!("delete leaf", store.delete(&leaf));
    println!(
        "| operation | requests | RCU | WCU | of which InvertedIndex | of which ResourcesByAccountIndex |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, requests, c) in &rows {
        println!(
            "| {name} | {requests} | {} | {} | {} | {} |",
            c.read_units, c.write_units, c.inverted_index_units, c.account_index_units
        );
        assert_eq!(
            c.requests, *requests,
            "{name}: every request reported capacity"
        );
    }
    let get = &rows[3].2;
    assert!(get.read_units > 0.0 && get.write_units == 0.0);
    // A root create costs its listing entry; a child create the one entry of its
    // ParentChildRelationship, and directly under a root also the root's listing entry again
    // (its `_childCount` moved, and the index projects every attribute); an update of a
    // child resource none.
    let gsi1 = |i: usize| rows[i].2.inverted_index_units;
    assert_eq!(gsi1(0), 1.0, "{}", rows[0].0);
    assert_eq!(gsi1(1), 2.0, "{}", rows[1].0);
    assert_eq!(gsi1(2), 1.0, "{}", rows[2].0);
    assert_eq!(gsi1(4), 0.0, "{}", rows[4].0);
}
