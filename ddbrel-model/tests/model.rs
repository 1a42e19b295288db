//! The model's rules, each checked deterministically: a manual clock keeps a transaction in
//! flight (holding its items) until the test steps the clock past its hold. Nothing sleeps and
//! nothing is timed; every request the model lets through executes on the embedded engine.

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use ddbrel_model::ModelConfig;

mod common;
use common::{Env, TABLE, s};

const HOLD: Duration = Duration::from_millis(10);

async fn env() -> Env {
    common::env(ModelConfig {
        hold: HOLD,
        ..ModelConfig::default()
    })
    .await
}

fn put(pk: &str) -> TransactWriteItem {
    common::put(pk, pk, &[("v", "1")])
}

fn check(pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(TABLE)
                .key("PK", s(pk))
                .key("SK", s(pk))
                .condition_expression("attribute_not_exists(#x)")
                .expression_attribute_names("#x", "x")
                .build()
                .expect("a valid ConditionCheck"),
        )
        .build()
}

fn add(pk: &str, n: i64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(TABLE)
                .key("PK", s(pk))
                .key("SK", s(pk))
                .update_expression("ADD #n :n")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
                .build()
                .expect("a valid Update"),
        )
        .build()
}

impl Env {
    /// Starts a transaction and returns once it is applied on the engine and holds its items.
    async fn in_flight(
        &self,
        items: Vec<TransactWriteItem>,
        token: Option<&str>,
    ) -> tokio::task::JoinHandle<Result<(), String>> {
        let before = self.model.holding();
        let client = self.client.clone();
        let token = token.map(str::to_string);
        let handle = tokio::spawn(async move {
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .set_client_request_token(token)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        });
        self.model.until_applied_and_holding(before + 1).await;
        handle
    }

    /// Ends every hold: steps the clock past it.
    fn end_holds(&self) {
        self.model.clock().advance(HOLD);
    }

    async fn n_of(&self, pk: &str) -> Option<String> {
        let item = self
            .raw
            .get_item()
            .table_name(TABLE)
            .key("PK", s(pk))
            .key("SK", s(pk))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item?;
        item.get("n").and_then(|v| v.as_n().ok()).cloned()
    }

    async fn exists(&self, pk: &str) -> bool {
        self.raw
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
}

/// The cancellation reasons of a TransactionCanceledException, as (code, message).
fn reasons(
    e: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Vec<(String, Option<String>)> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
            .cancellation_reasons()
            .iter()
            .map(|r| {
                (
                    r.code().unwrap_or_default().to_string(),
                    r.message().map(str::to_string),
                )
            })
            .collect(),
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_check_on_one_item_conflict() {
    let env = env().await;
    let a = env.in_flight(vec![check("x"), put("a")], None).await;
    // B only checks x too, at index 1: cancelled there, None elsewhere, never sent on.
    let err = env
        .client
        .transact_write_items()
        .transact_items(put("b"))
        .transact_items(check("x"))
        .send()
        .await
        .expect_err("x is held by A");
    assert_eq!(
        reasons(&err),
        vec![
            ("None".to_string(), None),
            (
                "TransactionConflict".to_string(),
                Some("Transaction is ongoing for the item".to_string())
            ),
        ]
    );
    assert_eq!(err.code(), Some("TransactionCanceledException"));
    assert!(
        !env.exists("b").await,
        "a refused transaction never reaches the engine"
    );
    env.end_holds();
    a.await.expect("join").expect("A commits");
    assert!(env.exists("a").await);
    let stats = env.model.stats();
    assert_eq!(stats.transaction_conflicts, 1);
    assert_eq!(stats.transactions, 1);
    assert_eq!(env.model.hottest_keys(1), vec![("model/x".to_string(), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_writes_on_a_held_item_conflict() {
    let env = env().await;
    let a = env.in_flight(vec![add("x", 1)], None).await;
    let update = env
        .client
        .update_item()
        .table_name(TABLE)
        .key("PK", s("x"))
        .key("SK", s("x"))
        .update_expression("ADD #n :n")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":n", AttributeValue::N("5".into()))
        .send()
        .await
        .expect_err("x is held");
    let service = update.as_service_error().expect("a service error");
    assert!(service.is_transaction_conflict_exception(), "{service:?}");
    assert_eq!(service.code(), Some("TransactionConflictException"));
    assert_eq!(
        service.message(),
        Some("Transaction is ongoing for the item")
    );
    let put = env
        .client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("x"))
        .item("SK", s("x"))
        .send()
        .await
        .expect_err("x is held");
    assert_eq!(put.code(), Some("TransactionConflictException"));
    let delete = env
        .client
        .delete_item()
        .table_name(TABLE)
        .key("PK", s("x"))
        .key("SK", s("x"))
        .send()
        .await
        .expect_err("x is held");
    assert_eq!(delete.code(), Some("TransactionConflictException"));
    // Another item is not held.
    env.client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("y"))
        .item("SK", s("y"))
        .send()
        .await
        .expect("y is free");
    env.end_holds();
    a.await.expect("join").expect("A commits");
    assert_eq!(env.n_of("x").await.as_deref(), Some("1"), "only A applied");
    assert_eq!(env.model.stats().single_write_conflicts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_never_blocked() {
    let env = env().await;
    let a = env.in_flight(vec![add("x", 1), check("y")], None).await;
    // The clock is frozen, so A holds x and y until the test steps it: a read that waited on
    // the hold would never return.
    let got = env
        .client
        .get_item()
        .table_name(TABLE)
        .key("PK", s("x"))
        .key("SK", s("x"))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item");
    assert!(got.item.is_some(), "A is applied on the engine");
    let q = env
        .client
        .query()
        .table_name(TABLE)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", s("y"))
        .consistent_read(true)
        .send()
        .await
        .expect("query");
    assert_eq!(q.count(), 0);
    let got = env
        .client
        .batch_get_item()
        .request_items(
            TABLE,
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys(std::collections::HashMap::from([
                    ("PK".to_string(), s("y")),
                    ("SK".to_string(), s("y")),
                ]))
                .consistent_read(true)
                .build()
                .expect("valid keys"),
        )
        .send()
        .await
        .expect("batch_get_item");
    assert!(got.unprocessed_keys().is_none_or(|u| u.is_empty()));
    assert_eq!(env.model.holding(), 1, "A still holds its items");
    env.end_holds();
    a.await.expect("join").expect("A commits");
    // (A TransactGetItems is no plain read: it conflicts with the transaction; see
    // tests/transact_get.rs.)
    assert_eq!(env.model.stats().conflicts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_token_does_not_apply_twice() {
    let env = env().await;
    let a = env.in_flight(vec![add("x", 1)], Some("token-1")).await;
    // The same token while the first still runs: in progress, not applied.
    let err = env
        .client
        .transact_write_items()
        .transact_items(add("x", 1))
        .client_request_token("token-1")
        .send()
        .await
        .expect_err("the first is in progress");
    assert!(
        matches!(
            err.as_service_error(),
            Some(TransactWriteItemsError::TransactionInProgressException(_))
        ),
        "{err:?}"
    );
    env.end_holds();
    a.await.expect("join").expect("A commits");
    for _ in 0..3 {
        env.client
            .transact_write_items()
            .transact_items(add("x", 1))
            .client_request_token("token-1")
            .send()
            .await
            .expect("a replay answers as the first did");
    }
    assert_eq!(env.n_of("x").await.as_deref(), Some("1"), "applied once");
    let stats = env.model.stats();
    assert_eq!((stats.transactions, stats.replays), (1, 3));
    // After the idempotency window (model time) the model treats the token as new and
    // passes the request on. (The engine keeps a token cache of its own, in wall time, so
    // what it does with the request is not the model's to assert here.)
    env.model.clock().advance(Duration::from_secs(601));
    let again = env.in_flight(vec![add("x", 1)], Some("token-1")).await;
    env.end_holds();
    again
        .await
        .expect("join")
        .expect("passed on as a new request");
    assert_eq!(env.model.stats().transactions, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_token_with_another_body_is_a_mismatch() {
    let env = env().await;
    let a = env.in_flight(vec![add("x", 1)], Some("token-2")).await;
    env.end_holds();
    a.await.expect("join").expect("A commits");
    let err = env
        .client
        .transact_write_items()
        .transact_items(add("x", 2))
        .client_request_token("token-2")
        .send()
        .await
        .expect_err("another body under the same token");
    assert!(
        matches!(
            err.as_service_error(),
            Some(TransactWriteItemsError::IdempotentParameterMismatchException(_))
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("IdempotentParameterMismatchException"));
    assert_eq!(env.n_of("x").await.as_deref(), Some("1"));
    assert_eq!(env.model.stats().mismatches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_hold_the_item_is_free() {
    let env = env().await;
    let a = env.in_flight(vec![add("x", 1)], None).await;
    let refused = env
        .client
        .transact_write_items()
        .transact_items(add("x", 10))
        .send()
        .await
        .expect_err("x is held");
    assert_eq!(reasons(&refused)[0].0, "TransactionConflict");
    assert_eq!(env.model.held_items(), 1);
    env.end_holds();
    a.await.expect("join").expect("A commits");
    env.model.until_idle().await;
    assert_eq!(env.model.held_items(), 0);
    // The same transaction again, now that x is free: it holds x itself, and commits once
    // the clock passes its own hold.
    let b = env.in_flight(vec![add("x", 10)], None).await;
    env.end_holds();
    b.await.expect("join").expect("B commits");
    env.client
        .update_item()
        .table_name(TABLE)
        .key("PK", s("x"))
        .key("SK", s("x"))
        .update_expression("ADD #n :n")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":n", AttributeValue::N("100".into()))
        .send()
        .await
        .expect("a single write on a free item");
    assert_eq!(env.n_of("x").await.as_deref(), Some("111"));
}
