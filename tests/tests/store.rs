//! Resource storage end to end on the engine: create, get, update, delete, errors, request
//! counts and the raw items against SCHEMA.md.

use ddbrel_runtime::entity::{EntityDescriptor, UniqueConstraint, UniqueScope};
use ddbrel_runtime::{Entity, Error, Item, Root, Urn};
use ddbrel_tests::TestEnv;
use serde::{Deserialize, Serialize};

/// A hand-written entity (the derive has its own tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    stars: u32,
}

static NOTE: EntityDescriptor = EntityDescriptor {
    type_name: "Note",
    resource_type: "Test.Note",
    domain: "pp",
    schema_version: 1,
    parent: None,
    parents: &[],
    on_delete: ddbrel_runtime::OnDelete::Cascade,
    account_scoped: false,
    unique: &[],
    collection: None,
    fields: &["title", "body", "stars"],
};

impl Entity for Note {
    const RESOURCE_TYPE: &'static str = "Test.Note";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = false;
    fn descriptor() -> &'static EntityDescriptor {
        &NOTE
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        Vec::new()
    }
}
impl Root for Note {}

/// A hand-written entity with a unique constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Handle {
    handle: String,
}
static HANDLE: EntityDescriptor = EntityDescriptor {
    type_name: "Handle",
    resource_type: "Test.Handle",
    domain: "pp",
    schema_version: 1,
    parent: None,
    parents: &[],
    on_delete: ddbrel_runtime::OnDelete::Cascade,
    account_scoped: false,
    unique: &[UniqueConstraint {
        name: "handle",
        fields: &["handle"],
        scope: UniqueScope::Global,
        case_insensitive: true,
    }],
    collection: None,
    fields: &["handle"],
};
impl Entity for Handle {
    const RESOURCE_TYPE: &'static str = "Test.Handle";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = false;
    fn descriptor() -> &'static EntityDescriptor {
        &HANDLE
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        vec![Some(vec![self.handle.clone()])]
    }
}
impl Root for Handle {}

fn note(title: &str) -> Note {
    Note {
        title: title.into(),
        body: Some("hello".into()),
        stars: 3,
    }
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .as_s()
        .unwrap_or_else(|_| panic!("{name} is not S"))
}

fn is_iso_millis(v: &str) -> bool {
    v.len() == 24 && v.ends_with('Z') && v.as_bytes()[19] == b'.' && v.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn create_get_update_delete_with_exact_request_counts() {
    let env = TestEnv::new().await;
    let store = &env.store;

    let (created, counts) = env.counter.measure(store.create(note("first"))).await;
    let created = created.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "create = 1 request: {counts:?}"
    );
    assert_eq!(created.meta.version, 1);

    let (got, counts) = env.counter.measure(store.get(&created.urn)).await;
    let mut got = got.unwrap();
    assert_eq!(counts.get("GetItem"), Some(&1));
    assert_eq!(env.counter.total(), 1);
    assert_eq!(got.data, created.data);
    assert_eq!(got.meta.version, 1);

    got.data.stars = 5;
    got.data.body = None;
    let (updated, counts) = env.counter.measure(store.update(&got)).await;
    let updated = updated.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "update = 1 request: {counts:?}"
    );
    assert_eq!(updated.meta.version, 2);
    let reread = store.get(&created.urn).await.unwrap();
    assert_eq!(reread.data.stars, 5);
    assert_eq!(reread.data.body, None, "a field set to None is removed");
    assert_eq!(reread.meta.version, 2);
    assert!(reread.meta.updated_at >= reread.meta.created_at);
    let raw = env
        .raw_item(created.urn.as_str(), created.urn.as_str())
        .await
        .unwrap();
    assert!(!raw.contains_key("body"), "REMOVE of the absent field");
    // The meta prints exactly as the table holds it: the contract's 24 characters.
    for (shown, name) in [
        (reread.meta.created_at.to_string(), "_createdAt"),
        (reread.meta.updated_at.to_string(), "_updatedAt"),
    ] {
        assert_eq!(raw[name].as_s().ok(), Some(&shown), "{name}");
        assert_eq!(shown.len(), 24, "{shown}");
    }

    let (deleted, counts) = env.counter.measure(store.delete(&reread)).await;
    deleted.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "delete = 1 request: {counts:?}"
    );
    assert!(matches!(
        store.get(&created.urn).await,
        Err(Error::NotFound { .. })
    ));
    assert!(env.scan_all().await.is_empty(), "nothing left behind");
}

#[tokio::test]
async fn create_twice_is_already_exists() {
    let env = TestEnv::new().await;
    let urn = Urn::<Note>::new();
    env.store
        .create_with_urn(urn.clone(), note("a"))
        .await
        .unwrap();
    let err = env
        .store
        .create_with_urn(urn.clone(), note("b"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists { urn: ref u } if u == urn.as_str()),
        "{err}"
    );
    assert_eq!(env.store.get(&urn).await.unwrap().data.title, "a");
}

#[tokio::test]
async fn stale_update_is_conflict_with_current_version() {
    let env = TestEnv::new().await;
    let a = env.store.create(note("x")).await.unwrap();
    let mut first = a.clone();
    first.data.stars = 1;
    env.store.update(&first).await.unwrap();
    let mut stale = a.clone();
    stale.data.stars = 2;
    let err = env.store.update(&stale).await.unwrap_err();
    match err {
        Error::Conflict {
            expected, current, ..
        } => {
            assert_eq!(expected, 1);
            assert_eq!(current, Some(2));
        }
        e => panic!("expected Conflict, got {e}"),
    }
    // A version-checked delete of the stale copy is refused too.
    assert!(matches!(
        env.store.delete(&stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(env.store.get(&a.urn).await.unwrap().data.stars, 1);
}

#[tokio::test]
async fn update_of_missing_resource_is_not_found() {
    let env = TestEnv::new().await;
    let a = env.store.create(note("x")).await.unwrap();
    env.store.delete(&a).await.unwrap();
    assert!(matches!(
        env.store.update(&a).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn raw_items_follow_the_schema() {
    let env = TestEnv::new().await;
    let a = env.store.create(note("raw")).await.unwrap();
    let item = env.raw_item(a.urn.as_str(), a.urn.as_str()).await.unwrap();
    assert_eq!(s(&item, "PK"), a.urn.as_str());
    assert_eq!(s(&item, "SK"), a.urn.as_str());
    assert_eq!(s(&item, "_type"), "Resource");
    assert_eq!(s(&item, "_resourceType"), "Test.Note");
    assert_eq!(item["_schemaVersion"].as_n().unwrap(), "1");
    assert_eq!(item["_version"].as_n().unwrap(), "1");
    assert!(
        is_iso_millis(s(&item, "_createdAt")),
        "{}",
        s(&item, "_createdAt")
    );
    assert!(is_iso_millis(s(&item, "_updatedAt")));
    // A root's listing entry (section 5.1, contract 4).
    let shard = ddbrel_runtime::schema::keys::root_shard(a.urn.as_str());
    assert_eq!(
        s(&item, "GSI1PK"),
        format!("roots#urn:pp:Test.Note::{shard}")
    );
    assert_eq!(s(&item, "GSI1SK"), a.urn.as_str());
    for absent in ["_accountUrn", "_parentUrn", "_ancestors", "_deleting"] {
        assert!(
            !item.contains_key(absent),
            "{absent} must be absent on a root resource"
        );
    }
    assert_eq!(s(&item, "title"), "raw");
    assert_eq!(item["stars"].as_n().unwrap(), "3");
}

#[tokio::test]
async fn items_that_do_not_decode_are_errors_naming_the_key() {
    use aws_sdk_dynamodb::types::AttributeValue as AV;
    let env = TestEnv::new().await;
    let a = env.store.create(note("x")).await.unwrap();
    let key = a.urn.as_str();
    let put = |attr: &'static str, v: Option<AV>| {
        let env = &env;
        async move {
            let mut item = env.raw_item(key, key).await.unwrap();
            match v {
                Some(v) => item.insert(attr.to_string(), v),
                None => item.remove(attr),
            };
            env.put_raw(item).await;
        }
    };
    // Wrong type of an entity field.
    put("stars", Some(AV::S("many".into()))).await;
    match env.store.get(&a.urn).await {
        Err(Error::InvalidItem { key: k, reason }) => {
            assert_eq!(k, key);
            assert!(reason.contains("Test.Note"), "{reason}");
            assert!(
                reason.contains("at field `stars`"),
                "names the field: {reason}"
            );
        }
        other => panic!("expected InvalidItem, got {other:?}"),
    }
    put("stars", Some(AV::N("3".into()))).await;
    // Missing reserved attribute.
    put("_version", None).await;
    match env.store.get(&a.urn).await {
        Err(Error::InvalidItem { reason, .. }) => assert!(reason.contains("_version"), "{reason}"),
        other => panic!("expected InvalidItem, got {other:?}"),
    }
    put("_version", Some(AV::N("1".into()))).await;
    // Newer schema version than the code.
    put("_schemaVersion", Some(AV::N("7".into()))).await;
    match env.store.get(&a.urn).await {
        Err(Error::SchemaTooNew {
            found, supported, ..
        }) => assert_eq!((found, supported), (7, 1)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    // Bad timestamp.
    put("_schemaVersion", Some(AV::N("1".into()))).await;
    put("_createdAt", Some(AV::S("yesterday".into()))).await;
    match env.store.get(&a.urn).await {
        Err(Error::InvalidItem { reason, .. }) => {
            assert!(reason.contains("_createdAt"), "{reason}")
        }
        other => panic!("expected InvalidItem, got {other:?}"),
    }
}

#[tokio::test]
async fn oversized_items_and_keys_are_refused_before_sending() {
    let env = TestEnv::new().await;
    let big = Note {
        title: "x".repeat(401 * 1024),
        body: None,
        stars: 0,
    };
    let (res, counts) = env.counter.measure(env.store.create(big)).await;
    assert!(matches!(res, Err(Error::ItemTooLarge { .. })), "{res:?}");
    assert!(counts.is_empty(), "nothing sent: {counts:?}");

    let long = Handle {
        handle: "h".repeat(1100),
    };
    let (res, counts) = env.counter.measure(env.store.create(long)).await;
    assert!(matches!(res, Err(Error::KeyTooLong { .. })), "{res:?}");
    assert!(counts.is_empty(), "nothing sent: {counts:?}");
}

#[tokio::test]
async fn concurrent_updates_lose_nothing() {
    let env = TestEnv::new().await;
    ddbrel_tests::concurrency::updates_lose_nothing(&env, 24, 8).await;
}

/// Defect 4 of the write protocol: a writer from the same read, in the same millisecond, was
/// taken for our own landed write (version and `_updatedAt` matched), so both callers got `Ok`
/// and one update was lost. The update is held at the connector; another writer's update with
/// the very timestamp the held request carries lands first; then the held one goes on.
#[tokio::test]
async fn an_update_in_the_same_millisecond_is_not_taken_for_ours() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let env = TestEnv::new().await;
    let a = env.store.create(note("same-ms")).await.unwrap();
    let mut held = env.gate.hold("UpdateItem", 1, None);
    let store = env.store.clone();
    let mut ours = a.clone();
    ours.data.stars = 7;
    let task = tokio::spawn(async move { store.update(&ours).await });

    let body: serde_json::Value = serde_json::from_str(&held.arrived().await).unwrap();
    let millisecond = body["ExpressionAttributeValues"][":u"]["S"]
        .as_str()
        .expect("the update carries its _updatedAt")
        .to_string();
    // The other writer: same read (version 1), same millisecond, its own change.
    env.raw
        .update_item()
        .table_name(env.store.table())
        .key("PK", AttributeValue::S(a.urn.to_string()))
        .key("SK", AttributeValue::S(a.urn.to_string()))
        .update_expression("SET #v = :two, #u = :u, stars = :s")
        .condition_expression("#v = :one")
        .expression_attribute_names("#v", "_version")
        .expression_attribute_names("#u", "_updatedAt")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":two", AttributeValue::N("2".into()))
        .expression_attribute_values(":u", AttributeValue::S(millisecond))
        .expression_attribute_values(":s", AttributeValue::N("99".into()))
        .send()
        .await
        .unwrap();
    held.release();

    match task.await.unwrap() {
        Err(Error::Conflict {
            expected: 1,
            current: Some(2),
            ..
        }) => {}
        other => panic!(
            "the other writer's update was taken for ours: {other:?}; item {:?}",
            env.raw_item(a.urn.as_str(), a.urn.as_str()).await
        ),
    }
    let now = env.store.get(&a.urn).await.unwrap();
    assert_eq!((now.meta.version, now.data.stars), (2, 99));
}

/// The same for a create with a chosen URN: another creator of the same URN, with the same
/// fields and the same `_createdAt`, is not taken for our own landed PutItem.
#[tokio::test]
async fn an_identical_create_by_another_writer_is_not_taken_for_ours() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let env = TestEnv::new().await;
    let urn = Urn::<Note>::new();
    let mut held = env.gate.hold("PutItem", 1, None);
    let store = env.store.clone();
    let mine = urn.clone();
    let task = tokio::spawn(async move { store.create_with_urn(mine, note("twin")).await });

    let body: serde_json::Value = serde_json::from_str(&held.arrived().await).unwrap();
    // The other creator writes the very item, with a token of its own (or none, as older
    // code wrote).
    let mut item = body["Item"].as_object().unwrap().clone();
    item.remove("_writeToken");
    // A Note's item holds only strings and numbers.
    let item: Item = item
        .into_iter()
        .map(|(k, v)| {
            let value = match (v["S"].as_str(), v["N"].as_str()) {
                (Some(text), _) => AttributeValue::S(text.to_string()),
                (None, Some(number)) => AttributeValue::N(number.to_string()),
                _ => panic!("unexpected attribute {k}: {v}"),
            };
            (k, value)
        })
        .collect();
    env.put_raw(item).await;
    held.release();

    match task.await.unwrap() {
        Err(Error::AlreadyExists { .. }) => {}
        other => panic!("the other creator's item was taken for ours: {other:?}"),
    }
}

#[tokio::test]
async fn create_table_is_idempotent_and_checks_the_definition() {
    let env = TestEnv::new().await;
    env.store.create_table().await.unwrap();
    let d = env.store.describe_table().await.unwrap();
    assert_eq!(d.status, "ACTIVE");
    assert!(d.indexes.contains(&"InvertedIndex".to_string()));
    assert!(d.indexes.contains(&"ResourcesByAccountIndex".to_string()));

    // A table of the same name with another definition is a clear error.
    use aws_sdk_dynamodb::types::*;
    let other = format!("{}-other", env.store.table());
    env.raw
        .create_table()
        .table_name(&other)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let wrong = ddbrel_runtime::Store::new(env.raw.clone(), other);
    let err = wrong.create_table().await.unwrap_err();
    assert!(matches!(err, Error::TableMismatch { .. }), "{err}");

    let missing = ddbrel_runtime::Store::new(env.raw.clone(), "no-such-table");
    assert!(matches!(
        missing.get(&Urn::<Note>::new()).await,
        Err(Error::TableNotFound { .. })
    ));
    // The test table was created with the defaults: protected, so DeleteTable is refused
    // with a typed error and nothing is deleted, until protection is turned off.
    let refused = env.store.delete_table().await;
    assert!(
        matches!(&refused, Err(Error::DeletionProtected { table }) if table == env.store.table()),
        "{refused:?}"
    );
    env.store.describe_table().await.unwrap();
    env.store.set_deletion_protection(false).await.unwrap();
    env.store.delete_table().await.unwrap();
    assert!(matches!(
        env.store.describe_table().await,
        Err(Error::TableNotFound { .. })
    ));
}

#[tokio::test]
async fn a_new_table_is_protected_and_recoverable_unless_opted_out() {
    use ddbrel_runtime::{Recovery, TableOptions};
    let env = TestEnv::new().await;
    // The embedded engine has no continuous-backups API: said, not an error (DynamoDB has
    // it on, since TestEnv created the table with the defaults).
    let setup = env
        .store
        .create_table_with(TableOptions::default())
        .await
        .unwrap();
    assert!(!setup.created, "TestEnv created it already");
    assert!(setup.deletion_protection);
    assert_ne!(setup.recovery, Recovery::Disabled);

    let bare = ddbrel_runtime::Store::new(
        env.store.client().clone(),
        format!("{}-bare", env.store.table()),
    );
    let setup = bare
        .create_table_with(TableOptions {
            deletion_protection: false,
            point_in_time_recovery: false,
        })
        .await
        .unwrap();
    assert_eq!(
        (setup.created, setup.deletion_protection, setup.recovery),
        (true, false, Recovery::Disabled)
    );
    bare.delete_table().await.unwrap();
}

#[tokio::test]
async fn recovery_too_soon_after_create_is_asked_again() {
    use ddbrel_runtime::{Recovery, TableOptions};
    use ddbrel_tests::faults::Fault;
    let env = TestEnv::new().await;
    // The store of the test env carries the fault injector: a new table on the same client.
    let store = ddbrel_runtime::Store::new(
        env.store.client().clone(),
        format!("{}-pitr", env.store.table()),
    );
    env.faults
        .inject("UpdateContinuousBackups", 1, 2, Fault::BackupsUnavailable);
    env.counter.reset();
    let setup = store
        .create_table_with(TableOptions::default())
        .await
        .unwrap();
    assert_eq!(env.faults.injected(), 2);
    // Two refusals, then the engine's own answer (it has no continuous backups).
    assert_eq!(env.counter.get("UpdateContinuousBackups"), 3);
    assert!(setup.created);
    assert_ne!(setup.recovery, Recovery::Disabled);
}

#[test]
fn cloudformation_resource_matches_the_definition() {
    let cf = ddbrel_runtime::schema::cloudformation("MyTable");
    assert_eq!(cf["Type"], "AWS::DynamoDB::Table");
    let p = &cf["Properties"];
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["KeySchema"][0]["AttributeName"], "PK");
    let gsis = p["GlobalSecondaryIndexes"].as_array().unwrap();
    assert_eq!(gsis[0]["IndexName"], "InvertedIndex");
    assert_eq!(gsis[1]["IndexName"], "ResourcesByAccountIndex");
    assert_eq!(gsis[1]["KeySchema"][0]["AttributeName"], "_accountUrn");
    assert_eq!(gsis[1]["KeySchema"][1]["AttributeName"], "SK");
}

/// A counted store counts exactly its own requests, without the caller touching the SDK.
#[tokio::test]
async fn a_counted_store_counts_its_requests() {
    let env = TestEnv::new().await;
    let counter = ddbrel_runtime::RequestCounter::new();
    let counted = env.store.counted(&counter);
    let acct = counted
        .create(entities::Account {
            name: "c".into(),
            slug: "counted".into(),
            plan: entities::Plan::Free,
        })
        .await
        .unwrap();
    assert_eq!(counter.total(), 1, "{:?}", counter.snapshot());
    env.store.get(&acct.urn).await.unwrap();
    assert_eq!(counter.total(), 1, "the original store is not counted");
    counted.get(&acct.urn).await.unwrap();
    assert_eq!(counter.get("GetItem"), 1);
}
