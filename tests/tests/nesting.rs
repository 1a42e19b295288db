//! Several parent types and a type nested in itself (#14 item 1): a Folder lives in a
//! Workspace or in another Folder, a Doc in a Workspace or a Folder, at any depth. Creates,
//! `parent_of` (an enum to match on), children listings, ancestors, the account, the
//! authorization scope, uniqueness among a parent's children, the cascade, the type registry
//! and the integrity checker, all on the engine.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::integrity::{self, FindingKind};
use ddbrel_runtime::records::type_schema::decode_type_schema;
use ddbrel_runtime::schema::{REGISTRY_PK, attr};
use ddbrel_runtime::{AnyUrn, Child, Entity, Error, Order, PageRequest, ParentUrn, Stored, Urn};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample;
use entities::Account;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Workspace")]
#[parent(Account)]
#[account_scoped]
struct Workspace {
    #[unique(scope = parent)]
    name: String,
}

/// Lives in a Workspace (its home parent) or in another Folder.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Workspace.Folder")]
#[parent(Workspace, Folder)]
#[account_scoped]
struct Folder {
    #[unique(scope = parent)]
    name: String,
}

/// Lives in a Workspace or a Folder.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Workspace.Doc")]
#[parent(Workspace, Self)]
#[account_scoped]
struct Note {
    text: String,
}

/// Lives in a Workspace or a Folder; titles are unique among a parent's docs.
#[derive(Debug, Clone, Serialize, Deserialize, Entity)]
#[urn(type = "System.Account.Workspace.Document")]
#[parent(Workspace, Folder)]
#[account_scoped]
struct Doc {
    #[unique(scope = parent)]
    title: String,
}

struct Tree {
    account: Stored<Account>,
    ws: Stored<Workspace>,
    /// `folders[0]` in the workspace, each next one in the one before.
    folders: Vec<Stored<Folder>>,
    /// In the workspace.
    top_doc: Stored<Doc>,
    /// In the deepest folder.
    deep_doc: Stored<Doc>,
}

async fn tree(env: &TestEnv, depth: usize) -> Tree {
    let store = &env.store;
    let account = store.create(sample::account("nest")).await.unwrap();
    let ws = store
        .create_child(&account, Workspace { name: "w".into() })
        .await
        .unwrap();
    let mut folders = vec![
        store
            .create_child(&ws, Folder { name: "f0".into() })
            .await
            .unwrap(),
    ];
    for i in 1..depth {
        let name = format!("f{i}");
        let parent = folders.last().unwrap().clone();
        folders.push(store.create_child(&parent, Folder { name }).await.unwrap());
    }
    let top_doc = store
        .create_child(&ws, Doc { title: "t".into() })
        .await
        .unwrap();
    let deep_doc = store
        .create_child(folders.last().unwrap(), Doc { title: "t".into() })
        .await
        .unwrap();
    Tree {
        account,
        ws,
        folders,
        top_doc,
        deep_doc,
    }
}

/// The in-process checker and the SQL checks (specs/checks/) agree on the table, for every
/// invariant the SQL publishes (all but `record`); returns the in-process audit.
async fn audit_both_ways(env: &TestEnv) -> integrity::Audit {
    let audit = integrity::audit(&env.store, 2).await.unwrap();
    let items = env.scan_all().await;
    let keyed = |findings: &[integrity::Finding]| {
        let mut v: Vec<(String, &'static str, String)> = findings
            .iter()
            .filter(|f| f.invariant != "record")
            .map(|f| (f.kind.to_string(), f.invariant, f.key.clone()))
            .collect();
        v.sort();
        v
    };
    let in_sql = integrity::sql::check_items_sql(&items).unwrap();
    assert_eq!(keyed(&in_sql), keyed(&audit.findings));
    audit
}

fn any<E>(s: &Stored<E>) -> AnyUrn {
    s.urn.as_any().clone()
}

#[tokio::test]
async fn folders_nest_in_folders_at_any_depth() {
    let env = TestEnv::new().await;
    let t = tree(&env, 6).await;
    let store = &env.store;

    // The chain, root first: every level copies its parent's, whichever type the parent is.
    let mut chain = vec![any(&t.account), any(&t.ws)];
    chain.extend(t.folders.iter().map(any));
    assert_eq!(
        store.ancestors(t.deep_doc.urn.as_any()).await.unwrap(),
        chain
    );
    assert_eq!(t.deep_doc.meta.ancestors, chain);
    // One account for the whole tree: the Account, at every depth.
    for meta in t
        .folders
        .iter()
        .map(|f| &f.meta)
        .chain([&t.top_doc.meta, &t.deep_doc.meta])
    {
        assert_eq!(meta.account.as_ref(), Some(t.account.urn.as_any()));
    }

    // `parent_of` says which type the parent is.
    match store.parent_of(&t.deep_doc.urn).await.unwrap() {
        DocParent::Folder(f) => assert_eq!(f, t.folders[5].urn),
        other => panic!("expected the deepest folder, got {other:?}"),
    }
    match store.parent_of(&t.top_doc.urn).await.unwrap() {
        DocParent::Workspace(w) => assert_eq!(w, t.ws.urn),
        other => panic!("expected the workspace, got {other:?}"),
    }
    assert_eq!(
        store.parent_of(&t.folders[0].urn).await.unwrap(),
        FolderParent::Workspace(t.ws.urn.clone())
    );
    assert_eq!(
        store.parent_of(&t.folders[3].urn).await.unwrap(),
        FolderParent::Folder(t.folders[2].urn.clone())
    );
    // `Self` in the list is the type itself.
    let note = store
        .create_child(&t.ws, Note { text: "n".into() })
        .await
        .unwrap();
    let inner = store
        .create_child(&note, Note { text: "m".into() })
        .await
        .unwrap();
    assert_eq!(
        store.parent_of(&inner.urn).await.unwrap(),
        NoteParent::Note(note.urn.clone())
    );

    // Children of one type under a parent of either type; the enum is a parent as well.
    let page = PageRequest::first(100);
    let under_ws = store
        .children::<Doc>(&t.ws.urn, page.clone())
        .await
        .unwrap();
    assert_eq!(under_ws.items, vec![t.top_doc.urn.clone()]);
    let under_deep = store
        .children::<Doc>(&t.folders[5].urn, page.clone())
        .await
        .unwrap();
    assert_eq!(under_deep.items, vec![t.deep_doc.urn.clone()]);
    let parent = store.parent_of(&t.folders[3].urn).await.unwrap();
    let siblings = store
        .children_with_data::<Folder>(&parent, page.clone())
        .await
        .unwrap();
    assert_eq!(siblings.items.len(), 1);
    assert_eq!(siblings.items[0].urn, t.folders[3].urn);
    let folders_in_ws = store
        .children::<Folder>(&t.ws.urn, page.clone())
        .await
        .unwrap();
    assert_eq!(folders_in_ws.items, vec![t.folders[0].urn.clone()]);

    // The account listing sees every doc, whatever its parent's type.
    let docs = store
        .by_account::<Doc>(&t.account.urn, Order::OldestFirst, page)
        .await
        .unwrap();
    assert_eq!(docs.items.len(), 2);

    // The authorization scope walks the whole chain.
    let scope = store
        .authorization_scope(t.deep_doc.urn.as_any())
        .await
        .unwrap();
    let mut expected = vec![any(&t.deep_doc)];
    expected.extend(chain.iter().rev().cloned());
    assert_eq!(scope, expected);

    assert_ok(&env).await;
    let audit = audit_both_ways(&env).await;
    assert!(audit.is_clean(), "{:?}", audit.findings);
}

#[tokio::test]
async fn titles_are_unique_among_one_parents_children_at_any_depth() {
    let env = TestEnv::new().await;
    let t = tree(&env, 3).await;
    let store = &env.store;
    // "t" is taken in the workspace and in the deepest folder, not in the others.
    let e = store
        .create_child(&t.folders[2], Doc { title: "t".into() })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UniqueViolation { .. }), "{e:?}");
    let e = store
        .create_child(&t.ws, Doc { title: "t".into() })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UniqueViolation { .. }), "{e:?}");
    let middle = store
        .create_child(&t.folders[1], Doc { title: "t".into() })
        .await
        .unwrap();

    // The finder takes a parent of either type, or the enum.
    let found = Doc::find_by_title(store, &t.folders[1].urn, "t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.urn, middle.urn);
    let found = Doc::find_by_title(store, &t.ws.urn, "t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.urn, t.top_doc.urn);
    let parent = store.parent_of(&t.deep_doc.urn).await.unwrap();
    let found = Doc::find_by_title(store, &parent, "t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.urn, t.deep_doc.urn);
    assert!(
        Doc::find_by_title(store, &t.folders[0].urn, "t")
            .await
            .unwrap()
            .is_none()
    );
    assert_ok(&env).await;
}

#[tokio::test]
async fn deleting_a_folder_deletes_the_folders_and_docs_inside_it() {
    let env = TestEnv::new().await;
    let t = tree(&env, 5).await;
    let store = &env.store;
    let report = store.delete(&t.folders[1]).await.unwrap();
    // Folders 1 to 4 and the deep doc, with their markers (one each) and parent records.
    assert_eq!(report.resources[Folder::RESOURCE_TYPE], 4);
    assert_eq!(report.resources[Doc::RESOURCE_TYPE], 1);
    assert_eq!(report.markers, 5);
    assert_eq!(report.parent_child, 5);
    for gone in &t.folders[1..] {
        assert!(
            store.try_get(&gone.urn).await.unwrap().is_none(),
            "{}",
            gone.urn
        );
    }
    assert!(store.try_get(&t.deep_doc.urn).await.unwrap().is_none());
    let left = store
        .children::<Folder>(&t.folders[0].urn, PageRequest::first(10))
        .await
        .unwrap();
    assert!(left.items.is_empty());
    assert!(store.try_get(&t.top_doc.urn).await.unwrap().is_some());
    assert_ok(&env).await;
    assert!(audit_both_ways(&env).await.is_clean());
}

#[tokio::test]
async fn the_registry_records_every_parent_type_and_the_checker_holds_resources_to_it() {
    let env = TestEnv::new().await;
    let t = tree(&env, 2).await;
    let store = &env.store;
    store
        .register_types(&[
            Account::descriptor(),
            Workspace::descriptor(),
            Folder::descriptor(),
            Doc::descriptor(),
        ])
        .await
        .unwrap();
    let folder_sk = format!("type#pp#{}", Folder::RESOURCE_TYPE);
    let raw = env.raw_item(REGISTRY_PK, &folder_sk).await.unwrap();
    let parents: Vec<&str> = raw["parents"]
        .as_l()
        .unwrap()
        .iter()
        .map(|v| v.as_s().unwrap().as_str())
        .collect();
    assert_eq!(parents, [Workspace::RESOURCE_TYPE, Folder::RESOURCE_TYPE]);
    assert_eq!(raw["parent"].as_s().unwrap(), Workspace::RESOURCE_TYPE);
    assert_eq!(
        decode_type_schema(&raw).unwrap().parent_types(),
        [Workspace::RESOURCE_TYPE, Folder::RESOURCE_TYPE]
    );
    // A type with one parent type is stored as before: no `parents`.
    let ws_sk = format!("type#pp#{}", Workspace::RESOURCE_TYPE);
    let raw_ws = env.raw_item(REGISTRY_PK, &ws_sk).await.unwrap();
    assert!(!raw_ws.contains_key("parents"));
    let audit = audit_both_ways(&env).await;
    assert!(audit.is_clean(), "{:?}", audit.findings);

    // Registered as older code did, with the Workspace as its only parent type: the docs
    // in folders break I2 as registered, reported once on the type.
    let doc_sk = format!("type#pp#{}", Doc::RESOURCE_TYPE);
    env.raw
        .update_item()
        .table_name(store.table())
        .key("PK", AV::S(REGISTRY_PK.into()))
        .key("SK", AV::S(doc_sk))
        .update_expression("REMOVE parents")
        .send()
        .await
        .unwrap();
    let audit = audit_both_ways(&env).await;
    let i2: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.invariant == "I2")
        .collect();
    assert_eq!(i2.len(), 1, "{:?}", audit.findings);
    assert_eq!(i2[0].kind, FindingKind::ParentRelationship);
    assert_eq!(i2[0].key, format!("type {}", Doc::RESOURCE_TYPE));
    assert!(
        i2[0].message.contains(&t.deep_doc.urn.to_string()),
        "{}",
        i2[0].message
    );
}

#[tokio::test]
async fn a_parent_of_an_undeclared_type_is_a_typed_error() {
    let env = TestEnv::new().await;
    let t = tree(&env, 1).await;
    // Another writer put the Account as a doc's parent.
    env.raw
        .update_item()
        .table_name(env.store.table())
        .key("PK", AV::S(t.deep_doc.urn.to_string()))
        .key("SK", AV::S(t.deep_doc.urn.to_string()))
        .update_expression("SET #p = :p")
        .expression_attribute_names("#p", attr::PARENT_URN)
        .expression_attribute_values(":p", AV::S(t.account.urn.to_string()))
        .send()
        .await
        .unwrap();
    let e = env.store.parent_of(&t.deep_doc.urn).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::InvalidItem { .. }), "{e:?}");
    assert!(text.contains(&t.deep_doc.urn.to_string()), "{text}");
    assert!(
        text.contains("System.Account.Workspace or a System.Account.Workspace.Folder"),
        "{text}"
    );
    // The typed enum refuses it the same way.
    let e = <Doc as Child>::ParentUrn::from_any(t.account.urn.as_any().clone()).unwrap_err();
    assert!(e.to_string().contains("not a System.Account"), "{e}");
    let _: Urn<Folder> = t.folders[0].urn.clone();
}
