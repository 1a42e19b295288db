//! Account-scoped queries on ResourcesByAccountIndex, pagination and cursors.

use ddbrel_runtime::query::paginate;
use ddbrel_runtime::{Error, Order, PageRequest, Store, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::sample::{self, job};
use entities::{Account, Job, JobCollection, User};
use futures::TryStreamExt;
use futures::stream::{self, StreamExt};
use proptest::prelude::*;

async fn collection(store: &Store, account: &Stored<Account>, name: &str) -> Stored<JobCollection> {
    store
        .create_child(
            account,
            JobCollection {
                name: name.into(),
                description: None,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_thousand_jobs_in_small_pages_each_once_in_order() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let account = store.create(sample::account("big")).await.unwrap();
    let col = collection(store, &account, "all").await;
    let created: Vec<Stored<Job>> = stream::iter(0..1000)
        .map(|i| {
            let col = &col;
            async move { store.create_child(col, job(&format!("j{i}"))).await }
        })
        .buffered(32)
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<String> = created.iter().map(|j| j.urn.to_string()).collect();
    expected.sort(); // UUID v7: creation order within the type

    // Oldest first, pages of 37.
    let mut seen = Vec::new();
    let mut req = PageRequest::first(37);
    let mut pages = 0;
    loop {
        let (page, counts) = env
            .counter
            .measure(store.by_account::<Job>(&account.urn, Order::OldestFirst, req))
            .await;
        let page = page.unwrap();
        assert_eq!(counts.values().sum::<u64>(), 1, "one Query per page");
        assert!(page.items.len() <= 37);
        pages += 1;
        seen.extend(page.items.into_iter().map(|j| j.urn.to_string()));
        match page.cursor {
            Some(c) => req = PageRequest::after(Some(37), c),
            None => break,
        }
    }
    assert_eq!(seen, expected, "each exactly once, in order");
    assert!(pages >= 1000 / 37);

    // Newest first through the stream.
    let newest: Vec<Stored<Job>> = paginate(Some(100), |page| {
        let (store, a) = (store.clone(), account.urn.clone());
        async move { store.by_account::<Job>(&a, Order::NewestFirst, page).await }
    })
    .try_collect()
    .await
    .unwrap();
    let mut rev = expected.clone();
    rev.reverse();
    assert_eq!(
        newest.iter().map(|j| j.urn.to_string()).collect::<Vec<_>>(),
        rev
    );

    // All resources of the account: the collection and the jobs (the account itself is not
    // account-scoped).
    let everything: Vec<_> = paginate(Some(250), |page| {
        let (store, a) = (store.clone(), account.urn.as_any().clone());
        async move {
            store
                .account_resources(&a, None, Order::OldestFirst, page)
                .await
        }
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(everything.len(), 1001);
}

#[tokio::test]
async fn a_cursor_is_refused_by_another_query() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let a = store.create(sample::account("a")).await.unwrap();
    let b = store.create(sample::account("b")).await.unwrap();
    for acct in [&a, &b] {
        let col = collection(store, acct, "c").await;
        for i in 0..5 {
            store
                .create_child(&col, job(&format!("{i}")))
                .await
                .unwrap();
        }
    }
    let page = store
        .by_account::<Job>(&a.urn, Order::OldestFirst, PageRequest::first(2))
        .await
        .unwrap();
    let cursor = page.cursor.clone().unwrap();
    // Another account.
    let err = store
        .by_account::<Job>(
            &b.urn,
            Order::OldestFirst,
            PageRequest::after(Some(2), cursor.clone()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCursor { .. }), "{err}");
    // Another type, another order, another index.
    assert!(
        store
            .by_account::<JobCollection>(
                &a.urn,
                Order::OldestFirst,
                PageRequest::after(None, cursor.clone())
            )
            .await
            .is_err()
    );
    assert!(
        store
            .by_account::<Job>(
                &a.urn,
                Order::NewestFirst,
                PageRequest::after(None, cursor.clone())
            )
            .await
            .is_err()
    );
    assert!(
        store
            .members_any(a.urn.as_any(), PageRequest::after(None, cursor.clone()))
            .await
            .is_err()
    );
    // Garbage.
    assert!(matches!(
        store
            .by_account::<Job>(&a.urn, Order::OldestFirst, PageRequest::after(None, "%%%"))
            .await,
        Err(Error::InvalidCursor { .. })
    ));
    // The right query continues.
    let next = store
        .by_account::<Job>(
            &a.urn,
            Order::OldestFirst,
            PageRequest::after(Some(2), cursor),
        )
        .await
        .unwrap();
    assert_eq!(next.items.len(), 2);
    assert!(
        next.items
            .iter()
            .all(|j| j.meta.account.as_ref() == Some(a.urn.as_any()))
    );
}

#[tokio::test]
async fn prefixes_end_with_double_colon() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let a = store.create(sample::account("p")).await.unwrap();
    let col = collection(store, &a, "c").await;
    store.create_child(&col, job("j")).await.unwrap();
    // `System.Account.JobCollection` must not match `System.Account.JobCollection.Job`.
    let cols = store
        .by_account::<JobCollection>(&a.urn, Order::OldestFirst, PageRequest::all())
        .await
        .unwrap();
    assert_eq!(cols.items.len(), 1);
    let err = store
        .account_resources(
            a.urn.as_any(),
            Some("urn:pp:System.Account.Job"),
            Order::OldestFirst,
            PageRequest::all(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("::"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    /// Resources spread over several accounts: a query for one account never returns
    /// another's.
    #[test]
    fn account_isolation(per_account in prop::collection::vec(0usize..6, 2..5)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let env = TestEnv::new().await;
            let store = &env.store;
            let mut accounts: Vec<(ddbrel_runtime::Urn<entities::Account>, usize)> = Vec::new();
            for (i, n) in per_account.iter().enumerate() {
                let a = store.create(sample::account(&format!("iso{i}"))).await.unwrap();
                for u in 0..*n {
                    store
                        .create_child(&a, User { email: format!("u{u}@x.io"), display_name: "u".into() })
                        .await
                        .unwrap();
                }
                accounts.push((a.urn.clone(), *n));
            }
            for (a, n) in &accounts {
                let users: Vec<Stored<User>> = paginate(Some(2), |page| {
                    let (store, a) = (store.clone(), a.clone());
                    async move { store.by_account::<User>(&a, Order::OldestFirst, page).await }
                })
                .try_collect()
                .await
                .unwrap();
                assert_eq!(users.len(), *n);
                assert!(users.iter().all(|u| u.meta.account.as_ref() == Some(a.as_any())));
            }
        });
    }
}
