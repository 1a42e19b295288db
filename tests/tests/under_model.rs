//! The concurrency scenarios again, with DynamoDB's concurrency modelled in front of the engine
//! (`ddbrel-model`): an item takes part in one transaction at a time, a transaction holds its
//! items for a while, a transaction touching a held item is cancelled with
//! `TransactionConflict` and a single write on it gets `TransactionConflictException`. The bare
//! engine runs one request at a time and never does either, so these are the runs in which
//! ddbrel's retries, conflict handling and cascade meet contention.

use std::time::Duration;

use ddbrel_tests::TestEnv;
use ddbrel_tests::concurrency;

/// A modest hold: long enough that concurrent transactions on one item overlap.
const HOLD: Duration = Duration::from_millis(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_lose_nothing_under_conflicts() {
    let env = TestEnv::modelled(HOLD).await;
    concurrency::updates_lose_nothing(&env, 16, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_creator_of_a_unique_value_wins_under_conflicts() {
    let env = TestEnv::modelled(HOLD).await;
    concurrency::one_creator_wins(&env, 4, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cascade_with_concurrent_writers_under_conflicts_leaves_no_orphans() {
    concurrency::cascade_with_concurrent_writers(2, Some(HOLD)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_get_or_create_converges_under_conflicts() {
    let env = TestEnv::modelled(HOLD).await;
    concurrency::get_or_create_converges(&env, 32).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_with_loses_nothing_under_conflicts() {
    let env = TestEnv::modelled(HOLD).await;
    concurrency::update_with_loses_nothing(&env, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_composed_transactions_all_land_under_conflicts() {
    let env = TestEnv::modelled(HOLD).await;
    concurrency::composed_transactions_all_land(&env, 16).await;
}
