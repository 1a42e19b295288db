//! Every entity type of `entities/` through the generated code on the engine, and the raw
//! items read back with the plain SDK checked against SCHEMA.md.

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::{Entity, Item, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample::{self, job};
use entities::{Account, Job, JobCollection, Label, Team, User};

fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn is_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    v.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && v.parse::<jiff::Timestamp>().is_ok()
}

/// Checks a Resource item of type `E` against SCHEMA.md section 5.1.
fn check_resource<E: Entity>(item: &Item, account: Option<&str>, parent: Option<&str>) {
    let urn = s(item, "PK").expect("PK");
    assert_eq!(s(item, "SK"), Some(urn), "PK = SK");
    assert_eq!(s(item, "_type"), Some("Resource"));
    assert_eq!(s(item, "_resourceType"), Some(E::RESOURCE_TYPE));
    assert_eq!(
        item.get("_schemaVersion")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some(E::SCHEMA_VERSION.to_string().as_str())
    );
    assert!(matches!(item.get("_version"), Some(AttributeValue::N(_))));
    for ts in ["_createdAt", "_updatedAt"] {
        assert!(is_timestamp(s(item, ts).unwrap_or("")), "{ts} of {urn}");
    }
    // Every create and update writes a token of its own (section 5.1).
    assert!(
        s(item, "_writeToken").is_some_and(|t| uuid::Uuid::parse_str(t).is_ok()),
        "_writeToken of {urn}"
    );
    // A root is listed in its type's shard of the InvertedIndex; a child is not in GSI1.
    match parent {
        None => {
            let shard = ddbrel_runtime::schema::keys::root_shard(urn);
            let want = format!("roots#urn:{}:{}::{shard}", E::DOMAIN, E::RESOURCE_TYPE);
            assert_eq!(s(item, "GSI1PK"), Some(want.as_str()), "listing of {urn}");
            assert_eq!(s(item, "GSI1SK"), Some(urn), "listing of {urn}");
        }
        Some(_) => assert!(
            !item.contains_key("GSI1PK") && !item.contains_key("GSI1SK"),
            "no GSI1 on {urn}"
        ),
    }
    assert_eq!(
        s(item, "_accountUrn"),
        account,
        "_accountUrn exactly for account-scoped types ({urn})"
    );
    assert_eq!(E::ACCOUNT_SCOPED, account.is_some());
    assert_eq!(s(item, "_parentUrn"), parent);
    match parent {
        Some(p) => {
            let Some(AttributeValue::L(anc)) = item.get("_ancestors") else {
                panic!("_ancestors of {urn}")
            };
            assert_eq!(
                anc.last().and_then(|v| v.as_s().ok()).map(String::as_str),
                Some(p)
            );
        }
        None => assert!(!item.contains_key("_ancestors")),
    }
    for (name, v) in item {
        if let AttributeValue::S(text) = v {
            assert!(!text.is_empty(), "{name} of {urn} is an empty string");
        }
        assert!(!matches!(v, AttributeValue::Null(_)) || !name.starts_with('_'));
    }
}

async fn raw(env: &TestEnv, urn: &str) -> Item {
    env.raw_item(urn, urn).await.expect("the item exists")
}

async fn crud<E>(
    env: &TestEnv,
    created: Stored<E>,
    account: Option<&str>,
    parent: Option<&str>,
    change: impl FnOnce(&mut E),
) where
    E: Entity + Clone + PartialEq + std::fmt::Debug,
{
    let store = &env.store;
    check_resource::<E>(&raw(env, created.urn.as_str()).await, account, parent);
    let mut got = store.get(&created.urn).await.unwrap();
    assert_eq!(got.data, created.data);
    change(&mut got.data);
    let updated = store.update(&got).await.unwrap();
    assert_eq!(updated.meta.version, 2);
    let item = raw(env, created.urn.as_str()).await;
    check_resource::<E>(&item, account, parent);
    assert_eq!(item["_version"].as_n().unwrap(), "2");
    assert_eq!(store.get(&created.urn).await.unwrap().data, got.data);
}

#[tokio::test]
async fn every_entity_type_round_trips_and_matches_the_schema() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let account = store.create(sample::account("crud")).await.unwrap();
    let a = account.urn.as_str().to_string();
    crud(&env, account.clone(), None, None, |x: &mut Account| {
        x.name = "Renamed".into()
    })
    .await;
    let account = store.get(&account.urn).await.unwrap();

    let user = store
        .create_child(
            &account,
            User {
                email: "Ann@X.io".into(),
                display_name: "Ann".into(),
            },
        )
        .await
        .unwrap();
    crud(&env, user.clone(), Some(&a), Some(&a), |x: &mut User| {
        x.display_name = "Annie".into()
    })
    .await;
    let col = store
        .create_child(
            &account,
            JobCollection {
                name: "nightly".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    crud(
        &env,
        col.clone(),
        Some(&a),
        Some(&a),
        |x: &mut JobCollection| x.description = Some("at night".into()),
    )
    .await;
    let col = store.get(&col.urn).await.unwrap();
    let j = store.create_child(&col, job("backup")).await.unwrap();
    crud(
        &env,
        j.clone(),
        Some(&a),
        Some(col.urn.as_str()),
        |x: &mut Job| x.status = entities::JobStatus::Paused,
    )
    .await;
    let team = store
        .create_child(&account, Team { name: "ops".into() })
        .await
        .unwrap();
    crud(&env, team.clone(), Some(&a), Some(&a), |x: &mut Team| {
        x.name = "sre".into()
    })
    .await;
    let label = store
        .create_child(
            &account,
            Label {
                name: "hot".into(),
                color: "red".into(),
            },
        )
        .await
        .unwrap();
    crud(&env, label.clone(), Some(&a), Some(&a), |x: &mut Label| {
        x.color = "blue".into()
    })
    .await;
    let team = store.get(&team.urn).await.unwrap();
    let label = store.get(&label.urn).await.unwrap();
    let user = store.get(&user.urn).await.unwrap();
    let j = store.get(&j.urn).await.unwrap();
    store.add_member(&team, &user).await.unwrap();
    store.add_member(&label, &j).await.unwrap();

    // Every record of the table, by type.
    let all = env.scan_all().await;
    for item in &all {
        let t = s(item, "_type").expect("_type on every record");
        assert!(matches!(
            item.get("_schemaVersion"),
            Some(AttributeValue::N(_))
        ));
        assert!(is_timestamp(s(item, "_createdAt").unwrap_or("")));
        match t {
            "Resource" => {}
            "ParentChildRelationship" => {
                let (p, c) = (
                    s(item, "_parentUrn").unwrap(),
                    s(item, "_childUrn").unwrap(),
                );
                assert_eq!(s(item, "PK"), Some(p));
                assert_eq!(s(item, "SK").unwrap(), format!("child#{c}"));
                assert_eq!(s(item, "GSI1PK"), Some(c));
                assert_eq!(s(item, "GSI1SK").unwrap(), format!("parent#{p}"));
                assert!(!item.contains_key("_accountUrn"));
            }
            "CollectionMembershipRelationship" => {
                let (c, m) = (
                    s(item, "_collectionUrn").unwrap(),
                    s(item, "_memberUrn").unwrap(),
                );
                assert_eq!(s(item, "PK"), Some(c));
                assert_eq!(s(item, "SK").unwrap(), format!("member#{m}"));
                assert_eq!(s(item, "GSI1PK"), Some(m));
                assert_eq!(s(item, "GSI1SK").unwrap(), format!("collection#{c}"));
                assert!(matches!(
                    item.get("_conveysAuthorization"),
                    Some(AttributeValue::Bool(_))
                ));
            }
            "UniqueKeyValue" => {
                let key = s(item, "PK").unwrap();
                assert_eq!(s(item, "SK"), Some(key));
                assert!(key.starts_with("unique#"));
                let owner = s(item, "_ownerUrn").unwrap();
                let constraint = s(item, "_constraint").unwrap();
                let rt = owner.split(':').nth(2).unwrap();
                assert!(constraint.starts_with(&format!("{rt}.")), "{constraint}");
                for absent in ["GSI1PK", "GSI1SK", "_accountUrn"] {
                    assert!(!item.contains_key(absent), "{absent} on marker {key}");
                }
            }
            other => panic!("unknown _type {other}"),
        }
    }
    // The account index holds exactly the account-scoped resources, read with the plain SDK.
    let out = env
        .raw
        .query()
        .table_name(env.store.table())
        .index_name("ResourcesByAccountIndex")
        .key_condition_expression("#a = :a")
        .expression_attribute_names("#a", "_accountUrn")
        .expression_attribute_values(":a", AttributeValue::S(a.clone()))
        .send()
        .await
        .unwrap();
    let mut in_index: Vec<String> = out
        .items
        .unwrap_or_default()
        .iter()
        .map(|i| s(i, "_resourceType").unwrap().to_string())
        .collect();
    in_index.sort();
    assert_eq!(
        in_index,
        vec![
            JobCollection::RESOURCE_TYPE,
            Job::RESOURCE_TYPE,
            Label::RESOURCE_TYPE,
            Team::RESOURCE_TYPE,
            User::RESOURCE_TYPE,
        ]
    );
    assert_ok(&env).await;

    // Delete each, leaves first.
    for urn in [
        j.urn.as_any(),
        user.urn.as_any(),
        label.urn.as_any(),
        team.urn.as_any(),
        col.urn.as_any(),
        account.urn.as_any(),
    ] {
        store.delete_urn(urn).await.unwrap();
        assert!(env.raw_item(urn.as_str(), urn.as_str()).await.is_none());
        assert_ok(&env).await;
    }
    assert!(env.scan_all().await.is_empty());
}
