//! Bounded decode fuzzing: what the table holds must never make a reader panic.
//!
//! Proptest generates arbitrary DynamoDB attribute maps (any attribute name, reserved ones
//! included; every kind of value, nested lists and maps, sets, huge and malformed numbers,
//! odd strings) and "almost valid" items (a valid Resource item of each entity type, built by
//! hand with `ddbrel_tests::records` as SCHEMA.md section 5.1 lays it out, with one attribute
//! removed, retyped or mutated). Every entity type's `Stored::<T>::from_item`, `codec::decode_meta` and the
//! integrity checker's pure `check_items` must not panic on any of them; a valid item decodes
//! to exactly what it was built from; every error is `InvalidItem` or `SchemaTooNew` naming the
//! item's key.
//!
//! `fuzz/` holds the cargo-fuzz versions of these (unbounded, on nightly).

use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::Timestamp;
use ddbrel_runtime::codec::{decode_meta, encode_fields};
use ddbrel_runtime::integrity::check_items;
use ddbrel_runtime::{AnyUrn, Entity, Error, Item, ResourceMeta, Stored, Urn};
use ddbrel_tests::records::{Resource, s};
use entities::{Account, Job, JobCollection, JobStatus, Label, Plan, Team, User};
use proptest::prelude::*;
use proptest::sample::Index;

const CASES: u32 = 256;

/// Every reserved attribute name of SCHEMA.md, and the entity types' field names.
const NAMES: &[&str] = &[
    "PK",
    "SK",
    "GSI1PK",
    "GSI1SK",
    "_type",
    "_schemaVersion",
    "_createdAt",
    "_updatedAt",
    "_resourceType",
    "_version",
    "_accountUrn",
    "_parentUrn",
    "_ancestors",
    "_uniqueKeys",
    "_memberOf",
    "_conveyingCollections",
    "_childCount",
    "_memberCount",
    "_deleting",
    "_childUrn",
    "_collectionUrn",
    "_memberUrn",
    "_conveysAuthorization",
    "_ownerUrn",
    "_constraint",
    "name",
    "slug",
    "plan",
    "email",
    "displayName",
    "description",
    "status",
    "schedule",
    "color",
];

/// The reserved attributes every Resource record must have, with a value of one kind.
const REQUIRED: &[&str] = &[
    "PK",
    "SK",
    "_type",
    "_schemaVersion",
    "_createdAt",
    "_updatedAt",
    "_resourceType",
    "_version",
];

// ---------------------------------------------------------------------------------------------
// Arbitrary values.

/// Strings that tend to break parsers: empty, control characters, replacement characters and
/// what mis-decoded bytes look like, combining marks, the largest scalar, separators.
fn odd_string() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        Just("\0".to_string()),
        Just("\u{FFFD}\u{FFFD}".to_string()),
        Just("\u{FEFF}urn:pp:System.Account::".to_string()),
        Just("Ã(\u{80}\u{C3}".to_string()),
        Just("\\xff\\xfe\\x00".to_string()),
        Just("e\u{301}\u{301}\u{301}".to_string()),
        Just("\u{10FFFF}\u{E000}\u{D7FF}".to_string()),
        Just("#%#%23%25".to_string()),
        Just("::".to_string()),
        Just("urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f ".to_string()),
        Just("2026-11-25T09:00:00.123Z".to_string()),
        Just("2026-02-30T25:61:61.999Z".to_string()),
        Just("9999-12-31T23:59:59.999Z".to_string()),
        Just("2026-11-25T09:00:00.12\u{e9}".to_string()),
        Just("x".repeat(5000)),
        any::<String>(),
        "[a-zA-Z0-9:.#_-]{0,40}",
    ]
    .boxed()
}

/// Number texts, well-formed or not.
fn number() -> BoxedStrategy<String> {
    prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("-1".to_string()),
        Just("-0".to_string()),
        Just("+1".to_string()),
        Just("1.5".to_string()),
        Just("1e3".to_string()),
        Just("1E-130".to_string()),
        Just("9.9999999999999999999999999999999999999E+125".to_string()),
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("4294967296".to_string()),
        Just("9".repeat(400)),
        Just("NaN".to_string()),
        Just("Infinity".to_string()),
        Just(String::new()),
        Just(" 1".to_string()),
        Just("0x10".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        odd_string(),
    ]
    .boxed()
}

/// A URN of a random (valid-looking) type, as text.
fn urn_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "System.Account",
            "System.Account.User",
            "System.Account.JobCollection",
            "System.Account.JobCollection.Job",
            "System.Account.Team",
            "System.Account.Label",
            "Other",
        ]),
        uuid7(),
    )
        .prop_map(|(t, id)| format!("urn:pp:{t}::{id}"))
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![3 => odd_string(), 1 => urn_text()].boxed()
}

fn leaf_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        4 => text().prop_map(AttributeValue::S),
        3 => number().prop_map(AttributeValue::N),
        1 => prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| AttributeValue::B(Blob::new(b))),
        1 => any::<bool>().prop_map(AttributeValue::Bool),
        1 => any::<bool>().prop_map(AttributeValue::Null),
        2 => prop::collection::vec(text(), 0..5).prop_map(AttributeValue::Ss),
        1 => prop::collection::vec(number(), 0..5).prop_map(AttributeValue::Ns),
        1 => prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 0..4)
            .prop_map(|v| AttributeValue::Bs(v.into_iter().map(Blob::new).collect())),
    ]
}

/// Any attribute value, lists and maps nested a few levels deep.
fn value() -> BoxedStrategy<AttributeValue> {
    leaf_value()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(AttributeValue::L),
                prop::collection::hash_map(name(), inner, 0..6).prop_map(AttributeValue::M),
            ]
        })
        .boxed()
}

fn name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => odd_string(),
        1 => "_[a-zA-Z]{0,12}",
    ]
    .boxed()
}

/// An arbitrary attribute map.
fn arbitrary_item() -> impl Strategy<Value = Item> {
    prop::collection::hash_map(name(), value(), 0..20)
}

/// An item shaped like a ddbrel record (a known `_type`, keys from a small pool of URNs so that
/// records refer to each other), with arbitrary values in the other attributes: it gets the
/// integrity checker past its first checks.
fn record_like_item(urns: Vec<String>) -> impl Strategy<Value = Item> {
    let pick = prop::sample::select(urns);
    (
        prop::sample::select(vec![
            "Resource",
            "ParentChildRelationship",
            "CollectionMembershipRelationship",
            "UniqueKeyValue",
            "Other",
        ]),
        pick.clone(),
        pick.clone(),
        prop::sample::select(vec!["", "child#", "member#", "parent#", "unique#"]),
        prop::collection::hash_map(
            prop::sample::select(NAMES).prop_map(str::to_string),
            prop_oneof![
                3 => pick.clone().prop_map(AttributeValue::S),
                1 => prop::collection::vec(pick.clone(), 0..4).prop_map(AttributeValue::Ss),
                1 => prop::collection::vec(pick.prop_map(AttributeValue::S), 0..4)
                    .prop_map(AttributeValue::L),
                2 => value(),
            ],
            0..14,
        ),
        odd_string(),
    )
        .prop_map(|(t, pk, other, prefix, mut item, tail)| {
            let sk = match prefix {
                "" => pk.clone(),
                "unique#" => format!("unique#System.Account#slug#global#{tail}"),
                p => format!("{p}{other}"),
            };
            let pk = if prefix == "unique#" { sk.clone() } else { pk };
            item.insert("_type".into(), AttributeValue::S(t.into()));
            item.insert("PK".into(), AttributeValue::S(pk));
            item.insert("SK".into(), AttributeValue::S(sk));
            item
        })
}

// ---------------------------------------------------------------------------------------------
// Valid Resource items, built by hand from SCHEMA.md section 5.1.

/// A version 7 UUID from generated parts (no clock, no randomness of its own).
fn uuid7() -> impl Strategy<Value = uuid::Uuid> {
    (0u64..(1 << 48), any::<[u8; 10]>())
        .prop_map(|(ms, rand)| uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid())
}

/// A millisecond timestamp of a four-digit year.
fn millis() -> impl Strategy<Value = i64> {
    0i64..253_402_300_800_000
}

fn ts_text(ms: i64) -> String {
    let dt = Timestamp::from_millisecond(ms)
        .expect("in range")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000_000
    )
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).expect("in range")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Data {
    Account(Account),
    User(User),
    JobCollection(JobCollection),
    Job(Job),
    Team(Team),
    Label(Label),
}

fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), odd_string()]
}

fn data() -> BoxedStrategy<Data> {
    prop_oneof![
        (
            field_text(),
            field_text(),
            prop::sample::select(vec![Plan::Free, Plan::Team, Plan::Enterprise])
        )
            .prop_map(|(name, slug, plan)| Data::Account(Account { name, slug, plan })),
        (field_text(), field_text()).prop_map(|(email, display_name)| Data::User(User {
            email,
            display_name
        })),
        (field_text(), prop::option::of(field_text())).prop_map(|(name, description)| {
            Data::JobCollection(JobCollection { name, description })
        }),
        (
            field_text(),
            prop::sample::select(vec![
                JobStatus::Active,
                JobStatus::Paused,
                JobStatus::Disabled
            ]),
            prop::option::of(field_text())
        )
            .prop_map(|(name, status, schedule)| Data::Job(Job {
                name,
                status,
                schedule
            })),
        field_text().prop_map(|name| Data::Team(Team { name })),
        (field_text(), field_text()).prop_map(|(name, color)| Data::Label(Label { name, color })),
    ]
    .boxed()
}

impl Data {
    fn resource_type(&self) -> &'static str {
        match self {
            Data::Account(_) => Account::RESOURCE_TYPE,
            Data::User(_) => User::RESOURCE_TYPE,
            Data::JobCollection(_) => JobCollection::RESOURCE_TYPE,
            Data::Job(_) => Job::RESOURCE_TYPE,
            Data::Team(_) => Team::RESOURCE_TYPE,
            Data::Label(_) => Label::RESOURCE_TYPE,
        }
    }
}

/// A valid Resource item, with the data and meta it must decode to.
#[derive(Debug, Clone)]
struct Valid {
    item: Item,
    urn: AnyUrn,
    data: Data,
    meta: ResourceMeta,
}

fn typed_urn<E: Entity>(id: uuid::Uuid) -> AnyUrn {
    Urn::<E>::from_id(id).expect("a v7 id").into_any()
}

/// A resource of `data`'s type: its URN, its ancestors (root first) and, for the types that
/// are members of a collection type, a URN of that type.
fn place(data: &Data, ids: &[uuid::Uuid]) -> (AnyUrn, Vec<AnyUrn>, Option<AnyUrn>) {
    match &data {
        Data::Account(_) => (typed_urn::<Account>(ids[0]), vec![], None),
        Data::User(_) => (
            typed_urn::<User>(ids[0]),
            vec![typed_urn::<Account>(ids[1])],
            Some(typed_urn::<Team>(ids[2])),
        ),
        Data::JobCollection(_) => (
            typed_urn::<JobCollection>(ids[0]),
            vec![typed_urn::<Account>(ids[1])],
            None,
        ),
        Data::Job(_) => (
            typed_urn::<Job>(ids[0]),
            vec![
                typed_urn::<Account>(ids[1]),
                typed_urn::<JobCollection>(ids[2]),
            ],
            Some(typed_urn::<Label>(ids[1])),
        ),
        Data::Team(_) => (
            typed_urn::<Team>(ids[0]),
            vec![typed_urn::<Account>(ids[1])],
            None,
        ),
        Data::Label(_) => (
            typed_urn::<Label>(ids[0]),
            vec![typed_urn::<Account>(ids[1])],
            None,
        ),
    }
}

fn valid() -> BoxedStrategy<Valid> {
    (
        data(),
        prop::collection::vec(uuid7(), 3),
        1u64..=u64::MAX,
        millis(),
        millis(),
        prop::collection::btree_set(odd_string(), 0..3),
        prop::collection::btree_set(uuid7(), 0..3),
        any::<Index>(),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(millis()),
    )
        .prop_map(
            |(
                data,
                ids,
                version,
                a,
                b,
                unique_keys,
                collections,
                conveying,
                child_count,
                member_count,
                deleting,
            )| {
                let (created, updated) = (a.min(b), a.max(b));
                let (urn, ancestors, collection) = place(&data, &ids);
                // Collections of the member's collection type (only members have any).
                let member_of: Vec<AnyUrn> = match &collection {
                    None => vec![],
                    Some(c) => {
                        let mut v: Vec<AnyUrn> = collections
                            .iter()
                            .map(|id| AnyUrn::new("pp", c.resource_type(), *id).expect("a v7 id"))
                            .collect();
                        v.sort();
                        v.dedup();
                        v
                    }
                };
                let conveying: Vec<AnyUrn> = if member_of.is_empty() {
                    vec![]
                } else {
                    let k = conveying.index(member_of.len() + 1);
                    member_of[..k].to_vec()
                };

                let fields = match &data {
                    Data::Account(d) => encode_fields(urn.as_str(), d),
                    Data::User(d) => encode_fields(urn.as_str(), d),
                    Data::JobCollection(d) => encode_fields(urn.as_str(), d),
                    Data::Job(d) => encode_fields(urn.as_str(), d),
                    Data::Team(d) => encode_fields(urn.as_str(), d),
                    Data::Label(d) => encode_fields(urn.as_str(), d),
                }
                .expect("entity fields encode");
                let mut record = Resource::new(urn.as_str())
                    .fields(fields)
                    .created(&ts_text(created))
                    .updated(&ts_text(updated), version)
                    .unique_keys(&unique_keys)
                    .member_of(&member_of)
                    .conveying(&conveying);
                if let (Some(root), Some(parent)) = (ancestors.first(), ancestors.last()) {
                    record = record
                        .account(root.as_str())
                        .parent(parent.as_str(), &ancestors);
                }
                if let Some(c) = child_count {
                    record = record.child_count(c);
                }
                if let Some(c) = member_count {
                    record = record.member_count(c);
                }
                if let Some(d) = deleting {
                    record = record.deleting(&ts_text(d));
                }
                let item = record.build();
                let meta = ResourceMeta {
                    version,
                    schema_version: 1,
                    created_at: ts(created),
                    updated_at: ts(updated),
                    account: ancestors.first().cloned(),
                    parent: ancestors.last().cloned(),
                    ancestors,
                    unique_keys: unique_keys.into_iter().collect(),
                    member_of,
                    conveying_collections: conveying,
                    child_count: child_count.unwrap_or(0),
                    member_count: member_count.unwrap_or(0),
                    deleting: deleting.map(ts),
                };
                Valid {
                    item,
                    urn,
                    data,
                    meta,
                }
            },
        )
        .boxed()
}

/// One change to one attribute of an item.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(Index),
    /// Replace the value with an arbitrary one (most often of another kind).
    Replace(Index, AttributeValue),
    /// Change the value a little, keeping its kind.
    Tweak(Index, u8, String),
    /// Add an attribute (or overwrite one) by name.
    Add(String, AttributeValue),
    /// Set `_schemaVersion`.
    SchemaVersion(String),
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Remove),
        2 => (any::<Index>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        3 => (any::<Index>(), any::<u8>(), text()).prop_map(|(i, k, t)| Mutation::Tweak(i, k, t)),
        1 => (name(), value()).prop_map(|(n, v)| Mutation::Add(n, v)),
        1 => prop_oneof![
            Just("0".to_string()),
            Just("2".to_string()),
            Just("4294967295".to_string()),
            Just("4294967296".to_string()),
            number(),
        ]
        .prop_map(Mutation::SchemaVersion),
    ]
    .boxed()
}

fn tweak(v: &AttributeValue, k: u8, t: &str) -> AttributeValue {
    match v {
        AttributeValue::S(s) => AttributeValue::S(match k % 6 {
            0 => String::new(),
            1 => format!("{s}{t}"),
            2 => {
                let mut end = s.len() / 2;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s[..end].to_string()
            }
            3 => s.to_uppercase(),
            4 => s.replacen(':', "", 1),
            _ => t.to_string(),
        }),
        AttributeValue::N(n) => AttributeValue::N(match k % 6 {
            0 => "-1".into(),
            1 => "0".into(),
            2 => format!("{n}.5"),
            3 => format!("{n}{n}{n}{n}{n}{n}"),
            4 => format!("-{n}"),
            _ => t.to_string(),
        }),
        AttributeValue::L(l) => AttributeValue::L(match k % 4 {
            0 => vec![],
            1 => l.iter().rev().cloned().collect(),
            2 => {
                let mut l = l.clone();
                l.push(AttributeValue::N("1".into()));
                l
            }
            _ => {
                let mut l = l.clone();
                l.push(AttributeValue::S(t.to_string()));
                l
            }
        }),
        AttributeValue::Ss(v) => AttributeValue::Ss(match k % 3 {
            0 => vec![],
            1 => {
                let mut v = v.clone();
                v.push(t.to_string());
                v
            }
            _ => v.iter().map(|s| s.to_uppercase()).collect(),
        }),
        AttributeValue::Bool(b) => AttributeValue::Bool(!b),
        other => AttributeValue::L(vec![other.clone()]),
    }
}

fn kind_of(v: &AttributeValue) -> std::mem::Discriminant<AttributeValue> {
    std::mem::discriminant(v)
}

/// Applies a mutation; returns the attribute it touched and whether that attribute is now
/// absent or of another kind than before.
fn apply(item: &mut Item, m: &Mutation) -> (String, bool) {
    let mut names: Vec<String> = item.keys().cloned().collect();
    names.sort();
    let at = |i: &Index| names[i.index(names.len())].clone();
    match m {
        Mutation::Remove(i) => {
            let n = at(i);
            item.remove(&n);
            (n, true)
        }
        Mutation::Replace(i, v) => {
            let n = at(i);
            let old = item.insert(n.clone(), v.clone()).expect("present");
            let retyped = kind_of(&old) != kind_of(v);
            (n, retyped)
        }
        Mutation::Tweak(i, k, t) => {
            let n = at(i);
            let old = item.get(&n).expect("present").clone();
            let new = tweak(&old, *k, t);
            let retyped = kind_of(&old) != kind_of(&new);
            item.insert(n.clone(), new);
            (n, retyped)
        }
        Mutation::Add(n, v) => {
            let retyped = item.get(n).is_none_or(|old| kind_of(old) != kind_of(v));
            item.insert(n.clone(), v.clone());
            (n.clone(), retyped)
        }
        Mutation::SchemaVersion(v) => {
            item.insert("_schemaVersion".into(), AttributeValue::N(v.clone()));
            ("_schemaVersion".into(), false)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// What an error's key must contain: the item's `PK` when it is a string.
fn key_pk(item: &Item) -> Option<&str> {
    match item.get("PK") {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

/// An error from decoding `item` is `InvalidItem` (or, when `too_new_ok`, `SchemaTooNew`)
/// naming the item's key; returns the reason.
fn check_error(item: &Item, e: &Error, too_new_ok: bool, what: &str) -> String {
    let key = match e {
        Error::InvalidItem { key, .. } => key,
        Error::SchemaTooNew { key, .. } if too_new_ok => key,
        other => panic!("{what}: expected InvalidItem or SchemaTooNew, got {other:?}"),
    };
    match key_pk(item) {
        Some(pk) => assert!(
            key.contains(pk),
            "{what}: the error's key {key:?} does not name the item's PK {pk:?}: {e}"
        ),
        None => assert!(!key.is_empty(), "{what}: an empty key in {e}"),
    }
    e.to_string()
}

/// Decodes `item` as `E`: never panics, errors are well-formed.
fn decode_as<E: Entity + Debug>(item: &Item, what: &str) -> Result<Stored<E>, String> {
    Stored::<E>::from_item(item.clone()).map_err(|e| check_error(item, &e, true, what))
}

/// Runs every decoder over `item`; returns each one's error text (`None` when it decoded).
fn decode_all(item: &Item) -> Vec<(&'static str, Option<String>)> {
    fn one<E: Entity + Debug>(item: &Item) -> (&'static str, Option<String>) {
        (
            E::RESOURCE_TYPE,
            decode_as::<E>(item, E::RESOURCE_TYPE).err(),
        )
    }
    let meta = match decode_meta(item) {
        Ok(_) => None,
        Err(e) => Some(check_error(item, &e, false, "decode_meta")),
    };
    vec![
        ("decode_meta", meta),
        one::<Account>(item),
        one::<User>(item),
        one::<JobCollection>(item),
        one::<Job>(item),
        one::<Team>(item),
        one::<Label>(item),
    ]
}

fn expect_round_trip<E: Entity + Debug + PartialEq>(
    v: &Valid,
    wrap: fn(E) -> Data,
) -> Result<(), TestCaseError> {
    let s = Stored::<E>::from_item(v.item.clone())
        .map_err(|e| TestCaseError::fail(format!("a valid item does not decode: {e}")))?;
    prop_assert_eq!(s.urn.as_any(), &v.urn);
    prop_assert_eq!(&wrap(s.data), &v.data);
    prop_assert_eq!(&s.meta, &v.meta);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A valid item of each type decodes to what it was built from, as its own type and
    /// through `decode_meta`; every other type refuses it with `InvalidItem`.
    #[test]
    fn valid_items_decode_to_what_was_encoded(v in valid()) {
        let (urn, rt, meta) = decode_meta(&v.item)
            .map_err(|e| TestCaseError::fail(format!("decode_meta: {e}")))?;
        prop_assert_eq!(&urn, &v.urn);
        prop_assert_eq!(rt.as_str(), v.data.resource_type());
        prop_assert_eq!(&meta, &v.meta);
        match &v.data {
            Data::Account(_) => expect_round_trip::<Account>(&v, Data::Account)?,
            Data::User(_) => expect_round_trip::<User>(&v, Data::User)?,
            Data::JobCollection(_) => expect_round_trip::<JobCollection>(&v, Data::JobCollection)?,
            Data::Job(_) => expect_round_trip::<Job>(&v, Data::Job)?,
            Data::Team(_) => expect_round_trip::<Team>(&v, Data::Team)?,
            Data::Label(_) => expect_round_trip::<Label>(&v, Data::Label)?,
        }
        for (decoder, err) in decode_all(&v.item) {
            let own = decoder == "decode_meta" || decoder == v.data.resource_type();
            prop_assert_eq!(err.is_none(), own, "{}: {:?}", decoder, err);
        }
        let _ = check_items(std::slice::from_ref(&v.item));
    }

    /// A valid item with one attribute removed, retyped or changed: nothing panics, errors
    /// are `InvalidItem`/`SchemaTooNew` naming the key, and a required reserved attribute that
    /// is missing or of the wrong kind is refused naming it.
    #[test]
    fn almost_valid_items_are_refused_cleanly(v in valid(), m in mutation()) {
        let mut item = v.item.clone();
        let (attr, retyped) = apply(&mut item, &m);
        let results = decode_all(&item);
        if retyped && REQUIRED.contains(&attr.as_str()) {
            for (decoder, err) in &results {
                let err = err.as_ref().ok_or_else(|| TestCaseError::fail(format!(
                    "{decoder} accepted an item whose {attr} is missing or retyped"
                )))?;
                prop_assert!(
                    err.contains(attr.as_str()),
                    "{} does not name {}: {}", decoder, attr, err
                );
            }
        }
        if let Mutation::SchemaVersion(sv) = &m
            && sv.parse::<u64>().is_ok_and(|n| n > 1 && n <= u64::from(u32::MAX))
        {
            let own = v.data.resource_type();
            for (decoder, err) in &results {
                if *decoder == own {
                    let err = err.as_ref().ok_or_else(|| TestCaseError::fail(format!(
                        "{decoder} decoded an item with _schemaVersion {sv}"
                    )))?;
                    prop_assert!(err.contains("newer"), "{}: {}", decoder, err);
                }
            }
        }
        // The checker sees the item alone, and next to the valid original.
        let _ = check_items(std::slice::from_ref(&item));
        let _ = check_items(&[v.item.clone(), item]);
    }

    /// Arbitrary attribute maps: nothing panics, errors are well-formed.
    #[test]
    fn arbitrary_items_are_refused_cleanly(item in arbitrary_item()) {
        let _ = decode_all(&item);
        let _ = check_items(std::slice::from_ref(&item));
    }

    /// The integrity checker over whole "tables" of record-like, arbitrary and almost valid
    /// items that refer to each other: it never panics.
    #[test]
    fn check_items_never_panics(
        items in prop::collection::vec(uuid7(), 1..5).prop_flat_map(|ids| {
            let urns: Vec<String> = ids.iter().enumerate().map(|(i, id)| {
                let t = ["System.Account", "System.Account.JobCollection",
                    "System.Account.JobCollection.Job", "System.Account.Label"][i % 4];
                format!("urn:pp:{t}::{id}")
            }).collect();
            prop::collection::vec(
                prop_oneof![
                    4 => record_like_item(urns),
                    1 => arbitrary_item(),
                    2 => (valid(), mutation()).prop_map(|(v, m)| {
                        let mut item = v.item;
                        apply(&mut item, &m);
                        item
                    }),
                    1 => valid().prop_map(|v| v.item),
                ],
                0..12,
            )
        })
    ) {
        let findings = check_items(&items);
        for f in &findings {
            prop_assert!(!f.key.is_empty(), "a finding without a key: {:?}", f);
        }
        for item in &items {
            let _ = decode_all(item);
        }
    }
}

/// Hand-picked items the strategies above might take long to reach.
#[test]
fn edge_items_are_refused_cleanly() {
    let urn = "urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
    let base = Resource::new(urn)
        .attr("name", s("Acme"))
        .attr("slug", s("acme"))
        .attr("plan", s("free"))
        .build();
    assert!(Stored::<Account>::from_item(base.clone()).is_ok());
    let cases: Vec<(&str, AttributeValue)> = vec![
        ("_version", AttributeValue::N("0".into())),
        ("_version", AttributeValue::N("18446744073709551616".into())),
        ("_schemaVersion", AttributeValue::N("0".into())),
        ("_schemaVersion", AttributeValue::N("4294967296".into())),
        ("_schemaVersion", AttributeValue::N("2".into())),
        ("_createdAt", s("2026-11-25T09:00:00.123+0")),
        ("_createdAt", s("2026-11-25T09:00:00.1\u{e9}Z")),
        ("_updatedAt", s("9999-99-99T99:99:99.999Z")),
        ("_deleting", AttributeValue::Null(true)),
        ("_deleting", s("")),
        ("_accountUrn", s("")),
        ("_parentUrn", s(urn)),
        ("_ancestors", AttributeValue::L(vec![s(urn)])),
        ("_memberOf", AttributeValue::Ss(vec![String::new()])),
        ("_memberOf", AttributeValue::Ns(vec!["1".into()])),
        (
            "_conveyingCollections",
            AttributeValue::Ss(vec![urn.to_uppercase()]),
        ),
        ("_childCount", AttributeValue::N("-1".into())),
        ("_memberCount", AttributeValue::N("1e2".into())),
        ("_uniqueKeys", AttributeValue::L(vec![])),
        ("_resourceType", s("System.Account.User")),
        ("_type", s("UniqueKeyValue")),
        ("PK", s(&format!("{urn} "))),
        ("SK", AttributeValue::Null(true)),
        ("plan", s("FREE")),
        ("plan", AttributeValue::M(HashMap::new())),
        ("name", AttributeValue::N("1".into())),
        ("slug", AttributeValue::Null(true)),
    ];
    for (name, value) in cases {
        let mut item = base.clone();
        item.insert(name.to_string(), value.clone());
        let results = decode_all(&item);
        let account = results
            .iter()
            .find(|(d, _)| *d == Account::RESOURCE_TYPE)
            .expect("decoded as Account");
        assert!(
            account.1.is_some(),
            "{name} = {value:?} was accepted: {results:?}"
        );
        let _ = check_items(&[item]);
    }
}
