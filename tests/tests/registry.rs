//! The type registry (SCHEMA.md §5.5, §10 "Register types"): the record as the contract lays
//! it out (read with the plain SDK), idempotent registration that writes only what changed,
//! older code refused, also when a newer registration lands between its read and its write
//! (held at the gate), and the integrity check's view of it.

use ddbrel_runtime::{Entity, Error, Store};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::assert_ok;
use serde::{Deserialize, Serialize};

mod v1 {
    use super::*;
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "reg", type = "Reg.Board")]
    pub struct Board {
        #[unique(case_insensitive)]
        pub slug: String,
    }
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "reg", type = "Reg.Board.Card")]
    #[parent(Board)]
    #[account_scoped]
    pub struct Card {
        pub title: String,
    }
}

mod v2 {
    use super::*;
    #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
    #[urn(domain = "reg", type = "Reg.Board")]
    #[entity(version = 2)]
    pub struct Board {
        #[unique(case_insensitive)]
        pub slug: String,
        #[serde(default)]
        pub archived: bool,
    }
}

#[tokio::test]
async fn the_record_is_laid_out_as_the_contract_says() {
    let env = TestEnv::new().await;
    let r = env.store.register::<v1::Card>().await.unwrap();
    assert_eq!(r.written, vec!["Reg.Board.Card".to_string()]);
    let raw = env
        .raw_item("schema", "type#reg#Reg.Board.Card")
        .await
        .expect("the EntitySchema record");
    let s = |name: &str| raw[name].as_s().unwrap().as_str();
    assert_eq!(s("_type"), "EntitySchema");
    assert_eq!(raw["_schemaVersion"].as_n().unwrap(), "1");
    assert_eq!(s("_createdAt").len(), 24);
    assert_eq!(s("typeName"), "Card");
    assert_eq!(s("resourceType"), "Reg.Board.Card");
    assert_eq!(s("domain"), "reg");
    assert_eq!(raw["schemaVersion"].as_n().unwrap(), "1");
    assert_eq!(s("parent"), "Reg.Board");
    assert_eq!(raw["accountScoped"].as_bool().unwrap(), &true);
    assert!(raw["unique"].as_l().unwrap().is_empty());
    assert!(
        !raw.contains_key("collection"),
        "absent for a non-collection"
    );
    let fields: Vec<&str> = raw["fields"]
        .as_l()
        .unwrap()
        .iter()
        .map(|v| v.as_s().unwrap().as_str())
        .collect();
    assert_eq!(fields, ["title"]);
    for absent in ["GSI1PK", "GSI1SK", "_accountUrn"] {
        assert!(!raw.contains_key(absent), "{absent}");
    }

    env.store.register::<v1::Board>().await.unwrap();
    let board = env.raw_item("schema", "type#reg#Reg.Board").await.unwrap();
    let unique = board["unique"].as_l().unwrap()[0].as_m().unwrap();
    assert_eq!(unique["name"].as_s().unwrap(), "slug");
    assert_eq!(unique["scope"].as_s().unwrap(), "global");
    assert_eq!(unique["caseInsensitive"].as_bool().unwrap(), &true);

    let types = env.store.registered_types().await.unwrap();
    let names: Vec<&str> = types.iter().map(|t| t.resource_type.as_str()).collect();
    assert_eq!(names, ["Reg.Board", "Reg.Board.Card"], "in key order");
    assert_ok(&env).await;
}

#[tokio::test]
async fn registering_again_writes_only_what_changed() {
    let env = TestEnv::new().await;
    let all = [v1::Board::descriptor(), v1::Card::descriptor()];
    env.store.register_types(&all).await.unwrap();
    let (again, counts) = env.counter.measure(env.store.register_types(&all)).await;
    let again = again.unwrap();
    assert!(again.written.is_empty(), "{again:?}");
    assert_eq!(again.unchanged.len(), 2);
    assert_eq!(counts.get("Query"), Some(&1), "{counts:?}");
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "one Query, no write: {counts:?}"
    );

    // A newer version is written (one Query, one PutItem) ...
    let (newer, counts) = env.counter.measure(env.store.register::<v2::Board>()).await;
    assert_eq!(newer.unwrap().written, vec!["Reg.Board".to_string()]);
    assert_eq!(counts.values().sum::<u64>(), 2, "{counts:?}");
    // ... and older code may not take it back.
    let refused = env.store.register::<v1::Board>().await.unwrap_err();
    assert!(
        matches!(
            refused,
            Error::SchemaTooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{refused:?}"
    );
    let types = env.store.registered_types().await.unwrap();
    assert_eq!(types[0].schema_version, 2);
    assert!(types[0].fields.contains(&"archived".to_string()));
}

/// Older code reads the registry before newer code registers, and writes after: the
/// condition on its PutItem refuses it, so the registry never goes back a version.
#[tokio::test]
async fn older_code_racing_newer_code_cannot_downgrade_the_registry() {
    let env = TestEnv::new().await;
    let mut put = env.gate.hold("PutItem", 1, Some("Reg.Board"));
    let older = {
        let store = env.store.clone();
        tokio::spawn(async move { store.register::<v1::Board>().await })
    };
    let body = put.arrived().await;
    assert!(body.contains("schemaVersion"), "{body}");
    // Newer code registers meanwhile, through another client on the same table.
    let other = Store::new(env.raw.clone(), env.store.table());
    other.register::<v2::Board>().await.unwrap();
    put.release();
    let refused = older.await.unwrap().unwrap_err();
    assert!(
        matches!(
            refused,
            Error::SchemaTooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{refused:?}"
    );
    let types = env.store.registered_types().await.unwrap();
    assert_eq!(types[0].schema_version, 2, "not downgraded");
}

#[tokio::test]
async fn a_malformed_registry_record_is_a_named_error_and_a_finding() {
    let env = TestEnv::new().await;
    env.store.register::<v1::Board>().await.unwrap();
    let mut raw = env.raw_item("schema", "type#reg#Reg.Board").await.unwrap();
    raw.insert(
        "schemaVersion".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("two".into()),
    );
    env.put_raw(raw).await;
    let e = env.store.registered_types().await.unwrap_err().to_string();
    assert!(
        e.contains("type#reg#Reg.Board") && e.contains("schemaVersion"),
        "{e}"
    );
    let audit = ddbrel_runtime::integrity::audit(&env.store, 1)
        .await
        .unwrap();
    assert!(
        audit
            .findings
            .iter()
            .any(|f| f.key.contains("type#reg#Reg.Board") && f.message.contains("schemaVersion")),
        "{:?}",
        audit.findings
    );
}

#[tokio::test]
async fn the_check_holds_resources_to_their_registered_declaration() {
    let env = TestEnv::new().await;
    // Registered as a root type and not account-scoped: Cards are neither.
    let mut wrong = ddbrel_runtime::TypeSchema::from(v1::Card::descriptor());
    wrong.parent = None;
    wrong.account_scoped = false;
    let item =
        ddbrel_runtime::records::type_schema::type_schema_item(&wrong, ddbrel_runtime::time::now())
            .unwrap();
    env.put_raw(item).await;
    let board = env
        .store
        .create(v1::Board { slug: "b".into() })
        .await
        .unwrap();
    env.store
        .create_child(&board, v1::Card { title: "t".into() })
        .await
        .unwrap();
    let audit = ddbrel_runtime::integrity::audit(&env.store, 1)
        .await
        .unwrap();
    let on_type: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.key == "type Reg.Board.Card")
        .map(|f| f.invariant)
        .collect();
    assert_eq!(on_type, ["I2", "I5"], "{:?}", audit.findings);
}
