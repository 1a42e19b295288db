//! Per-partition throughput, checked deterministically: buckets refill in model time, and the
//! manual clock moves only when the test steps it. Small rates keep the test fast; the costs
//! are DynamoDB's (1 WCU per KB written, 2x in a transaction; 1 RCU per strongly consistent
//! read of up to 4 KB, 0.5 eventually consistent).

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use ddbrel_model::{ModelConfig, Throughput};

mod common;
use common::{Env, TABLE, s};

const WCU: f64 = 10.0;
const RCU: f64 = 4.0;

async fn env() -> Env {
    common::env(ModelConfig {
        hold: Duration::ZERO,
        throughput: Some(Throughput {
            write_units_per_s: WCU,
            read_units_per_s: RCU,
            burst: Duration::from_secs(1),
        }),
        ..ModelConfig::default()
    })
    .await
}

/// The checks of this file, as methods of the shared environment.
trait Calls {
    async fn put(&self, pk: &str, sk: &str, bytes: usize) -> Result<(), String>;
    async fn get(&self, pk: &str, consistent: bool) -> Result<(), String>;
    async fn exists(&self, pk: &str, sk: &str) -> bool;
}

impl Calls for Env {
    async fn put(&self, pk: &str, sk: &str, bytes: usize) -> Result<(), String> {
        self.client
            .put_item()
            .table_name(TABLE)
            .item("PK", s(pk))
            .item("SK", s(sk))
            .item("v", s(&"x".repeat(bytes)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.code().unwrap_or("no code").to_string())
    }

    async fn get(&self, pk: &str, consistent: bool) -> Result<(), String> {
        self.client
            .get_item()
            .table_name(TABLE)
            .key("PK", s(pk))
            .key("SK", s(pk))
            .consistent_read(consistent)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.code().unwrap_or("no code").to_string())
    }

    async fn exists(&self, pk: &str, sk: &str) -> bool {
        self.raw
            .get_item()
            .table_name(TABLE)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
            .is_some()
    }
}

fn put(pk: &str, sk: &str) -> TransactWriteItem {
    common::put(pk, sk, &[])
}

const EXCEEDED: &str = "ProvisionedThroughputExceededException";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_within_the_budget_pass_and_the_next_is_refused() {
    let env = env().await;
    // A full bucket: 10 writes of under 1 KB (1 WCU each) to one partition.
    for i in 0..10 {
        env.put("hot", &format!("s{i}"), 10)
            .await
            .expect("within the budget");
    }
    let refused = env.put("hot", "s10", 10).await;
    assert_eq!(refused, Err(EXCEEDED.to_string()));
    assert!(!env.exists("hot", "s10").await, "never reached the engine");
    // Another partition's writes, and reads of any partition, are unaffected.
    env.put("cold", "a", 10).await.expect("another partition");
    env.get("hot", true)
        .await
        .expect("reads have their own bucket");
    env.get("cold", true)
        .await
        .expect("reads of another partition");
    // A transaction writing to the empty partition is cancelled at that action only.
    let err = env
        .client
        .transact_write_items()
        .transact_items(put("cold", "b"))
        .transact_items(put("hot", "t"))
        .send()
        .await
        .expect_err("hot is out of write capacity");
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error()
    else {
        panic!("expected TransactionCanceledException, got {err:?}");
    };
    let codes: Vec<&str> = c
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or_default())
        .collect();
    assert_eq!(codes, vec!["None", "ThrottlingError"]);
    assert!(!env.exists("cold", "b").await);

    // 100 ms of model time refills 1 WCU: one more write, then refused again.
    env.model.clock().advance(Duration::from_millis(100));
    env.put("hot", "s10", 10).await.expect("refilled");
    assert_eq!(env.put("hot", "s11", 10).await, Err(EXCEEDED.to_string()));
    // A full second refills the bucket: the transaction (2 WCU per action) passes.
    env.model.clock().advance(Duration::from_secs(1));
    env.client
        .transact_write_items()
        .transact_items(put("cold", "b"))
        .transact_items(put("hot", "t"))
        .send()
        .await
        .expect("refilled");
    // 8 WCU left: a 1.5 KB item costs 2, so four pass and a fifth is refused.
    for i in 0..4 {
        env.put("hot", &format!("big{i}"), 1500)
            .await
            .expect("2 WCU each");
    }
    assert_eq!(env.put("hot", "big4", 10).await, Err(EXCEEDED.to_string()));
    let stats = env.model.stats();
    assert_eq!((stats.throttled, stats.transaction_throttles), (3, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_within_the_budget_pass_and_the_next_is_refused() {
    let env = env().await;
    for _ in 0..4 {
        env.get("hot", true).await.expect("1 RCU each");
    }
    assert_eq!(env.get("hot", true).await, Err(EXCEEDED.to_string()));
    env.get("cold", true).await.expect("another partition");
    env.put("hot", "w", 10)
        .await
        .expect("writes have their own bucket");
    // Half a second refills 2 RCU: four eventually consistent reads (0.5 each).
    env.model.clock().advance(Duration::from_millis(500));
    for _ in 0..4 {
        env.get("hot", false).await.expect("0.5 RCU each");
    }
    assert_eq!(env.get("hot", false).await, Err(EXCEEDED.to_string()));
    let q = env
        .client
        .query()
        .table_name(TABLE)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", s("hot"))
        .consistent_read(true)
        .send()
        .await
        .expect_err("a Query of the partition is refused too");
    assert_eq!(q.code(), Some(EXCEEDED));
    assert_eq!(env.model.stats().throttled, 3);
}

#[test]
fn off_by_default() {
    assert_eq!(ModelConfig::default().throughput, None);
    assert_eq!(Throughput::default().write_units_per_s, 1000.0);
    assert_eq!(Throughput::default().read_units_per_s, 3000.0);
}
