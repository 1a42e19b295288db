//! Uniqueness constraints: markers written in the resource's transaction, on create, update
//! and delete, every scope, normalization, and each failure mode other libraries are known for.

use ddbrel_runtime::{Entity, Error, Stored};
use ddbrel_tests::TestEnv;
use ddbrel_tests::concurrency::{holder, markers};
use ddbrel_tests::invariants::assert_ok;
use ddbrel_tests::sample;
use entities::{Account, JobCollection, User};
use serde::{Deserialize, Serialize};

/// A test entity with a composite constraint and an optional unique field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Entity)]
#[urn(type = "Test.Badge")]
#[unique(fields(org, badge), name = "org_badge")]
struct Badge {
    org: String,
    badge: String,
    #[unique]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
}

fn badge(org: &str, b: &str, nick: Option<&str>) -> Badge {
    Badge {
        org: org.into(),
        badge: b.into(),
        nickname: nick.map(str::to_string),
    }
}

#[tokio::test]
async fn sixty_four_concurrent_creators_exactly_one_wins() {
    let env = TestEnv::new().await;
    ddbrel_tests::concurrency::one_creator_wins(&env, 20, 64).await;
}

#[tokio::test]
async fn create_with_k_constraints_update_of_one_and_lookup_count_requests() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let (b, counts) = env
        .counter
        .measure(store.create(badge("acme", "007", Some("bond"))))
        .await;
    let mut b = b.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "create with 2 constraints = 1: {counts:?}"
    );
    assert_eq!(markers(&env).await.len(), 2);

    b.data.nickname = Some("james".into());
    let (u, counts) = env.counter.measure(store.update(&b)).await;
    let b = u.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        1,
        "update changing one constraint = 1: {counts:?}"
    );

    let (found, counts) = env
        .counter
        .measure(Badge::find_by_nickname(store, "james"))
        .await;
    assert_eq!(found.unwrap().unwrap().urn, b.urn);
    assert_eq!(counts.values().sum::<u64>(), 2, "lookup = 2: {counts:?}");
    let (found, counts) = env
        .counter
        .measure(Badge::find_by_org_badge(store, "acme", "007"))
        .await;
    assert_eq!(found.unwrap().unwrap().urn, b.urn);
    assert_eq!(counts.values().sum::<u64>(), 2);
    assert!(
        Badge::find_by_nickname(store, "bond")
            .await
            .unwrap()
            .is_none()
    );
    assert_ok(&env).await;
}

#[tokio::test]
async fn marker_left_after_delete() {
    let env = TestEnv::new().await;
    let a = env.store.create(sample::account("gone")).await.unwrap();
    env.store.delete(&a).await.unwrap();
    assert!(markers(&env).await.is_empty());
    // The value is free again.
    let mut again = sample::account("x");
    again.slug = a.data.slug.clone();
    env.store.create(again).await.unwrap();
    assert_ok(&env).await;
}

#[tokio::test]
async fn marker_left_after_update_to_none() {
    let env = TestEnv::new().await;
    let mut b = env
        .store
        .create(badge("o", "1", Some("nick")))
        .await
        .unwrap();
    b.data.nickname = None;
    env.store.update(&b).await.unwrap();
    let m = markers(&env).await;
    assert_eq!(m.len(), 1, "only the composite marker remains");
    assert!(
        Badge::find_by_nickname(&env.store, "nick")
            .await
            .unwrap()
            .is_none()
    );
    // Someone else may now take it.
    env.store
        .create(badge("o", "2", Some("nick")))
        .await
        .unwrap();
    assert_ok(&env).await;
}

#[tokio::test]
async fn duplicate_allowed_on_update_within_a_scope() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let acct = store.create(sample::account("s")).await.unwrap();
    let other = store.create(sample::account("t")).await.unwrap();
    let u1 = store
        .create_child(
            &acct,
            User {
                email: "a@x.io".into(),
                display_name: "A".into(),
            },
        )
        .await
        .unwrap();
    let mut u2 = store
        .create_child(
            &acct,
            User {
                email: "b@x.io".into(),
                display_name: "B".into(),
            },
        )
        .await
        .unwrap();
    // Same email in another account is fine (scope = account).
    store
        .create_child(
            &other,
            User {
                email: "A@X.io".into(),
                display_name: "A2".into(),
            },
        )
        .await
        .unwrap();
    u2.data.email = "A@x.IO".into();
    let err = store.update(&u2).await.unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint, .. } if constraint == "email"),
        "{err}"
    );
    assert_eq!(holder(&err), Some(u1.urn.as_str()));
    assert_eq!(
        store.get(&u2.urn).await.unwrap().data.email,
        "b@x.io",
        "nothing applied"
    );

    // Scope = parent: collection names are unique per account.
    let c = JobCollection {
        name: "nightly".into(),
        description: None,
    };
    store.create_child(&acct, c.clone()).await.unwrap();
    store.create_child(&other, c.clone()).await.unwrap();
    let err = store.create_child(&acct, c).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    assert_ok(&env).await;
}

#[tokio::test]
async fn unchanged_value_is_not_rewritten() {
    let env = TestEnv::new().await;
    let mut b = env.store.create(badge("o", "1", Some("n"))).await.unwrap();
    let before = markers(&env).await;
    b.data.org = "o".into(); // same value
    let (res, counts) = env.counter.measure(env.store.update(&b)).await;
    res.unwrap();
    assert_eq!(
        counts.get("UpdateItem"),
        Some(&1),
        "a plain update: {counts:?}"
    );
    assert_eq!(
        counts.get("TransactWriteItems"),
        None,
        "no Put+Delete on one key"
    );
    let after = markers(&env).await;
    let created = |v: &Vec<ddbrel_runtime::Item>| {
        let mut c: Vec<String> = v
            .iter()
            .map(|i| i["_createdAt"].as_s().unwrap().clone())
            .collect();
        c.sort();
        c
    };
    assert_eq!(created(&before), created(&after), "markers untouched");
}

#[tokio::test]
async fn stale_read_racing_the_write() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let mut a = store.create(badge("o", "1", None)).await.unwrap();
    let b = store.create(badge("o", "2", None)).await.unwrap();
    // b takes the nickname after a was read.
    let mut b2 = b.clone();
    b2.data.nickname = Some("ace".into());
    store.update(&b2).await.unwrap();
    a.data.nickname = Some("ace".into());
    let err = store.update(&a).await.unwrap_err();
    assert_eq!(holder(&err), Some(b.urn.as_str()), "{err}");
    // A stale version with a new free value is a Conflict, not a violation.
    let mut stale = b.clone();
    stale.data.nickname = Some("free".into());
    let err = store.update(&stale).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_ok(&env).await;
}

#[tokio::test]
async fn the_violation_names_which_constraint_failed() {
    let env = TestEnv::new().await;
    let store = &env.store;
    store.create(badge("o", "1", Some("n1"))).await.unwrap();
    let err = store.create(badge("o", "2", Some("n1"))).await.unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint, value, .. } if constraint == "nickname" && value == "n1"),
        "{err}"
    );
    let err = store.create(badge("o", "1", Some("n2"))).await.unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint, .. } if constraint == "org_badge"),
        "{err}"
    );
    assert_eq!(markers(&env).await.len(), 2, "failed creates leave nothing");
}

#[tokio::test]
async fn separator_injection_and_composite_collisions() {
    let env = TestEnv::new().await;
    let store = &env.store;
    store.create(badge("a#b", "c", None)).await.unwrap();
    store.create(badge("a", "b#c", None)).await.unwrap();
    store.create(badge("a%23b", "c", None)).await.unwrap();
    store.create(badge("a", "b%23c", None)).await.unwrap();
    store.create(badge("a#b#c", "", None)).await.unwrap();
    let err = store.create(badge("a#b", "c", None)).await.unwrap_err();
    assert!(err.is_unique_violation());
    assert_eq!(markers(&env).await.len(), 5);
    assert_eq!(
        Badge::find_by_org_badge(store, "a", "b#c")
            .await
            .unwrap()
            .unwrap()
            .data
            .org,
        "a"
    );
}

#[tokio::test]
async fn case_and_unicode_normalization() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let mut a = sample::account("x");
    a.slug = "Caf\u{e9}".into(); // precomposed é
    store.create(a).await.unwrap();
    let mut b = sample::account("y");
    b.slug = "CAFE\u{301}".into(); // E + combining acute, upper case
    let err = store.create(b).await.unwrap_err();
    assert!(
        err.is_unique_violation(),
        "NFC + lowercase make them equal: {err}"
    );
    assert!(
        Account::find_by_slug(store, "caf\u{e9}")
            .await
            .unwrap()
            .is_some()
    );
    // Case-sensitive constraints (nickname) keep case apart but still normalize NFC.
    store.create(badge("o", "1", Some("Nick"))).await.unwrap();
    store.create(badge("o", "2", Some("nick"))).await.unwrap();
    let err = store
        .create(badge("o", "3", Some("Nick")))
        .await
        .unwrap_err();
    assert!(err.is_unique_violation());
}

#[tokio::test]
async fn over_long_values_are_refused_before_sending() {
    let env = TestEnv::new().await;
    let (res, counts) = env
        .counter
        .measure(env.store.create(badge("o", "1", Some(&"n".repeat(1100)))))
        .await;
    assert!(matches!(res, Err(Error::KeyTooLong { .. })), "{res:?}");
    assert!(counts.is_empty(), "nothing sent");
}

#[tokio::test]
async fn racing_updates_and_a_swap_never_hold_a_duplicate() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let a = store.create(badge("o", "a", Some("x"))).await.unwrap();
    let b = store.create(badge("o", "b", Some("y"))).await.unwrap();
    // Both race for "z" many times.
    for round in 0..10 {
        let target = format!("z{round}");
        let (s1, s2) = (store.clone(), store.clone());
        let (ua, ub) = (a.urn.clone(), b.urn.clone());
        let (t1, t2) = (target.clone(), target.clone());
        let r1 = tokio::spawn(async move {
            let mut cur = s1.get(&ua).await.unwrap();
            cur.data.nickname = Some(t1);
            s1.update(&cur).await
        });
        let r2 = tokio::spawn(async move {
            let mut cur = s2.get(&ub).await.unwrap();
            cur.data.nickname = Some(t2);
            s2.update(&cur).await
        });
        let (r1, r2) = (r1.await.unwrap(), r2.await.unwrap());
        assert!(r1.is_ok() != r2.is_ok(), "round {round}: exactly one wins");
        assert_ok(&env).await;
    }
    // Swap a's and b's nicknames through a free value.
    let mut a1: Stored<Badge> = store.get(&a.urn).await.unwrap();
    let mut b1: Stored<Badge> = store.get(&b.urn).await.unwrap();
    let (na, nb) = (a1.data.nickname.clone(), b1.data.nickname.clone());
    a1.data.nickname = Some("tmp".into());
    let a2 = store.update(&a1).await.unwrap();
    b1.data.nickname = na.clone();
    store.update(&b1).await.unwrap();
    let mut a3 = a2.clone();
    a3.data.nickname = nb.clone();
    store.update(&a3).await.unwrap();
    assert_eq!(store.get(&a.urn).await.unwrap().data.nickname, nb);
    assert_eq!(store.get(&b.urn).await.unwrap().data.nickname, na);
    assert_eq!(markers(&env).await.len(), 4);
    assert_ok(&env).await;
}

/// A hand-written type with more unique constraints than one transaction can hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wide {
    values: Vec<String>,
}

fn wide_descriptor() -> &'static ddbrel_runtime::EntityDescriptor {
    use ddbrel_runtime::{EntityDescriptor, OnDelete, UniqueConstraint, UniqueScope};
    static D: std::sync::OnceLock<EntityDescriptor> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let constraints: Vec<UniqueConstraint> = (0..120)
            .map(|i| UniqueConstraint {
                name: Box::leak(format!("c{i}").into_boxed_str()),
                fields: &["values"],
                scope: UniqueScope::Global,
                case_insensitive: false,
            })
            .collect();
        EntityDescriptor {
            type_name: "Wide",
            resource_type: "Test.Wide",
            domain: "pp",
            schema_version: 1,
            parent: None,
            parents: &[],
            on_delete: OnDelete::Cascade,
            account_scoped: false,
            unique: Box::leak(constraints.into_boxed_slice()),
            collection: None,
            fields: &["values"],
        }
    })
}

impl ddbrel_runtime::Entity for Wide {
    const RESOURCE_TYPE: &'static str = "Test.Wide";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = false;
    fn descriptor() -> &'static ddbrel_runtime::EntityDescriptor {
        wide_descriptor()
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        self.values.iter().map(|v| Some(vec![v.clone()])).collect()
    }
}
impl ddbrel_runtime::Root for Wide {}

#[tokio::test]
async fn transaction_limit_exceeded_by_markers_is_refused_before_sending() {
    let env = TestEnv::new().await;
    let w = Wide {
        values: (0..120).map(|i| format!("v{i}")).collect(),
    };
    let (res, counts) = env.counter.measure(env.store.create(w)).await;
    match res {
        Err(Error::TransactionTooLarge { actions, .. }) => assert_eq!(actions, 121),
        other => panic!("expected TransactionTooLarge, got {other:?}"),
    }
    assert!(counts.is_empty(), "nothing sent: {counts:?}");
    assert!(env.scan_all().await.is_empty());
}

/// A violation names the value as the caller wrote it (the composite's fields joined), not
/// its normalized, escaped key form, which stays available as `value`.
#[tokio::test]
async fn a_violation_shows_the_value_as_written() {
    let env = TestEnv::new().await;
    let mut a = sample::account("x");
    a.slug = "Acme#1".into();
    env.store.create(a.clone()).await.unwrap();
    a.slug = "ACME#1".into();
    let err = env.store.create(a).await.expect_err("case-insensitive");
    let Error::UniqueViolation { written, value, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(written, "ACME#1");
    assert_ne!(value, written, "the key form is normalized and escaped");
    assert!(err.to_string().contains("\"ACME#1\""), "{err}");

    env.store
        .create(badge("Org, Inc", "b/1", None))
        .await
        .unwrap();
    let err = env
        .store
        .create(badge("Org, Inc", "b/1", None))
        .await
        .expect_err("taken");
    assert!(
        err.to_string().contains("\"Org, Inc, b/1\""),
        "the composite's fields as written: {err}"
    );
}
