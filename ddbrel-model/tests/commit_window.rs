//! Commit windows, checked deterministically: a manual clock keeps a committing transaction's
//! items invisible until the test steps the clock past each item's visibility time. A held-back
//! read is observed through the model (`until_reads_waiting`) and by polling its task once;
//! nothing sleeps and nothing is timed.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::TransactWriteItem;
use ddbrel_model::{Clock, ModelConfig};

mod common;
use common::{TABLE, s};

const HOLD: Duration = Duration::from_millis(10);
const WINDOW: Duration = Duration::from_millis(10);

fn put(pk: &str) -> TransactWriteItem {
    common::put(pk, pk, &[("v", "1")])
}

async fn get(client: &Client, pk: &str) -> bool {
    client
        .get_item()
        .table_name(TABLE)
        .key("PK", s(pk))
        .key("SK", s(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_become_visible_one_at_a_time() {
    let e = common::env(ModelConfig {
        hold: HOLD,
        commit_window: Some(WINDOW),
        ..ModelConfig::default()
    })
    .await;
    let (model, client) = (&e.model, &e.client);

    // A two-item transaction: x visible at 15 ms, y at 20 ms (model time).
    let tx = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .transact_write_items()
                .transact_items(put("x"))
                .transact_items(put("y"))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        })
    };
    model.until_applied_and_holding(1).await;

    // Past the hold and x's visibility time, before y's.
    model.clock().advance(Duration::from_millis(15));
    // A read of x waits (if at all) only for the transaction's task to release x.
    assert!(get(client, "x").await, "x is visible");
    // x is applied: a single write to it passes; y is not: a write to it conflicts.
    client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("x"))
        .item("SK", s("x"))
        .item("v", s("2"))
        .send()
        .await
        .expect("x is applied, so writable");
    let refused = client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("y"))
        .item("SK", s("y"))
        .item("v", s("2"))
        .send()
        .await
        .expect_err("y is not applied yet");
    assert_eq!(refused.code(), Some("TransactionConflictException"));

    // A read of y is held back in the connector until the clock reaches 20 ms.
    let waiting_before = model.reads_waiting();
    let mut read_y = {
        let client = client.clone();
        tokio::spawn(async move { get(&client, "y").await })
    };
    model.until_reads_waiting(waiting_before + 1).await;
    assert!(
        futures::poll!(&mut read_y).is_pending(),
        "a read of y completes only after its visibility time"
    );
    assert!(
        !tx.is_finished(),
        "the transaction answers after its window"
    );
    // A Query of y's partition waits too; one of another partition does not.
    let mut query_y = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .query()
                .table_name(TABLE)
                .key_condition_expression("#p = :pk")
                .expression_attribute_names("#p", "PK")
                .expression_attribute_values(":pk", s("y"))
                .consistent_read(true)
                .send()
                .await
                .map(|q| q.count())
                .map_err(|e| format!("{e:?}"))
        })
    };
    model.until_reads_waiting(waiting_before + 2).await;
    assert!(futures::poll!(&mut query_y).is_pending());
    let other = client
        .query()
        .table_name(TABLE)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", s("z"))
        .consistent_read(true)
        .send()
        .await
        .expect("query of a free partition");
    assert_eq!(other.count(), 0);

    model.clock().advance(Duration::from_millis(5));
    assert!(read_y.await.expect("join"), "y is visible at 20 ms");
    assert_eq!(query_y.await.expect("join"), Ok(1));
    tx.await.expect("join").expect("the transaction commits");
    model.until_idle().await;
    assert_eq!(model.held_items(), 0);
    let stats = model.stats();
    assert!(stats.delayed_reads >= 1, "{stats:?}");
    assert_eq!(stats.single_write_conflicts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_window_reads_are_not_held_back() {
    let e = common::env_with(ModelConfig::default(), Clock::manual(), true).await;
    let (model, client) = (&e.model, &e.client);
    assert_eq!(model.config().commit_window, None, "off by default");
    let tx = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .transact_write_items()
                .transact_items(put("x"))
                .transact_items(put("y"))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        })
    };
    model.until_applied_and_holding(1).await;
    // The clock is frozen inside the hold: a held-back read would never return.
    assert!(get(client, "y").await);
    model.clock().advance(HOLD);
    tx.await.expect("join").expect("commits");
    assert_eq!(model.stats().delayed_reads, 0);
}

async fn value(client: &Client, pk: &str) -> Option<String> {
    client
        .get_item()
        .table_name(TABLE)
        .key("PK", s(pk))
        .key("SK", s(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item?
        .get("v")?
        .as_s()
        .ok()
        .cloned()
}

/// Read-committed commits: during the hold a read sees the old values, in the window the
/// items written so far new and the others old, and nobody waits; the conditions were
/// evaluated together at arrival, so a transaction that fails one writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_committed_reads_see_a_partial_commit() {
    let e = common::env_with(
        ModelConfig {
            hold: HOLD,
            commit_window: Some(WINDOW),
            read_committed: true,
            ..ModelConfig::default()
        },
        Clock::manual(),
        true,
    )
    .await;
    let (model, client) = (&e.model, &e.client);
    client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("y"))
        .item("SK", s("y"))
        .item("v", s("old"))
        .send()
        .await
        .expect("seed y");

    let tx = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .transact_write_items()
                .transact_items(common::put("x", "x", &[("v", "new")]))
                .transact_items(common::put("y", "y", &[("v", "new")]))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        })
    };
    model.until_applied_and_holding(1).await;
    // The hold (prepare): the old values, at once.
    assert_eq!(value(client, "x").await, None);
    assert_eq!(value(client, "y").await.as_deref(), Some("old"));
    // Past x's visibility time, before y's: x new, y old.
    model.clock().advance(Duration::from_millis(15));
    model.until_held_at_most(1).await;
    assert_eq!(value(client, "x").await.as_deref(), Some("new"));
    assert_eq!(value(client, "y").await.as_deref(), Some("old"));
    model.clock().advance(Duration::from_millis(5));
    tx.await.expect("join").expect("commits");
    assert_eq!(value(client, "y").await.as_deref(), Some("new"));
    let stats = model.stats();
    assert_eq!(stats.delayed_reads, 0, "nobody waited");
    assert_eq!(stats.staged_write_failures, 0);

    // A condition that fails cancels the whole transaction: nothing is written.
    let refused = client
        .transact_write_items()
        .transact_items(common::put("z", "z", &[("v", "1")]))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    aws_sdk_dynamodb::types::ConditionCheck::builder()
                        .table_name(TABLE)
                        .key("PK", s("nobody"))
                        .key("SK", s("nobody"))
                        .condition_expression("attribute_exists(PK)")
                        .build()
                        .expect("check"),
                )
                .build(),
        )
        .send();
    let refused = tokio::spawn(refused);
    model.until_applied_and_holding(1).await;
    model.clock().advance(HOLD);
    let err = refused.await.expect("join").expect_err("cancelled");
    assert_eq!(err.code(), Some("TransactionCanceledException"));
    assert_eq!(value(client, "z").await, None, "nothing written");
}
