//! Each baseline sends the same requests as its ddbrel counterpart and produces the same
//! result, so the benchmark pairs compare like with like.

use std::collections::BTreeSet;

use ddbrel_bench::fixture::{self, Fixture};
use ddbrel_bench::{bulk, ddbrel_side, raw};
use ddbrel_runtime::{AnyUrn, Order, PageRequest, Urn};
use entities::{Job, User};

fn names(item: &raw::Item) -> BTreeSet<String> {
    item.keys().cloned().collect()
}

/// The item with its URN, timestamps and write token blanked, for comparing two creations.
fn shape(item: &raw::Item, urn: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = item
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_createdAt" | "_updatedAt" | "_writeToken"))
        .map(|(k, v)| (k.clone(), format!("{v:?}").replace(urn, "<urn>")))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encode_matches_the_store() {
    let account = Urn::<entities::Account>::new();
    let collection = Urn::<entities::JobCollection>::new();
    let user = fixture::user(7);
    let urn = Urn::<User>::new();
    let a = account.as_any().clone();
    let ours = ddbrel_side::encode(&urn, &user, Some(&a), Some(&a), &[]).unwrap();
    let theirs = raw::encode_user(urn.as_str(), &user, account.as_str(), &raw::now_text()).unwrap();
    assert_eq!(shape(&ours, urn.as_str()), shape(&theirs, urn.as_str()));

    let job = fixture::job(3);
    let urn = Urn::<Job>::new();
    let c = collection.as_any().clone();
    let ours =
        ddbrel_side::encode(&urn, &job, Some(&a), Some(&c), std::slice::from_ref(&a)).unwrap();
    let theirs = raw::encode_job(
        urn.as_str(),
        &job,
        account.as_str(),
        collection.as_str(),
        &raw::now_text(),
    )
    .unwrap();
    assert_eq!(shape(&ours, urn.as_str()), shape(&theirs, urn.as_str()));

    // Decoding either item gives the same entity and the same reserved values.
    let stored = ddbrel_side::decode::<Job>(ours.clone()).unwrap();
    let (meta, data) = raw::decode::<Job>(ours).unwrap();
    assert_eq!(stored.data, data);
    assert_eq!(meta.version, stored.meta.version);
    assert_eq!(meta.urn, stored.urn.as_str());
    assert_eq!(
        meta.ancestors,
        stored
            .meta
            .ancestors
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_send_the_same_requests_and_agree() {
    let fx = Fixture::start().await.unwrap();
    let seed = fixture::seed(&fx.store, 12, 3).await.unwrap();
    let account = seed.account.urn.as_str().to_string();

    // Create: same requests, and the same records (attribute for attribute).
    let (stored, ours) = fx
        .store_counter
        .measure(fx.store.create_child(&seed.account, fixture::user(1)))
        .await;
    let stored = stored.unwrap();
    let (urn, theirs) = fx
        .raw_counter
        .measure(raw::create_user(&fx.raw, &account, &fixture::user(2)))
        .await;
    let urn = urn.unwrap();
    ddbrel_bench::report_requests("create", &ours, &theirs);
    let ddbrel_item = raw::get::<User>(&fx.raw, stored.urn.as_str())
        .await
        .unwrap()
        .unwrap();
    let raw_item = raw::get::<User>(&fx.raw, &urn).await.unwrap().unwrap();
    assert_eq!(ddbrel_item.0.ancestors, raw_item.0.ancestors);
    assert_eq!(ddbrel_item.0.account, raw_item.0.account);
    let read = |pk: String, sk: String| {
        let client = fx.raw.client.clone();
        async move {
            client
                .get_item()
                .table_name(fixture::TABLE)
                .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk))
                .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
        }
    };
    let a = read(stored.urn.to_string(), stored.urn.to_string()).await;
    let b = read(urn.clone(), urn.clone()).await;
    assert_eq!(names(&a), names(&b));
    let a = read(account.clone(), format!("child#{}", stored.urn)).await;
    let b = read(account.clone(), format!("child#{urn}")).await;
    assert_eq!(names(&a), names(&b));
    let key = |email: &str| raw::user_email_key(&account, email);
    let a = read(key("user.1@example.com"), key("user.1@example.com")).await;
    let b = read(key("user.2@example.com"), key("user.2@example.com")).await;
    assert_eq!(names(&a), names(&b));
    assert_eq!(stored.meta.unique_keys, vec![key("user.1@example.com")]);

    // Get.
    let (got, ours) = fx.store_counter.measure(fx.store.get(&seed.user.urn)).await;
    let (raw_got, theirs) = fx
        .raw_counter
        .measure(raw::get::<User>(&fx.raw, seed.user.urn.as_str()))
        .await;
    ddbrel_bench::report_requests("get", &ours, &theirs);
    let (got, (meta, data)) = (got.unwrap(), raw_got.unwrap().unwrap());
    assert_eq!(got.data, data);
    assert_eq!(got.meta.member_of.len(), meta.member_of.len());

    // Children with data.
    let (page, ours) = fx
        .store_counter
        .measure(
            fx.store
                .children_with_data::<Job>(&seed.collection.urn, PageRequest::first(10)),
        )
        .await;
    let (raw_page, theirs) = fx
        .raw_counter
        .measure(raw::children_with_data::<Job>(
            &fx.raw,
            seed.collection.urn.as_str(),
            &Urn::<Job>::prefix(),
            10,
        ))
        .await;
    ddbrel_bench::report_requests("children with data", &ours, &theirs);
    let (page, (raw_page, last)) = (page.unwrap(), raw_page.unwrap());
    assert_eq!(page.items.len(), 10);
    assert!(page.cursor.is_some() && last.is_some());
    let expected: Vec<&Job> = seed.jobs[..10].iter().map(|j| &j.data).collect();
    assert_eq!(
        page.items.iter().map(|s| &s.data).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        raw_page.iter().map(|(_, j)| j).collect::<Vec<_>>(),
        expected
    );

    // Account page.
    let (page, ours) = fx
        .store_counter
        .measure(fx.store.by_account::<Job>(
            &seed.account.urn,
            Order::OldestFirst,
            PageRequest::first(10),
        ))
        .await;
    let (raw_page, theirs) = fx
        .raw_counter
        .measure(raw::by_account::<Job>(
            &fx.raw,
            &account,
            &Urn::<Job>::prefix(),
            10,
        ))
        .await;
    ddbrel_bench::report_requests("account page", &ours, &theirs);
    let (page, (raw_page, _)) = (page.unwrap(), raw_page.unwrap());
    assert_eq!(page.items.len(), 10);
    assert_eq!(
        page.items.iter().map(|s| &s.data).collect::<Vec<_>>(),
        raw_page.iter().map(|(_, j)| j).collect::<Vec<_>>()
    );

    // Authorization scope.
    let (scope, ours) = fx
        .store_counter
        .measure(fx.store.authorization_scope(seed.user.urn.as_any()))
        .await;
    let (raw_scope, theirs) = fx
        .raw_counter
        .measure(raw::authorization_scope(&fx.raw, seed.user.urn.as_str()))
        .await;
    ddbrel_bench::report_requests("authorization scope", &ours, &theirs);
    let scope: Vec<String> = scope.unwrap().iter().map(AnyUrn::to_string).collect();
    assert_eq!(scope, raw_scope.unwrap());
    assert_eq!(scope.len(), 2 + seed.teams.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_cascades_delete_every_record() {
    for naive in [false, true] {
        let fx = Fixture::start().await.unwrap();
        let tree = bulk::build_tree(&fx.store, 3, 7).await.unwrap();
        assert_eq!(
            bulk::count_items(&fx.raw).await.unwrap(),
            bulk::tree_records(3, 7)
        );
        let deleted = if naive {
            bulk::naive_delete(&fx.raw, tree.account.urn.as_str())
                .await
                .unwrap()
        } else {
            let report = fx
                .store
                .delete_urn(tree.account.urn.as_any())
                .await
                .unwrap();
            report.record_count() as u64
        };
        assert_eq!(deleted, bulk::tree_records(3, 7), "naive: {naive}");
        assert_eq!(
            bulk::count_items(&fx.raw).await.unwrap(),
            0,
            "naive: {naive}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_creates_send_one_transaction_per_job() {
    let fx = Fixture::start().await.unwrap();
    let tree = bulk::skeleton(&fx.store, 2).await.unwrap();
    let (jobs, concurrent) = fx
        .store_counter
        .measure(bulk::create_jobs_concurrent(&fx.store, &tree, 40, 8))
        .await;
    assert_eq!(jobs.unwrap().len(), 40);
    let (jobs, sequential) = fx
        .store_counter
        .measure(bulk::create_jobs_sequential(&fx.store, &tree, 40))
        .await;
    assert_eq!(jobs.unwrap().len(), 40);
    assert_eq!(concurrent, sequential);
    assert_eq!(concurrent.get("TransactWriteItems"), Some(&40));
}
