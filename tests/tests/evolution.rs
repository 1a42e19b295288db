//! Schema evolution: items written by older code read through the `migrate` hook, items from
//! newer code are refused, and the eager migration rewrites everything once.

use ddbrel_runtime::{Entity, Error, Item, Root, Stored, Urn};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::assert_ok;
use serde::{Deserialize, Serialize};

mod v1 {
    use super::*;
    /// Version 1: a `title`, no tags.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
    #[urn(type = "Evo.Note")]
    pub struct Note {
        pub title: String,
    }
}

mod v2 {
    use super::*;
    /// Version 2 renamed `title` to `headline`, added `tags`, and made `headline` unique.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
    #[urn(type = "Evo.Note")]
    #[entity(version = 2, migrate = upgrade)]
    pub struct Note {
        #[unique(case_insensitive)]
        pub headline: String,
        #[serde(default)]
        pub tags: Vec<String>,
    }

    pub fn upgrade(from: u32, item: &mut Item) -> ddbrel_runtime::Result<()> {
        if from < 2
            && let Some(v) = item.remove("title")
        {
            item.insert("headline".into(), v);
        }
        Ok(())
    }
}

mod v3 {
    use super::*;
    /// Version 3: what newer code writes.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
    #[urn(type = "Evo.Note")]
    #[entity(version = 3)]
    pub struct Note {
        pub headline: String,
        pub tags: Vec<String>,
        pub pinned: bool,
    }
}

fn _roots<A: Root, B: Root, C: Root>() {}

#[tokio::test]
async fn version_1_items_read_with_version_2_code() {
    let env = TestEnv::new().await;
    let old = env
        .store
        .create(v1::Note {
            title: "Hello".into(),
        })
        .await
        .unwrap();
    let urn: Urn<v2::Note> = Urn::parse(old.urn.as_str()).unwrap();
    let read: Stored<v2::Note> = env.store.get(&urn).await.unwrap();
    assert_eq!(read.data.headline, "Hello");
    assert!(read.data.tags.is_empty());
    assert_eq!(
        read.meta.schema_version, 1,
        "as stored: the read wrote nothing"
    );
    let raw = env
        .raw_item(old.urn.as_str(), old.urn.as_str())
        .await
        .unwrap();
    assert!(raw.contains_key("title"), "lazy migration does not write");

    // An update writes it at version 2, with the new field names and the new marker.
    let mut changed = read.clone();
    changed.data.tags.push("greeting".into());
    env.store.update(&changed).await.unwrap();
    let raw = env
        .raw_item(old.urn.as_str(), old.urn.as_str())
        .await
        .unwrap();
    assert_eq!(raw["_schemaVersion"].as_n().unwrap(), "2");
    assert!(raw.contains_key("headline"));
    assert!(!raw.contains_key("title"), "the old attribute is gone");
    assert!(
        v2::Note::find_by_headline(&env.store, "HELLO")
            .await
            .unwrap()
            .is_some()
    );
    assert_ok(&env).await;
}

#[tokio::test]
async fn a_version_3_item_is_a_typed_error_for_version_2_code() {
    let env = TestEnv::new().await;
    let newer = env
        .store
        .create(v3::Note {
            headline: "From the future".into(),
            tags: vec![],
            pinned: true,
        })
        .await
        .unwrap();
    let urn: Urn<v2::Note> = Urn::parse(newer.urn.as_str()).unwrap();
    match env.store.get(&urn).await {
        Err(Error::SchemaTooNew {
            key,
            found,
            supported,
        }) => {
            assert_eq!(key, newer.urn.as_str());
            assert_eq!((found, supported), (3, 2));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    // Nor does the eager migration touch it.
    let report = env.store.migrate::<v2::Note>(2, None).await.unwrap();
    assert_eq!(report.found, 0);
}

#[tokio::test]
async fn eager_migration_upgrades_all_backfills_markers_and_is_idempotent() {
    let env = TestEnv::new().await;
    let mut urns = Vec::new();
    for i in 0..40 {
        let n = env
            .store
            .create(v1::Note {
                title: format!("note {i}"),
            })
            .await
            .unwrap();
        urns.push(n.urn.to_string());
    }
    // Two old items that collide under the new constraint.
    env.store
        .create(v1::Note {
            title: "Twin".into(),
        })
        .await
        .unwrap();
    env.store
        .create(v1::Note {
            title: "twin".into(),
        })
        .await
        .unwrap();

    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let p = progress.clone();
    let report = env
        .store
        .migrate::<v2::Note>(
            4,
            Some(std::sync::Arc::new(move |_found, migrated| {
                p.store(migrated, std::sync::atomic::Ordering::SeqCst);
            })),
        )
        .await
        .unwrap();
    assert_eq!(report.found, 42);
    assert_eq!(report.migrated, 41);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.failed[0].1.contains("violated"), "{report:?}");
    assert_eq!(progress.load(std::sync::atomic::Ordering::SeqCst), 41);

    for u in &urns {
        let raw = env.raw_item(u, u).await.unwrap();
        assert_eq!(raw["_schemaVersion"].as_n().unwrap(), "2");
        assert_eq!(raw["_version"].as_n().unwrap(), "2");
    }
    assert!(
        v2::Note::find_by_headline(&env.store, "NOTE 7")
            .await
            .unwrap()
            .is_some(),
        "markers backfilled"
    );
    // Idempotent: only the collision is left.
    let again = env.store.migrate::<v2::Note>(4, None).await.unwrap();
    assert_eq!((again.found, again.migrated), (1, 0));
    assert_ok(&env).await;
}
