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
            ..Throughput::default()
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

/// A model whose only limits are the ones given (the others infinite).
async fn env_limited(limits: Throughput) -> Env {
    common::env(ModelConfig {
        hold: Duration::ZERO,
        throughput: Some(limits),
        ..ModelConfig::default()
    })
    .await
}

const UNLIMITED: Throughput = Throughput {
    write_units_per_s: f64::INFINITY,
    read_units_per_s: f64::INFINITY,
    item_write_units_per_s: f64::INFINITY,
    item_read_units_per_s: f64::INFINITY,
    index_write_units_per_s: f64::INFINITY,
    index_read_units_per_s: f64::INFINITY,
    burst: Duration::from_secs(1),
};

/// The account index's partition key (ddbrel's table, created through the model).
const ACCOUNT: &str = "_accountUrn";

impl Env {
    async fn put_in_account(
        &self,
        pk: &str,
        account: Option<&str>,
        bytes: usize,
    ) -> Result<(), String> {
        let mut put = self
            .client
            .put_item()
            .table_name(TABLE)
            .item("PK", s(pk))
            .item("SK", s(pk))
            .item("v", s(&"x".repeat(bytes)));
        if let Some(a) = account {
            put = put.item(ACCOUNT, s(a));
        }
        put.send().await.map(|_| ()).map_err(|e| {
            format!(
                "{}: {}",
                e.code().unwrap_or("no code"),
                e.message().unwrap_or("")
            )
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_bucket_limits_one_item_of_a_split_partition() {
    // Partitions split as far as they go: only the items' own limits remain.
    let env = env_limited(Throughput {
        item_write_units_per_s: WCU,
        ..UNLIMITED
    })
    .await;
    for i in 0..2 {
        env.put("p", "a", 4000)
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    // 8 of 10 WCU spent on item a: a 4 KB write of it is refused, of its neighbour not.
    assert_eq!(env.put("p", "a", 4000).await, Err(EXCEEDED.to_string()));
    env.put("p", "b", 4000)
        .await
        .expect("another item of the partition");
    env.put("p", "a", 1000).await.expect("1 WCU is left on a");
    assert_eq!(
        env.model.hottest_meters(1),
        vec![("item model/p/a".to_string(), 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_index_partition_throttles_the_base_table_writes_that_feed_it() {
    let env = env_limited(Throughput {
        index_write_units_per_s: WCU,
        ..UNLIMITED
    })
    .await;
    // Three 3 KB items of account X: 9 of X's 10 index WCU.
    for i in 0..3 {
        env.put_in_account(&format!("r{i}"), Some("X"), 3000)
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    let refused = env
        .put_in_account("r3", Some("X"), 3000)
        .await
        .expect_err("X's index partition is out of capacity");
    assert!(
        refused.starts_with("ProvisionedThroughputExceededException: ")
            && refused.contains("global secondary indexes"),
        "{refused}"
    );
    assert!(!env.exists("r3", "r3").await, "never reached the engine");
    // Another account's index partition, and an item in no index, are unaffected.
    env.put_in_account("y0", Some("Y"), 3000)
        .await
        .expect("account Y");
    env.put_in_account("n0", None, 3000)
        .await
        .expect("in no index");
    // An update of an indexed item rewrites its entry (projection ALL): 3 KB more for X.
    let update = env
        .client
        .update_item()
        .table_name(TABLE)
        .key("PK", s("r0"))
        .key("SK", s("r0"))
        .update_expression("ADD #n :one")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(
            ":one",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .send()
        .await
        .expect_err("r0's entry is in X's partition");
    assert_eq!(update.code(), Some(EXCEEDED));
    // In a transaction, the action whose index write is short (2 KB, 1 WCU left) is
    // cancelled.
    let err = env
        .client
        .transact_write_items()
        .transact_items(common::put("n1", "n1", &[]))
        .transact_items(common::put(
            "r4",
            "r4",
            &[(ACCOUNT, "X"), ("v", &"x".repeat(2000))],
        ))
        .send()
        .await
        .expect_err("X is short");
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
    // A delete of an indexed item deletes its entry: it, too, writes X's partition.
    env.model.clock().advance(Duration::from_millis(300));
    let delete = |pk: &'static str| {
        env.client
            .delete_item()
            .table_name(TABLE)
            .key("PK", s(pk))
            .key("SK", s(pk))
            .send()
    };
    delete("r0").await.expect("3 of the 4 WCU refilled");
    assert_eq!(
        delete("r1").await.expect_err("X is short again").code(),
        Some(EXCEEDED)
    );
    delete("n0").await.expect("an item in no index");
    let hottest = env.model.hottest_meters(1);
    assert_eq!(
        hottest,
        vec![("index model/ResourcesByAccountIndex/X".to_string(), 4)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_query_draws_on_its_index_partition() {
    let env = env_limited(Throughput {
        index_read_units_per_s: 1.0,
        ..UNLIMITED
    })
    .await;
    let query = |account: &'static str| {
        env.client
            .query()
            .table_name(TABLE)
            .index_name("ResourcesByAccountIndex")
            .key_condition_expression("#a = :a")
            .expression_attribute_names("#a", ACCOUNT)
            .expression_attribute_values(":a", s(account))
            .send()
    };
    // 0.5 RCU each: two fit in X's bucket, the third is refused; Y has its own.
    query("X").await.expect("first");
    query("X").await.expect("second");
    assert_eq!(query("X").await.expect_err("third").code(), Some(EXCEEDED));
    query("Y").await.expect("another index partition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_through_sets_up_at_once_and_learns_the_index_entries() {
    let env = env_limited(Throughput {
        index_write_units_per_s: WCU,
        ..UNLIMITED
    })
    .await;
    // In pass-through mode nothing is metered: 5 × 3 KB into X's index partition (15 WCU of
    // its 10) all pass, and cost nothing.
    env.model.set_pass_through(true);
    for i in 0..5 {
        env.put_in_account(&format!("r{i}"), Some("X"), 3000)
            .await
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
    }
    env.model.set_pass_through(false);
    // The entries were learned: three updates of those items rewrite 9 of X's 10 WCU, and
    // the fourth is refused.
    let update = |pk: String| {
        env.client
            .update_item()
            .table_name(TABLE)
            .key("PK", s(&pk))
            .key("SK", s(&pk))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(
                ":one",
                aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
            )
            .send()
    };
    for i in 0..3 {
        update(format!("r{i}")).await.expect("within X's budget");
    }
    let refused = update("r3".into()).await.expect_err("X is short");
    assert_eq!(refused.code(), Some(EXCEEDED));
    assert_eq!(env.model.stats().throttled, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_larger_than_the_bucket_is_admitted_and_paid_for_afterwards() {
    let env = env().await;
    // 8 puts into one partition: 16 WCU in a transaction, more than the bucket's 10; each
    // write fits, so it is admitted and leaves the bucket 6 WCU in debt.
    let mut tx = env.client.transact_write_items();
    for i in 0..8 {
        tx = tx.transact_items(put("big", &format!("s{i}")));
    }
    tx.send().await.expect("each action fits in the bucket");
    assert_eq!(env.put("big", "after", 10).await, Err(EXCEEDED.to_string()));
    // 0.6 s pays the debt off; one more WCU (0.1 s) affords a write.
    env.model.clock().advance(Duration::from_millis(600));
    assert_eq!(env.put("big", "after", 10).await, Err(EXCEEDED.to_string()));
    env.model.clock().advance(Duration::from_millis(100));
    env.put("big", "after", 10).await.expect("the debt is paid");
}
