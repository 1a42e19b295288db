//! Typed change events (`ddbrel_runtime::stream`): real operations on the embedded engine
//! with a `NEW_AND_OLD_IMAGES` stream on the table, its records read through the engine's
//! DynamoDB Streams API as JSON (the form Lambda receives), parsed with
//! `StreamRecord::from_event_json` and decoded. Foreign and malformed items are in
//! `stream_errors.rs`.

use std::collections::BTreeSet;

use ddbrel_runtime::stream::{
    Change, EdgeChangeKind, MarkerChange, MarkerChangeKind, MembershipChange, MembershipChangeKind,
    ResourceChange, ResourceChangeKind,
};
use ddbrel_runtime::{AnyUrn, DeleteOptions, Entity, Error, Item, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::stream::{Stream, acme, ann};
use entities::{Account, Job, JobCollection, JobStatus, Label, Team, User};
use serde::{Deserialize, Serialize};

fn resource<'a>(changes: &'a [Change], urn: &AnyUrn) -> &'a ResourceChange {
    let found: Vec<&ResourceChange> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Resource(r) if &r.urn == urn => Some(&**r),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "one change of {urn} in {changes:#?}");
    found[0]
}

fn markers(changes: &[Change]) -> Vec<&MarkerChange> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Marker(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn memberships(changes: &[Change]) -> Vec<&MembershipChange> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Membership(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn changed(r: &ResourceChange) -> Vec<&str> {
    r.changed.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_create_is_the_resource_its_edge_its_markers_and_the_parents_count() {
    let env = TestEnv::new().await;
    let mut stream = Stream::open(&env).await;

    let account = env.store.create(acme()).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let created = resource(&changes, account.urn.as_any());
    assert_eq!(created.kind, ResourceChangeKind::Created);
    assert!(created.old.is_none() && created.changed.is_empty());
    let typed = created.typed::<Account>().unwrap().expect("an Account");
    assert_eq!(typed.new.unwrap().data, acme());
    assert!(created.typed::<User>().unwrap().is_none());
    for c in &changes {
        if matches!(c, Change::Marker(_)) {
            assert!(c.resource::<Account>().unwrap().is_none(), "not a resource");
        }
    }
    let [slug] = markers(&changes)[..] else {
        panic!("one marker: {changes:#?}")
    };
    assert_eq!(slug.kind, MarkerChangeKind::Claimed);
    assert_eq!(
        (slug.resource_type.as_str(), slug.constraint.as_str()),
        ("System.Account", "slug")
    );
    assert_eq!(
        (slug.scope.as_str(), slug.value.as_str()),
        ("global", "acme")
    );
    assert_eq!(&slug.owner, account.urn.as_any());

    let user = env.store.create_child(&account, ann()).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 4, "{changes:#?}");
    let created = resource(&changes, user.urn.as_any());
    assert_eq!(created.kind, ResourceChangeKind::Created);
    assert_eq!(
        created.new.as_ref().unwrap().meta.parent.as_ref(),
        Some(account.urn.as_any())
    );
    let edges: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::ParentChild(e) => Some((e.parent.clone(), e.child.clone(), e.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        edges,
        [(
            account.urn.as_any().clone(),
            user.urn.as_any().clone(),
            EdgeChangeKind::Added
        )]
    );
    let [email] = markers(&changes)[..] else {
        panic!("one marker: {changes:#?}")
    };
    assert_eq!(email.kind, MarkerChangeKind::Claimed);
    assert_eq!(email.scope, account.urn.as_str(), "scoped to the account");
    assert_eq!(email.parts(), ["ann@example.com"]);
    assert_eq!(&email.owner, user.urn.as_any());
    // The parent's count is bookkeeping: no new version, nothing of the entity.
    let parent = resource(&changes, account.urn.as_any());
    assert_eq!(parent.kind, ResourceChangeKind::Bookkeeping);
    assert!(!parent.entity_changed());
    assert_eq!(changed(parent), ["_childCount"]);
    assert_eq!(parent.old.as_ref().unwrap().meta.version, 1);
    assert_eq!(parent.new.as_ref().unwrap().meta.version, 1);
    assert_eq!(parent.new.as_ref().unwrap().meta.child_count, 1);
}

#[tokio::test]
async fn updates_move_the_version_unique_changes_move_markers_and_a_leaf_delete_removes_all() {
    let env = TestEnv::new().await;
    let account = env.store.create(acme()).await.unwrap();
    let user = env.store.create_child(&account, ann()).await.unwrap();
    let mut stream = Stream::open(&env).await;

    let mut renamed = user.clone();
    renamed.data.display_name = "Annie".into();
    let renamed = env.store.update(&renamed).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let update = resource(&changes, user.urn.as_any());
    assert_eq!(update.kind, ResourceChangeKind::Updated);
    assert!(update.entity_changed());
    assert_eq!(update.fields_changed().collect::<Vec<_>>(), ["displayName"]);
    assert_eq!(update.bookkeeping_changed().count(), 0);
    for moved in ["_version", "_updatedAt", "_writeToken"] {
        assert!(update.changed.iter().any(|a| a == moved), "{moved}");
    }
    let typed = changes[0].resource::<User>().unwrap().unwrap();
    let (old, new) = (typed.old.unwrap(), typed.new.unwrap());
    assert_eq!((old.version(), new.version()), (1, 2));
    assert_eq!(
        (old.display_name.as_str(), new.display_name.as_str()),
        ("Ann", "Annie")
    );

    let mut moved = renamed.clone();
    moved.data.email = "ann@elsewhere.org".into();
    env.store.update(&moved).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let update = resource(&changes, user.urn.as_any());
    assert_eq!(update.kind, ResourceChangeKind::Updated);
    assert_eq!(update.fields_changed().collect::<Vec<_>>(), ["email"]);
    assert!(update.changed.iter().any(|a| a == "_uniqueKeys"));
    let mut seen: Vec<(MarkerChangeKind, Vec<String>)> = markers(&changes)
        .iter()
        .map(|m| {
            assert_eq!(&m.owner, user.urn.as_any());
            (m.kind.clone(), m.parts())
        })
        .collect();
    seen.sort_by_key(|(k, _)| *k == MarkerChangeKind::Claimed);
    assert_eq!(
        seen,
        [
            (
                MarkerChangeKind::Released,
                vec!["ann@example.com".to_string()]
            ),
            (
                MarkerChangeKind::Claimed,
                vec!["ann@elsewhere.org".to_string()]
            ),
        ]
    );

    // A leaf delete: one transaction, no fence.
    let current: Stored<User> = env.store.get(&user.urn).await.unwrap();
    env.store.delete(&current).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 4, "{changes:#?}");
    let deleted = resource(&changes, user.urn.as_any());
    assert_eq!(deleted.kind, ResourceChangeKind::Deleted);
    assert!(deleted.new.is_none() && !deleted.fence_set());
    assert_eq!(deleted.old.as_ref().unwrap().meta.version, 3);
    assert!(changes.iter().any(|c| matches!(c,
        Change::ParentChild(e) if e.kind == EdgeChangeKind::Removed && &e.child == user.urn.as_any())));
    let [released] = markers(&changes)[..] else {
        panic!("one marker: {changes:#?}")
    };
    assert_eq!(released.kind, MarkerChangeKind::Released);
    let parent = resource(&changes, account.urn.as_any());
    assert_eq!(parent.kind, ResourceChangeKind::Bookkeeping);
    assert_eq!(changed(parent), ["_childCount"]);
}

#[tokio::test]
async fn memberships_say_whether_they_convey_authorization_and_bookkeep_both_ends() {
    let env = TestEnv::new().await;
    let account = env.store.create(acme()).await.unwrap();
    let user = env.store.create_child(&account, ann()).await.unwrap();
    let team = env
        .store
        .create_child(&account, Team { name: "Ops".into() })
        .await
        .unwrap();
    let jobs = env
        .store
        .create_child(
            &account,
            JobCollection {
                name: "Nightly".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    let job = env
        .store
        .create_child(
            &jobs,
            Job {
                name: "Export".into(),
                status: JobStatus::Active,
                schedule: None,
            },
        )
        .await
        .unwrap();
    let label = env
        .store
        .create_child(
            &account,
            Label {
                name: "slow".into(),
                color: "#ff0000".into(),
            },
        )
        .await
        .unwrap();
    let mut stream = Stream::open(&env).await;

    env.store.add_member(&team, &user).await.unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let [m] = memberships(&changes)[..] else {
        panic!("one membership: {changes:#?}")
    };
    assert_eq!(
        (&m.collection, &m.member),
        (team.urn.as_any(), user.urn.as_any())
    );
    assert_eq!(m.kind, MembershipChangeKind::Added);
    assert!(m.conveys_authorization, "a Team conveys by default");
    let collection = resource(&changes, team.urn.as_any());
    assert_eq!(collection.kind, ResourceChangeKind::Bookkeeping);
    assert_eq!(changed(collection), ["_memberCount"]);
    let member = resource(&changes, user.urn.as_any());
    assert_eq!(member.kind, ResourceChangeKind::Bookkeeping);
    assert_eq!(changed(member), ["_conveyingCollections", "_memberOf"]);
    let typed = changes
        .iter()
        .find_map(|c| c.resource::<User>().unwrap())
        .unwrap();
    let new = typed.new.unwrap();
    assert_eq!(new.version(), 1, "bookkeeping keeps _version");
    assert_eq!(new.meta.member_of, [team.urn.as_any().clone()]);

    env.store
        .add_member_with(&team, &user, false)
        .await
        .unwrap();
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let [m] = memberships(&changes)[..] else {
        panic!("one membership: {changes:#?}")
    };
    assert_eq!(
        m.kind,
        MembershipChangeKind::Changed {
            conveyed_before: true
        }
    );
    assert!(!m.conveys_authorization);
    assert_eq!(
        changed(resource(&changes, user.urn.as_any())),
        ["_conveyingCollections"]
    );

    env.store.add_member(&label, &job).await.unwrap();
    let changes = stream.changes().await;
    let [m] = memberships(&changes)[..] else {
        panic!("one membership: {changes:#?}")
    };
    assert_eq!(
        (m.kind, m.conveys_authorization),
        (MembershipChangeKind::Added, false)
    );
    assert_eq!(changed(resource(&changes, job.urn.as_any())), ["_memberOf"]);

    assert!(env.store.remove_member(&team.urn, &user.urn).await.unwrap());
    let changes = stream.changes().await;
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let [m] = memberships(&changes)[..] else {
        panic!("one membership: {changes:#?}")
    };
    assert_eq!(m.kind, MembershipChangeKind::Removed);
    assert!(!m.conveys_authorization, "as it was when removed");
    assert_eq!(
        changed(resource(&changes, team.urn.as_any())),
        ["_memberCount"]
    );
    assert_eq!(
        changed(resource(&changes, user.urn.as_any())),
        ["_memberOf"]
    );
}

#[tokio::test]
async fn a_fenced_cascade_bookkeeps_the_fence_then_removes_every_record() {
    let env = TestEnv::new().await;
    let account = env.store.create(acme()).await.unwrap();
    let user = env.store.create_child(&account, ann()).await.unwrap();
    let team = env
        .store
        .create_child(&account, Team { name: "Ops".into() })
        .await
        .unwrap();
    env.store.add_member(&team, &user).await.unwrap();
    let mut stream = Stream::open(&env).await;

    let opts = DeleteOptions {
        force_sweep: true,
        ..DeleteOptions::default()
    };
    env.store
        .delete_with(account.urn.as_any(), opts)
        .await
        .unwrap();
    let changes = stream.changes().await;

    let fenced: Vec<&ResourceChange> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Resource(r) if r.fence_set() => Some(&**r),
            _ => None,
        })
        .collect();
    assert!(
        fenced.iter().any(|r| &r.urn == account.urn.as_any()),
        "the root is fenced first: {changes:#?}"
    );
    for r in &fenced {
        assert_eq!(r.kind, ResourceChangeKind::Bookkeeping);
        assert!(r.bookkeeping_changed().any(|a| a == "_deleting"));
        assert_eq!(
            r.old.as_ref().unwrap().meta.version,
            r.new.as_ref().unwrap().meta.version
        );
    }
    assert!(
        changes.iter().all(|c| !matches!(c,
            Change::Resource(r) if r.kind == ResourceChangeKind::Updated || r.kind == ResourceChangeKind::Created)),
        "a delete changes no entity: {changes:#?}"
    );
    let deleted: BTreeSet<&AnyUrn> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Resource(r) if r.kind == ResourceChangeKind::Deleted => Some(&r.urn),
            _ => None,
        })
        .collect();
    let all = [account.urn.as_any(), user.urn.as_any(), team.urn.as_any()];
    assert_eq!(deleted, all.into_iter().collect());
    let root = changes
        .iter()
        .find_map(|c| match c {
            Change::Resource(r) if r.kind == ResourceChangeKind::Deleted && &r.urn == all[0] => {
                Some(&**r)
            }
            _ => None,
        })
        .unwrap();
    assert!(
        root.old.as_ref().unwrap().meta.deleting.is_some(),
        "deleted fenced"
    );
    let mut edges: Vec<(&AnyUrn, EdgeChangeKind)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::ParentChild(e) => Some((&e.child, e.kind)),
            _ => None,
        })
        .collect();
    edges.sort_by_key(|(child, _)| *child);
    let mut expected = vec![
        (user.urn.as_any(), EdgeChangeKind::Removed),
        (team.urn.as_any(), EdgeChangeKind::Removed),
    ];
    expected.sort_by_key(|(child, _)| *child);
    assert_eq!(edges, expected);
    let mut released: Vec<(&str, MarkerChangeKind)> = markers(&changes)
        .iter()
        .map(|m| (m.constraint.as_str(), m.kind.clone()))
        .collect();
    released.sort_by_key(|(c, _)| *c);
    assert_eq!(
        released,
        [
            ("email", MarkerChangeKind::Released),
            ("slug", MarkerChangeKind::Released)
        ]
    );
    let [m] = memberships(&changes)[..] else {
        panic!("one membership: {changes:#?}")
    };
    assert_eq!(
        (m.kind, m.conveys_authorization),
        (MembershipChangeKind::Removed, true)
    );
}

mod v1 {
    use super::*;
    /// Version 1: a `title`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
    #[urn(type = "Stream.Note")]
    pub struct Note {
        pub title: String,
    }
}

mod v2 {
    use super::*;
    /// Version 2 renamed `title` to `headline` (unique) and added `tags`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
    #[urn(type = "Stream.Note")]
    #[entity(version = 2, migrate = upgrade)]
    pub struct Note {
        #[unique]
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

#[tokio::test]
async fn an_image_at_an_older_schema_version_decodes_through_migrate() {
    let env = TestEnv::new().await;
    let mut stream = Stream::open(&env).await;
    let old = env
        .store
        .create(v1::Note {
            title: "Hello".into(),
        })
        .await
        .unwrap();
    let changes = stream.changes().await;
    let [created] = &changes[..] else {
        panic!("{changes:#?}")
    };
    let as_v2 = created.resource::<v2::Note>().unwrap().unwrap();
    let note = as_v2.new.unwrap();
    assert_eq!(note.data.headline, "Hello", "migrated on decode");
    assert!(note.data.tags.is_empty());
    assert_eq!(note.meta.schema_version, 1, "as stored");
    let as_v1 = created.resource::<v1::Note>().unwrap().unwrap();
    assert_eq!(as_v1.new.unwrap().data.title, "Hello");

    // Version-2 code rewrites it at version 2: an entity update, marker claimed.
    let mut read: Stored<v2::Note> = env
        .store
        .get(&old.urn.as_any().clone().typed().unwrap())
        .await
        .unwrap();
    read.data.tags.push("greeting".into());
    env.store.update(&read).await.unwrap();
    let changes = stream.changes().await;
    let update = resource(&changes, old.urn.as_any());
    assert_eq!(update.kind, ResourceChangeKind::Updated);
    let fields: Vec<&str> = update.fields_changed().collect();
    assert_eq!(fields, ["headline", "tags", "title"]);
    assert!(update.changed.iter().any(|a| a == "_schemaVersion"));
    let typed = update.typed::<v2::Note>().unwrap().unwrap();
    let (before, after) = (typed.old.unwrap(), typed.new.unwrap());
    assert_eq!(
        (before.data.headline.as_str(), before.meta.schema_version),
        ("Hello", 1)
    );
    assert_eq!(
        (after.data.tags.clone(), after.meta.schema_version),
        (vec!["greeting".to_string()], 2)
    );
    let [claimed] = markers(&changes)[..] else {
        panic!("{changes:#?}")
    };
    assert_eq!(
        (claimed.constraint.as_str(), claimed.kind.clone()),
        ("headline", MarkerChangeKind::Claimed)
    );
    // Older code refuses the newer image, naming it.
    match update.typed::<v1::Note>() {
        Err(Error::SchemaTooNew {
            key,
            found,
            supported,
        }) => {
            assert_eq!((key.as_str(), found, supported), (old.urn.as_str(), 2, 1));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn registering_a_type_is_a_type_schema_change() {
    let env = TestEnv::new().await;
    let mut stream = Stream::open(&env).await;
    env.store.register::<User>().await.unwrap();
    let changes = stream.changes().await;
    let [Change::TypeSchema(t)] = &changes[..] else {
        panic!("{changes:#?}")
    };
    assert!(t.old.is_none());
    let new = t.new.as_ref().unwrap();
    assert_eq!(new.resource_type, "System.Account.User");
    assert_eq!(new.parent.as_deref(), Some("System.Account"));
}
