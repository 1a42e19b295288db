//! Listing the resources of a root type (SCHEMA.md §5.1 root listing, §10 "Roots of a type",
//! I11): the listing keys as the contract lays them out (read with the plain SDK), pages in
//! both orders that together hold every root once, one Query per shard per page, a deleted
//! root gone from the listing, and the integrity check's view (a root without its listing is
//! found and repaired).

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::schema::{ROOT_SHARDS, keys};
use ddbrel_runtime::{Error, Order, PageRequest, Urn, integrity};
use ddbrel_tests::{TestEnv, sample};
use entities::Account;

async fn accounts(env: &TestEnv, n: usize) -> Vec<Urn<Account>> {
    let mut out = Vec::new();
    for i in 0..n {
        let acct = env
            .store
            .create(sample::account(&format!("r{i}")))
            .await
            .unwrap();
        out.push(acct.urn);
    }
    out
}

/// Every root of the listing, following cursors `limit` at a time.
async fn list_all(env: &TestEnv, order: Order, limit: u32) -> (Vec<Urn<Account>>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut page = PageRequest::first(limit);
    loop {
        let got = env.store.roots::<Account>(order, page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= limit as usize);
        out.extend(got.items.into_iter().map(|a| a.urn));
        match got.cursor {
            Some(c) => page = PageRequest::after(Some(limit), c),
            None => return (out, pages),
        }
    }
}

#[tokio::test]
async fn roots_are_listed_in_shards_as_the_contract_says() {
    let env = TestEnv::new().await;
    let urns = accounts(&env, 24).await;
    let col = sample::collection(&env.store, &env.store.get(&urns[0]).await.unwrap(), "child")
        .await
        .unwrap();
    let mut shards = std::collections::BTreeSet::new();
    for urn in &urns {
        let item = env.raw_item(urn.as_str(), urn.as_str()).await.unwrap();
        let shard = keys::root_shard(urn.as_str());
        assert!(shard < ROOT_SHARDS);
        let want = format!("roots#urn:pp:System.Account::{shard}");
        assert_eq!(item.get("GSI1PK"), Some(&AV::S(want)));
        assert_eq!(item.get("GSI1SK"), Some(&AV::S(urn.to_string())));
        shards.insert(shard);
    }
    assert!(
        shards.len() > 1,
        "24 roots spread over the shards: {shards:?}"
    );
    let child = env
        .raw_item(col.urn.as_str(), col.urn.as_str())
        .await
        .unwrap();
    assert!(!child.contains_key("GSI1PK") && !child.contains_key("GSI1SK"));
    ddbrel_tests::invariants::assert_ok(&env).await;
}

#[tokio::test]
async fn pages_in_both_orders_hold_every_root_once() {
    let env = TestEnv::new().await;
    let urns = accounts(&env, 23).await;
    let (oldest, pages) = list_all(&env, Order::OldestFirst, 5).await;
    assert_eq!(oldest, urns, "oldest first is creation order");
    assert!(pages >= 5);
    let (newest, _) = list_all(&env, Order::NewestFirst, 7).await;
    let mut reversed = urns.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    let (all, pages) = list_all(&env, Order::OldestFirst, 1000).await;
    assert_eq!((all, pages), (urns.clone(), 1));

    // One Query per shard for a page, sent together.
    env.counter.reset();
    let page = env
        .store
        .roots::<Account>(Order::NewestFirst, PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(env.counter.get("Query"), u64::from(ROOT_SHARDS));
    assert_eq!(env.counter.total(), u64::from(ROOT_SHARDS));

    // A deleted root leaves the listing with its item.
    let gone = env.store.get(&urns[4]).await.unwrap();
    env.store.delete(&gone).await.unwrap();
    let (all, _) = list_all(&env, Order::OldestFirst, 4).await;
    let mut rest = urns.clone();
    rest.remove(4);
    assert_eq!(all, rest);
}

#[tokio::test]
async fn a_bad_request_is_a_typed_error() {
    let env = TestEnv::new().await;
    accounts(&env, 3).await;
    let zero = env
        .store
        .roots::<Account>(Order::OldestFirst, PageRequest::first(0))
        .await;
    assert!(
        matches!(zero, Err(Error::InvalidArgument { .. })),
        "{zero:?}"
    );
    // A cursor of another listing is refused, whichever order it came from.
    let first = env
        .store
        .roots::<Account>(Order::OldestFirst, PageRequest::first(1))
        .await
        .unwrap();
    let cursor = first.cursor.expect("more than one root");
    let other_order = env
        .store
        .roots::<Account>(Order::NewestFirst, PageRequest::after(Some(1), cursor))
        .await;
    assert!(
        matches!(other_order, Err(Error::InvalidCursor { .. })),
        "{other_order:?}"
    );
}

#[tokio::test]
async fn a_root_without_its_listing_is_found_and_repaired() {
    let env = TestEnv::new().await;
    let urns = accounts(&env, 3).await;
    // As a root written before contract 4 would be.
    env.raw
        .update_item()
        .table_name(env.store.table())
        .key("PK", AV::S(urns[1].to_string()))
        .key("SK", AV::S(urns[1].to_string()))
        .update_expression("REMOVE GSI1PK, GSI1SK")
        .send()
        .await
        .unwrap();
    let (listed, _) = list_all(&env, Order::OldestFirst, 10).await;
    assert_eq!(listed, [urns[0].clone(), urns[2].clone()]);

    let audit = integrity::audit(&env.store, 2).await.unwrap();
    let found: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.invariant == "I11")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", audit.findings);
    assert_eq!(found[0].key, urns[1].to_string());
    assert!(found[0].message.contains("it has none"), "{}", found[0]);
    assert!(found[0].repairable());

    let report = integrity::repair(&env.store, &audit).await.unwrap();
    assert_eq!(report.actions.len(), 1, "{report:?}");
    assert!(report.skipped.is_empty() && report.unrepairable.is_empty());
    assert!(integrity::audit(&env.store, 2).await.unwrap().is_clean());
    let (listed, _) = list_all(&env, Order::OldestFirst, 10).await;
    assert_eq!(listed, urns);
}
