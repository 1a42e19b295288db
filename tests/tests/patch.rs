//! Field-level updates (`Store::patch`): named fields only, one UpdateItem, no read; a field of
//! a unique constraint moves its marker; optimistic locking on request; a lost response
//! retried is applied once; string-set elements added and removed by concurrent writers.

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::{Entity, Error, Store, StringSet};
use ddbrel_tests::TestEnv;
use ddbrel_tests::faults::Fault;
use ddbrel_tests::invariants::assert_ok;
use serde::{Deserialize, Serialize};

/// A root with a unique slug, a counter and an optional note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
#[urn(type = "Test.Doc")]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[unique]
    slug: String,
    title: String,
    view_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "StringSet::is_empty")]
    tags: StringSet,
}

fn doc(slug: &str) -> Doc {
    Doc {
        slug: slug.into(),
        title: "Draft".into(),
        view_count: 0,
        note: Some("first".into()),
        tags: ["draft"].into_iter().collect(),
    }
}

async fn create(store: &Store, slug: &str) -> ddbrel_runtime::Stored<Doc> {
    store.create(doc(slug)).await.expect("create")
}

/// Two writers who read version 1 change different fields: with whole-item updates the second
/// is refused; with patches both land, and neither undoes the other.
#[tokio::test]
async fn two_writers_patching_different_fields_both_land() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "two-writers").await;
    let fields = Doc::fields();
    let a = env
        .store
        .patch(&d.urn)
        .set(fields.title, "Final".to_string())
        .send()
        .await
        .expect("first writer");
    assert_eq!(a.meta.version, 2);
    let b = env
        .store
        .patch(&d.urn)
        .remove(fields.note)
        .send()
        .await
        .expect("second writer, without reading first");
    assert_eq!(b.meta.version, 3);
    assert_eq!(b.data.title, "Final", "the first writer's change is kept");
    assert_eq!(b.data.note, None);
    assert!(b.meta.updated_at >= d.meta.updated_at);
    // The whole-item update from the same stale read is refused.
    let mut stale = d.clone();
    stale.data.view_count = 9;
    let err = env.store.update(&stale).await.expect_err("stale version");
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(env.store.get(&d.urn).await.unwrap().data, b.data);
    assert_ok(&env).await;
}

/// A patch without a unique field is one UpdateItem, and it writes only the named field and
/// the bookkeeping (the raw item keeps everything else as it was).
#[tokio::test]
async fn a_patch_is_one_update_item_that_touches_only_its_fields() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "one-request").await;
    let before = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    env.counter.reset();
    let after = env
        .store
        .patch(&d.urn)
        .add(Doc::fields().view_count, 5)
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.counter.snapshot(),
        [("UpdateItem".to_string(), 1)].into()
    );
    assert_eq!(after.data.view_count, 5);
    let raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    for (name, value) in &before {
        match name.as_str() {
            "viewCount" => assert_eq!(value, &AttributeValue::N("0".into())),
            "_version" | "_updatedAt" | "_writeToken" => {}
            _ => assert_eq!(raw.get(name), Some(value), "{name} is not the patch's"),
        }
    }
    assert_eq!(raw.get("viewCount"), Some(&AttributeValue::N("5".into())));
    assert_eq!(raw.get("_version"), Some(&AttributeValue::N("2".into())));
    assert!(raw.contains_key("_writeToken"));
    assert_ok(&env).await;
}

/// Adds commute: many writers adding without a version all count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_all_count() {
    let env = TestEnv::modelled(std::time::Duration::from_millis(2)).await;
    let d = create(&env.store, "counter").await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, urn) = (env.store.clone(), d.urn.clone());
            tokio::spawn(async move {
                store
                    .patch(&urn)
                    .add(Doc::fields().view_count, 1)
                    .send()
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("an add needs no version");
    }
    let now = env.store.get(&d.urn).await.unwrap();
    assert_eq!(now.data.view_count, 16);
    assert_eq!(now.meta.version, 17);
    assert_ok(&env).await;
}

/// `expect_version` refuses a patch of a resource that moved on, and changes nothing.
#[tokio::test]
async fn expect_version_refuses_a_stale_version() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "locked").await;
    let fields = Doc::fields();
    env.store
        .patch(&d.urn)
        .set(fields.title, "Theirs".to_string())
        .expect_version(1)
        .send()
        .await
        .expect("at version 1");
    let err = env
        .store
        .patch(&d.urn)
        .set(fields.title, "Mine".to_string())
        .expect_version(1)
        .send()
        .await
        .expect_err("version 1 is gone");
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                current: Some(2),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(env.store.get(&d.urn).await.unwrap().data.title, "Theirs");
    // The same for a patch of a unique field (the read-first path).
    let err = env
        .store
        .patch(&d.urn)
        .set(fields.slug, "moved".to_string())
        .expect_version(1)
        .send()
        .await
        .expect_err("version 1 is gone");
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert!(
        Doc::find_by_slug(&env.store, "moved")
            .await
            .unwrap()
            .is_none()
    );
    assert_ok(&env).await;
}

/// A patch of a unique field moves the marker in the same transaction: the new value is
/// found and taken, the old one is free; a taken value is refused and nothing changes.
#[tokio::test]
async fn a_patch_of_a_unique_field_moves_the_marker() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "old-slug").await;
    let other = create(&env.store, "taken").await;
    let slug = Doc::fields().slug;
    assert!(slug.is_unique());
    assert!(!Doc::fields().title.is_unique());
    let moved = env
        .store
        .patch(&d.urn)
        .set(slug, "new-slug".to_string())
        .add(Doc::fields().view_count, 1)
        .send()
        .await
        .expect("a free value");
    assert_eq!(moved.data.slug, "new-slug");
    assert_eq!(moved.data.view_count, 1);
    let found = Doc::find_by_slug(&env.store, "new-slug").await.unwrap();
    assert_eq!(found.map(|s| s.urn), Some(d.urn.clone()));
    assert!(
        Doc::find_by_slug(&env.store, "old-slug")
            .await
            .unwrap()
            .is_none()
    );
    env.store
        .create(doc("old-slug"))
        .await
        .expect("the old value is free");
    let err = env
        .store
        .patch(&d.urn)
        .set(slug, "taken".to_string())
        .send()
        .await
        .expect_err("held by another");
    assert!(err.is_unique_violation(), "{err}");
    assert_eq!(env.store.get(&d.urn).await.unwrap().data, moved.data);
    let holder = Doc::find_by_slug(&env.store, "taken").await.unwrap();
    assert_eq!(holder.map(|s| s.urn), Some(other.urn));
    assert_ok(&env).await;
}

/// An UpdateItem applied whose response was lost is retried by the SDK with the same write
/// token: the retry recognizes its own write and the counter moves once.
#[tokio::test]
async fn a_lost_response_retried_is_applied_once() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "lost").await;
    env.faults
        .inject("UpdateItem", 1, 1, Fault::ServerErrorAfterApply);
    let after = env
        .store
        .patch(&d.urn)
        .add(Doc::fields().view_count, 1)
        .send()
        .await
        .expect("the retry finds its own write");
    assert_eq!(env.faults.injected(), 1);
    assert_eq!(after.data.view_count, 1);
    assert_eq!(after.meta.version, 2);
    assert_eq!(env.store.get(&d.urn).await.unwrap().data.view_count, 1);
    assert_ok(&env).await;
}

/// What a patch refuses: a resource that is not there, one being deleted, a field changed
/// twice in one patch; an empty patch is a read.
#[tokio::test]
async fn refusals_are_named() {
    let env = TestEnv::new().await;
    let fields = Doc::fields();
    let missing = Doc::new_urn();
    let err = env
        .store
        .patch(&missing)
        .set(fields.title, "x".to_string())
        .send()
        .await
        .expect_err("not there");
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(
        env.raw_item(missing.as_str(), missing.as_str())
            .await
            .is_none(),
        "a patch never creates"
    );

    let d = create(&env.store, "refusals").await;
    let err = env
        .store
        .patch(&d.urn)
        .set(fields.title, "a".to_string())
        .set(fields.title, "b".to_string())
        .send()
        .await
        .expect_err("twice");
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    env.counter.reset();
    let same = env.store.patch(&d.urn).send().await.unwrap();
    assert_eq!(same.meta.version, 1);
    assert_eq!(env.counter.snapshot(), [("GetItem".to_string(), 1)].into());

    let mut raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    raw.insert("_deleting".into(), AttributeValue::S("op".into()));
    env.put_raw(raw).await;
    let err = env
        .store
        .patch(&d.urn)
        .add(fields.view_count, 1)
        .send()
        .await
        .expect_err("fenced");
    assert!(matches!(err, Error::BeingDeleted { .. }), "{err}");
}

/// Elements of a string set are added and removed without a read or a version: writers
/// adding different tags concurrently all keep theirs, the stored attribute is an `SS`, and
/// removing the last element leaves the attribute absent (read back as an empty set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_elements_added_concurrently_are_all_kept() {
    let env = TestEnv::modelled(std::time::Duration::from_millis(2)).await;
    let d = create(&env.store, "tags").await;
    let tags = Doc::fields().tags;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, urn) = (env.store.clone(), d.urn.clone());
            tokio::spawn(async move {
                store
                    .patch(&urn)
                    .add_elements(tags, [format!("t{i}"), "shared".to_string()])
                    .send()
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("an element add needs no version");
    }
    let now = env.store.get(&d.urn).await.unwrap();
    let expected: StringSet = (0..8)
        .map(|i| format!("t{i}"))
        .chain(["shared".to_string(), "draft".to_string()])
        .collect();
    assert_eq!(now.data.tags, expected);
    assert_eq!(now.meta.version, 9);
    let raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    assert!(
        matches!(raw.get("tags"), Some(AttributeValue::Ss(v)) if v.len() == 10),
        "stored as a string set: {:?}",
        raw.get("tags")
    );

    env.counter.reset();
    let all: Vec<String> = expected.iter().map(str::to_string).collect();
    let emptied = env
        .store
        .patch(&d.urn)
        .remove_elements(tags, all)
        .add(Doc::fields().view_count, 1)
        .send()
        .await
        .unwrap();
    assert_eq!(env.counter.total(), 1, "one UpdateItem");
    assert!(emptied.data.tags.is_empty());
    let raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    assert!(!raw.contains_key("tags"), "DynamoDB stores no empty set");
    // Adding to an absent set creates it; setting an empty set removes the attribute.
    let again = env
        .store
        .patch(&d.urn)
        .add_elements(tags, ["back"])
        .send()
        .await
        .unwrap();
    assert_eq!(again.data.tags, ["back"].into_iter().collect());
    env.store
        .patch(&d.urn)
        .set(tags, StringSet::new())
        .send()
        .await
        .unwrap();
    let raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    assert!(!raw.contains_key("tags"));
    assert_ok(&env).await;
}

/// With a unique field in the same patch (the read-first path), set elements are applied to
/// the set read.
#[tokio::test]
async fn set_elements_with_a_unique_field_are_applied_to_the_read() {
    let env = TestEnv::new().await;
    let d = create(&env.store, "set-unique").await;
    let fields = Doc::fields();
    let after = env
        .store
        .patch(&d.urn)
        .set(fields.slug, "set-unique-2".to_string())
        .add_elements(fields.tags, ["x", "y"])
        .send()
        .await
        .unwrap();
    assert_eq!(after.data.tags, ["draft", "x", "y"].into_iter().collect());
    let after = env
        .store
        .patch(&d.urn)
        .set(fields.slug, "set-unique-3".to_string())
        .remove_elements(fields.tags, ["draft", "x", "y"])
        .send()
        .await
        .unwrap();
    assert!(after.data.tags.is_empty());
    let raw = env.raw_item(d.urn.as_str(), d.urn.as_str()).await.unwrap();
    assert!(!raw.contains_key("tags"));
    assert_ok(&env).await;
}
