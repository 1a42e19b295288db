//! Typed change events (`ddbrel_runtime::stream`) of what ddbrel did not write or cannot
//! read: foreign items (not errors, every attribute type read back and round-tripped as
//! JSON), malformed ddbrel records (typed errors naming key and attribute), and JSON that is
//! not a Streams record, and a marker written over by another writer. Records come from the
//! embedded engine's stream as in `stream.rs`.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::stream::{self, Change, MarkerChangeKind, StreamEvent, StreamRecord};
use ddbrel_runtime::{Error, Item};
use ddbrel_tests::TestEnv;
use ddbrel_tests::stream::{Stream, acme, ann};
use entities::{Account, Team};
use serde_json::json;

/// An item of every attribute type, as another application might keep in the table.
fn foreign_item(record_type: Option<&str>) -> Item {
    let s = |v: &str| AttributeValue::S(v.into());
    let mut item = Item::from([
        ("PK".into(), s("import#1")),
        ("SK".into(), s("batch")),
        ("text".into(), s("héllo")),
        ("count".into(), AttributeValue::N("42.5".into())),
        (
            "blob".into(),
            AttributeValue::B(Blob::new(vec![0u8, 255, 7])),
        ),
        ("flag".into(), AttributeValue::Bool(true)),
        ("nothing".into(), AttributeValue::Null(true)),
        ("names".into(), AttributeValue::Ss(vec!["a".into()])),
        ("numbers".into(), AttributeValue::Ns(vec!["7".into()])),
        (
            "blobs".into(),
            AttributeValue::Bs(vec![Blob::new(vec![1u8, 2])]),
        ),
        (
            "list".into(),
            AttributeValue::L(vec![s("x"), AttributeValue::N("1".into())]),
        ),
        (
            "map".into(),
            AttributeValue::M(Item::from([("inner".into(), AttributeValue::Bool(false))])),
        ),
    ]);
    if let Some(t) = record_type {
        item.insert("_type".into(), s(t));
    }
    item
}

#[tokio::test]
async fn foreign_items_are_changes_not_errors_and_every_type_round_trips_as_json() {
    let env = TestEnv::new().await;
    let mut stream = Stream::open(&env).await;
    env.put_raw(foreign_item(None)).await;
    let records = stream.records().await;
    let [record] = &records[..] else {
        panic!("{records:#?}")
    };
    assert_eq!(record.event, StreamEvent::Insert);
    assert_eq!(
        record.new_image.as_ref(),
        Some(&foreign_item(None)),
        "every type read back"
    );
    let change = stream::decode(record).unwrap();
    let Change::Foreign(f) = &change else {
        panic!("{change:?}")
    };
    assert_eq!(
        (f.event, f.record_type.as_deref()),
        (StreamEvent::Insert, None)
    );
    assert_eq!(f.keys["PK"].as_s().unwrap(), "import#1");
    match change.known() {
        Err(Error::InvalidItem { key, reason }) => {
            assert_eq!(key, "import#1 / batch");
            assert!(reason.contains("_type"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // The same key overwritten with a `_type` of a newer contract: still foreign.
    env.put_raw(foreign_item(Some("Invoice"))).await;
    let changes = stream.changes().await;
    let [Change::Foreign(f)] = &changes[..] else {
        panic!("{changes:#?}")
    };
    assert_eq!(
        (f.event, f.record_type.as_deref()),
        (StreamEvent::Modify, Some("Invoice"))
    );
}

/// Writes `item` over its key with the plain SDK and decodes the stream record it makes.
async fn decode_written(
    env: &TestEnv,
    stream: &mut Stream,
    item: Item,
) -> ddbrel_runtime::Result<Change> {
    env.put_raw(item).await;
    let records = stream.records().await;
    let [record] = &records[..] else {
        panic!("{records:#?}")
    };
    stream::decode(record)
}

#[tokio::test]
async fn a_malformed_ddbrel_record_is_a_typed_error_naming_key_and_attribute() {
    let env = TestEnv::new().await;
    let account = env.store.create(acme()).await.unwrap();
    let team = env
        .store
        .create_child(&account, Team { name: "Ops".into() })
        .await
        .unwrap();
    let user = env.store.create_child(&account, ann()).await.unwrap();
    env.store.add_member(&team, &user).await.unwrap();
    let mut stream = Stream::open(&env).await;
    let urn = account.urn.as_str();

    let mut item = env.raw_item(urn, urn).await.unwrap();
    item.remove("_version");
    match decode_written(&env, &mut stream, item).await {
        Err(Error::InvalidItem { key, reason }) => {
            assert_eq!(key, urn);
            assert!(reason.contains("_version"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let member_sk = format!("member#{}", user.urn);
    let mut item = env.raw_item(team.urn.as_str(), &member_sk).await.unwrap();
    item.insert(
        "_conveysAuthorization".into(),
        AttributeValue::S("yes".into()),
    );
    match decode_written(&env, &mut stream, item).await {
        Err(Error::InvalidItem { key, reason }) => {
            assert_eq!(key, format!("{} / {member_sk}", team.urn));
            assert!(reason.contains("_conveysAuthorization"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A relationship record of a newer layout (§12).
    let child_sk = format!("child#{}", user.urn);
    let mut edge = env.raw_item(urn, &child_sk).await.unwrap();
    edge.insert("_schemaVersion".into(), AttributeValue::N("2".into()));
    match decode_written(&env, &mut stream, edge).await {
        Err(Error::SchemaTooNew {
            found: 2,
            supported: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }

    let key = "unique#System.Account#slug#global#acme";
    let mut marker = env.raw_item(key, key).await.unwrap();
    marker.insert(
        "_constraint".into(),
        AttributeValue::S("System.Account.name".into()),
    );
    match decode_written(&env, &mut stream, marker).await {
        Err(Error::InvalidItem { key: k, reason }) => {
            assert_eq!(k, key);
            assert!(reason.contains("_constraint"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_record_that_is_not_a_streams_record_is_a_typed_error() {
    let bad_value = json!({
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": { "PK": { "S": "k" }, "SK": { "S": "k" } },
            "NewImage": { "PK": { "S": "k" }, "SK": { "S": "k" }, "size": { "Q": "1" } }
        }
    });
    match StreamRecord::from_json(&bad_value) {
        Err(Error::InvalidStreamRecord { record, reason }) => {
            assert_eq!(record, "k");
            assert!(
                reason.contains("dynamodb.NewImage") && reason.contains("size"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let bad_event =
        json!({ "eventName": "UPSERT", "dynamodb": { "Keys": { "PK": { "S": "k" } } } });
    assert!(matches!(
        StreamRecord::from_json(&bad_event),
        Err(Error::InvalidStreamRecord { reason, .. }) if reason.contains("UPSERT")
    ));

    // A MODIFY from a stream that does not carry old images cannot be classified.
    let mut image = foreign_item(None);
    image.insert("_type".into(), AttributeValue::S("Resource".into()));
    let mut record = StreamRecord::from_images(Some(image.clone()), Some(image)).unwrap();
    record.old_image = None;
    match stream::decode(&record) {
        Err(Error::InvalidStreamRecord { record, reason }) => {
            assert_eq!(record, "import#1 / batch");
            assert!(reason.contains("NEW_AND_OLD_IMAGES"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_marker_written_over_by_another_writer_is_moved() {
    let env = TestEnv::new().await;
    let account = env.store.create(acme()).await.unwrap();
    let other = env
        .store
        .create(Account {
            slug: "other".into(),
            ..acme()
        })
        .await
        .unwrap();
    let mut stream = Stream::open(&env).await;
    // As `ddbrel check --repair` hands a marker to the resource that lists it.
    let key = "unique#System.Account#slug#global#acme";
    let mut marker = env.raw_item(key, key).await.unwrap();
    marker.insert("_ownerUrn".into(), AttributeValue::S(other.urn.to_string()));
    let change = decode_written(&env, &mut stream, marker).await.unwrap();
    let Change::Marker(m) = change else {
        panic!("{change:?}")
    };
    assert_eq!(
        m.kind,
        MarkerChangeKind::Moved {
            previous_owner: account.urn.as_any().clone()
        }
    );
    assert_eq!(&m.owner, other.urn.as_any());
    assert_eq!(m.parts(), ["acme"]);
}
