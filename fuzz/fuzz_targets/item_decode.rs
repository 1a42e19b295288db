//! Arbitrary attribute maps, and valid Resource items with arbitrary changes, through every
//! decoder: each entity type's `Stored::<T>::from_item`, `codec::decode_meta` and the
//! integrity checker's pure `check_items`. Nothing may panic, and every decoding error must be
//! `InvalidItem` or `SchemaTooNew` (SCHEMA.md section 4: nothing read from the table panics).

#![no_main]

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::codec::decode_meta;
use ddbrel_runtime::integrity::check_items;
use ddbrel_runtime::{Entity, Error, Item, Stored};
use entities::{Account, Job, JobCollection, Label, Team, User};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Reserved attribute names and the entity types' field names.
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

/// Texts that are close to what the table holds, for the fuzzer to start from.
const TEXTS: &[&str] = &[
    "",
    "Resource",
    "ParentChildRelationship",
    "CollectionMembershipRelationship",
    "UniqueKeyValue",
    "System.Account",
    "System.Account.JobCollection.Job",
    "urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "urn:pp:System.Account.JobCollection::01955552-7e10-7a41-9c02-3f5e6d7c8b9a",
    "urn:pp:System.Account.JobCollection.Job::01955556-3cd2-7df2-b839-693fa6fbd505",
    "urn:pp:System.Account.Label::01955558-0b7e-7f21-a4d3-0c9e8b7a6f51",
    "child#urn:pp:System.Account.JobCollection.Job::01955556-3cd2-7df2-b839-693fa6fbd505",
    "member#urn:pp:System.Account.JobCollection.Job::01955556-3cd2-7df2-b839-693fa6fbd505",
    "unique#System.Account#slug#global#acme",
    "2025-03-02T05:31:09.906Z",
    "free",
    "active",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "1.5",
    "1e3",
    "18446744073709551616",
    "4294967296",
    "NaN",
];

fn text(u: &mut Unstructured) -> Result<String> {
    Ok(if u.arbitrary()? {
        (*u.choose(TEXTS)?).to_string()
    } else {
        u.arbitrary()?
    })
}

fn number(u: &mut Unstructured) -> Result<String> {
    Ok(if u.arbitrary()? {
        (*u.choose(NUMBERS)?).to_string()
    } else {
        u.arbitrary()?
    })
}

fn name(u: &mut Unstructured) -> Result<String> {
    Ok(if u.ratio(3u8, 4u8)? {
        (*u.choose(NAMES)?).to_string()
    } else {
        u.arbitrary()?
    })
}

fn many<T>(
    u: &mut Unstructured,
    max: usize,
    mut f: impl FnMut(&mut Unstructured) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| f(u)).collect()
}

/// Any attribute value, nested at most `depth` levels.
fn value(u: &mut Unstructured, depth: u32) -> Result<AttributeValue> {
    let kinds = if depth == 0 { 8 } else { 10 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => AttributeValue::S(text(u)?),
        1 => AttributeValue::N(number(u)?),
        2 => AttributeValue::B(Blob::new(u.arbitrary::<Vec<u8>>()?)),
        3 => AttributeValue::Bool(u.arbitrary()?),
        4 => AttributeValue::Null(u.arbitrary()?),
        5 => AttributeValue::Ss(many(u, 6, text)?),
        6 => AttributeValue::Ns(many(u, 6, number)?),
        7 => AttributeValue::Bs(many(u, 4, |u| Ok(Blob::new(u.arbitrary::<Vec<u8>>()?)))?),
        8 => AttributeValue::L(many(u, 6, |u| value(u, depth - 1))?),
        _ => AttributeValue::M(
            many(u, 6, |u| Ok((name(u)?, value(u, depth - 1)?)))?
                .into_iter()
                .collect(),
        ),
    })
}

/// A valid Resource item of one of the entity types (SCHEMA.md section 5.1).
fn template(u: &mut Unstructured) -> Result<Item> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: &str| AttributeValue::N(v.to_string());
    let account = "urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
    let collection = "urn:pp:System.Account.JobCollection::01955552-7e10-7a41-9c02-3f5e6d7c8b9a";
    let (urn, rt, ancestors, fields): (&str, &str, Vec<&str>, Vec<(&str, AttributeValue)>) =
        match u.int_in_range(0..=5u8)? {
            0 => (
                account,
                "System.Account",
                vec![],
                vec![
                    ("name", s("Acme")),
                    ("slug", s("acme")),
                    ("plan", s("team")),
                ],
            ),
            1 => (
                "urn:pp:System.Account.User::0195555a-42c8-7b90-8d16-e2f3a4b5c6d7",
                "System.Account.User",
                vec![account],
                vec![("email", s("a@example.com")), ("displayName", s("A"))],
            ),
            2 => (
                collection,
                "System.Account.JobCollection",
                vec![account],
                vec![("name", s("nightly")), ("description", s("d"))],
            ),
            3 => (
                "urn:pp:System.Account.JobCollection.Job::01955556-3cd2-7df2-b839-693fa6fbd505",
                "System.Account.JobCollection.Job",
                vec![account, collection],
                vec![
                    ("name", s("export")),
                    ("status", s("active")),
                    ("schedule", s("0 9 * * *")),
                ],
            ),
            4 => (
                "urn:pp:System.Account.Team::01955558-0b7e-7f21-a4d3-0c9e8b7a6f52",
                "System.Account.Team",
                vec![account],
                vec![("name", s("admins"))],
            ),
            _ => (
                "urn:pp:System.Account.Label::01955558-0b7e-7f21-a4d3-0c9e8b7a6f51",
                "System.Account.Label",
                vec![account],
                vec![("name", s("red")), ("color", s("#ff0000"))],
            ),
        };
    let mut item: Item = HashMap::from([
        ("PK".to_string(), s(urn)),
        ("SK".to_string(), s(urn)),
        ("_type".to_string(), s("Resource")),
        ("_schemaVersion".to_string(), n("1")),
        ("_createdAt".to_string(), s("2025-03-02T05:31:09.906Z")),
        ("_updatedAt".to_string(), s("2025-03-02T07:12:44.018Z")),
        ("_resourceType".to_string(), s(rt)),
        ("_version".to_string(), n("3")),
    ]);
    if let Some(parent) = ancestors.last() {
        item.insert("_accountUrn".into(), s(account));
        item.insert("_parentUrn".into(), s(parent));
        item.insert(
            "_ancestors".into(),
            AttributeValue::L(ancestors.iter().map(|a| s(a)).collect()),
        );
    }
    for (k, v) in fields {
        item.insert(k.to_string(), v);
    }
    Ok(item)
}

/// An arbitrary attribute map, or a valid item with a few attributes removed, replaced or
/// added.
fn item(u: &mut Unstructured) -> Result<Item> {
    if u.arbitrary()? {
        return Ok(many(u, 24, |u| Ok((name(u)?, value(u, 4)?)))?
            .into_iter()
            .collect());
    }
    let mut item = template(u)?;
    for _ in 0..u.int_in_range(0..=4u8)? {
        let mut names: Vec<String> = item.keys().cloned().collect();
        names.sort();
        match u.int_in_range(0..=2u8)? {
            0 if !names.is_empty() => {
                item.remove(u.choose(&names)?);
            }
            1 if !names.is_empty() => {
                let k = u.choose(&names)?.clone();
                item.insert(k, value(u, 2)?);
            }
            _ => {
                item.insert(name(u)?, value(u, 2)?);
            }
        }
    }
    Ok(item)
}

fn decode_as<E: Entity>(item: &Item) {
    match Stored::<E>::from_item(item.clone()) {
        Ok(_) | Err(Error::InvalidItem { .. } | Error::SchemaTooNew { .. }) => {}
        Err(e) => panic!("{}: unexpected error {e:?}", E::RESOURCE_TYPE),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(item) = item(&mut u) else {
        return;
    };
    match decode_meta(&item) {
        Ok(_) | Err(Error::InvalidItem { .. }) => {}
        Err(e) => panic!("decode_meta: unexpected error {e:?}"),
    }
    decode_as::<Account>(&item);
    decode_as::<User>(&item);
    decode_as::<JobCollection>(&item);
    decode_as::<Job>(&item);
    decode_as::<Team>(&item);
    decode_as::<Label>(&item);
    let _ = check_items(std::slice::from_ref(&item));
});
