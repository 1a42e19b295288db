//! Checks after every step.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::{
    AnyUrn, Entity, Error, Item, Order, PageRequest, ResourceMeta, Store, Stored,
};
use ddbrel_tests::TestEnv;
use ddbrel_tests::records::constraint_name;
use entities::{Job, JobCollection, Label, Team, User};

use crate::engine::Handle;
use crate::state::Model;
use crate::values::{Data, Kind};

pub(crate) fn s_attr<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s,
        other => panic!("{name} is not a string: {other:?} in {item:?}"),
    }
}

pub(crate) fn decode(kind: Kind, item: Item) -> (Data, ResourceMeta) {
    fn one<E: Entity>(item: Item, wrap: fn(E) -> Data) -> (Data, ResourceMeta) {
        let s = Stored::<E>::from_item(item).expect("a resource of the model decodes");
        (wrap(s.data), s.meta)
    }
    match kind {
        Kind::Account => one(item, Data::Account),
        Kind::User => one(item, Data::User),
        Kind::JobCollection => one(item, Data::JobCollection),
        Kind::Job => one(item, Data::Job),
        Kind::Team => one(item, Data::Team),
        Kind::Label => one(item, Data::Label),
    }
}

/// The table holds exactly the model's records.
pub(crate) async fn check_table(env: &TestEnv, model: &Model, ctx: &str) {
    let mut table = read_table(env, ctx).await;
    check_records(&table, model, ctx);
    for i in (0..model.res.len()).filter(|&i| model.res[i].alive) {
        let item = table.resources.remove(&model.res[i].urn).expect("present");
        check_resource(model, i, item, ctx);
    }
}

/// The table's records, by type, in the form the model keeps them.
struct Table {
    /// Resource items by URN.
    resources: BTreeMap<String, Item>,
    /// (parent, child).
    parent_child: BTreeSet<(String, String)>,
    /// (collection, member) -> conveys authorization.
    memberships: BTreeMap<(String, String), bool>,
    /// Marker key -> (owner, constraint).
    markers: BTreeMap<String, (String, String)>,
}

async fn read_table(env: &TestEnv, ctx: &str) -> Table {
    let mut resources: BTreeMap<String, Item> = BTreeMap::new();
    let mut parent_child: BTreeSet<(String, String)> = BTreeSet::new();
    let mut memberships: BTreeMap<(String, String), bool> = BTreeMap::new();
    let mut markers: BTreeMap<String, (String, String)> = BTreeMap::new();
    for item in env.scan_all().await {
        match s_attr(&item, "_type") {
            "Resource" => {
                resources.insert(s_attr(&item, "PK").to_string(), item);
            }
            "ParentChildRelationship" => {
                parent_child.insert((
                    s_attr(&item, "_parentUrn").to_string(),
                    s_attr(&item, "_childUrn").to_string(),
                ));
            }
            "CollectionMembershipRelationship" => {
                let conveys = matches!(
                    item.get("_conveysAuthorization"),
                    Some(AttributeValue::Bool(true))
                );
                memberships.insert(
                    (
                        s_attr(&item, "_collectionUrn").to_string(),
                        s_attr(&item, "_memberUrn").to_string(),
                    ),
                    conveys,
                );
            }
            "UniqueKeyValue" => {
                markers.insert(
                    s_attr(&item, "PK").to_string(),
                    (
                        s_attr(&item, "_ownerUrn").to_string(),
                        s_attr(&item, "_constraint").to_string(),
                    ),
                );
            }
            other => panic!("{ctx}: unknown _type {other}"),
        }
    }
    Table {
        resources,
        parent_child,
        memberships,
        markers,
    }
}

/// The table's records are exactly the model's, each kind compared as a whole.
fn check_records(table: &Table, model: &Model, ctx: &str) {
    let Table {
        resources,
        parent_child,
        memberships,
        markers,
    } = table;
    let live: Vec<usize> = (0..model.res.len())
        .filter(|&i| model.res[i].alive)
        .collect();
    let urn = |i: usize| model.res[i].urn.clone();

    let expected: BTreeSet<String> = live.iter().map(|&i| urn(i)).collect();
    let found: BTreeSet<String> = resources.keys().cloned().collect();
    assert_eq!(found, expected, "{ctx}: the table's resources");

    let expected: BTreeSet<(String, String)> = live
        .iter()
        .filter_map(|&i| model.res[i].parent.map(|p| (urn(p), urn(i))))
        .collect();
    assert_eq!(
        *parent_child, expected,
        "{ctx}: the ParentChildRelationship records"
    );

    let expected: BTreeMap<(String, String), bool> = model
        .members
        .iter()
        .map(|(&(c, m), &v)| ((urn(c), urn(m)), v))
        .collect();
    assert_eq!(
        *memberships, expected,
        "{ctx}: the CollectionMembershipRelationship records"
    );

    let expected: BTreeMap<String, (String, String)> = live
        .iter()
        .filter_map(|&i| {
            let r = &model.res[i];
            let (constraint, _) = r.kind.unique()?;
            Some((
                model.marker_of(i)?,
                (urn(i), constraint_name(r.kind.resource_type(), constraint)),
            ))
        })
        .collect();
    assert_eq!(*markers, expected, "{ctx}: the uniqueness markers");
}

/// Live resource `i`'s item holds the model's data and bookkeeping.
fn check_resource(model: &Model, i: usize, item: Item, ctx: &str) {
    let urn = |i: usize| model.res[i].urn.clone();
    let r = &model.res[i];
    let (data, meta) = decode(r.kind, item);
    let ctx = format!("{ctx}: resource {i} ({:?} {})", r.kind, r.urn);
    assert_eq!(data, r.data, "{ctx}: data");
    assert_eq!(meta.version, r.version, "{ctx}: _version");
    let anc = model.ancestors(i);
    assert_eq!(
        meta.parent,
        r.parent.map(|p| urn_of(&urn(p))),
        "{ctx}: _parentUrn"
    );
    assert_eq!(
        meta.ancestors,
        anc.iter().map(|&a| urn_of(&urn(a))).collect::<Vec<_>>(),
        "{ctx}: _ancestors"
    );
    assert_eq!(
        meta.account,
        anc.first().map(|&a| urn_of(&urn(a))),
        "{ctx}: _accountUrn"
    );
    let member_of: Vec<AnyUrn> = sorted(
        model
            .members
            .keys()
            .filter(|(_, m)| *m == i)
            .map(|&(c, _)| urn_of(&urn(c))),
    );
    assert_eq!(meta.member_of, member_of, "{ctx}: _memberOf");
    let conveying: Vec<AnyUrn> = sorted(
        model
            .members
            .iter()
            .filter(|((_, m), v)| *m == i && **v)
            .map(|(&(c, _), _)| urn_of(&urn(c))),
    );
    assert_eq!(
        meta.conveying_collections, conveying,
        "{ctx}: _conveyingCollections"
    );
    assert_eq!(
        meta.unique_keys,
        model.marker_of(i).into_iter().collect::<Vec<_>>(),
        "{ctx}: _uniqueKeys"
    );
    let children = (0..model.res.len())
        .filter(|&c| model.res[c].alive && model.res[c].parent == Some(i))
        .count() as u64;
    assert_eq!(meta.child_count, children, "{ctx}: _childCount");
    let members = model.members.keys().filter(|(c, _)| *c == i).count() as u64;
    assert_eq!(meta.member_count, members, "{ctx}: _memberCount");
    assert_eq!(meta.deleting, None, "{ctx}: _deleting");
}

pub(crate) fn urn_of(s: &str) -> AnyUrn {
    AnyUrn::parse(s).expect("a URN")
}

pub(crate) fn sorted(it: impl Iterator<Item = AnyUrn>) -> Vec<AnyUrn> {
    let mut v: Vec<AnyUrn> = it.collect();
    v.sort();
    v
}

/// `children`, `members` and `authorization_scope` of resources `ids` answer as the model
/// does.
pub(crate) async fn check_queries(
    store: &Store,
    handles: &[Handle],
    model: &Model,
    ids: &[usize],
    step: usize,
    ctx: &str,
) {
    for &i in ids {
        let r = &model.res[i];
        let ctx = format!(
            "{ctx}: resource {i} ({:?} {}, alive {})",
            r.kind, r.urn, r.alive
        );
        check_listings(store, handles, model, i, step, &ctx).await;
        check_scope(store, handles, model, i, &ctx).await;
    }
}

/// `children` (of an Account or a JobCollection) and `members` (of a Label or a Team) of
/// resource `i` answer as the model does.
async fn check_listings(
    store: &Store,
    handles: &[Handle],
    model: &Model,
    i: usize,
    step: usize,
    ctx: &str,
) {
    let expect_children = |kind: Kind| -> Vec<String> {
        let mut v: Vec<String> = model
            .children(i, kind)
            .into_iter()
            .map(|c| model.res[c].urn.clone())
            .collect();
        v.sort();
        v
    };
    fn strings<T: ToString>(p: ddbrel_runtime::Page<T>) -> Vec<String> {
        assert_eq!(p.cursor, None, "one page holds everything");
        p.items.iter().map(ToString::to_string).collect()
    }
    match &handles[i] {
        Handle::Account(a) => {
            // Every child, then those of one type (a different one each step).
            let got = strings(
                store
                    .children_any(a.urn.as_any(), None, Order::OldestFirst, PageRequest::all())
                    .await
                    .unwrap(),
            );
            let mut expected: Vec<String> =
                [Kind::JobCollection, Kind::User, Kind::Team, Kind::Label]
                    .into_iter()
                    .flat_map(expect_children)
                    .collect();
            expected.sort();
            assert_eq!(got, expected, "{ctx}: children_any");
            let all = PageRequest::all();
            let (kind, got) = match step % 4 {
                0 => (
                    Kind::JobCollection,
                    strings(store.children::<JobCollection>(&a.urn, all).await.unwrap()),
                ),
                1 => (
                    Kind::User,
                    strings(store.children::<User>(&a.urn, all).await.unwrap()),
                ),
                2 => (
                    Kind::Team,
                    strings(store.children::<Team>(&a.urn, all).await.unwrap()),
                ),
                _ => (
                    Kind::Label,
                    strings(store.children::<Label>(&a.urn, all).await.unwrap()),
                ),
            };
            assert_eq!(got, expect_children(kind), "{ctx}: children of {kind:?}");
        }
        Handle::JobCollection(c) => {
            let got = strings(
                store
                    .children::<Job>(&c.urn, PageRequest::all())
                    .await
                    .unwrap(),
            );
            assert_eq!(got, expect_children(Kind::Job), "{ctx}: children");
        }
        h @ (Handle::Label(_) | Handle::Team(_)) => {
            let page = store
                .members_any(h.urn(), PageRequest::all())
                .await
                .unwrap();
            assert_eq!(page.cursor, None);
            let got: Vec<(String, String, bool)> = page
                .items
                .iter()
                .map(|m| {
                    (
                        m.collection.to_string(),
                        m.member.to_string(),
                        m.conveys_authorization,
                    )
                })
                .collect();
            let mut expected: Vec<(String, String, bool)> = model
                .members
                .iter()
                .filter(|((c, _), _)| *c == i)
                .map(|(&(c, m), &v)| (model.res[c].urn.clone(), model.res[m].urn.clone(), v))
                .collect();
            expected.sort();
            assert_eq!(got, expected, "{ctx}: members");
        }
        Handle::User(_) | Handle::Job(_) => {}
    }
}

/// `authorization_scope` of resource `i` answers as the model does (`NotFound` once deleted).
async fn check_scope(store: &Store, handles: &[Handle], model: &Model, i: usize, ctx: &str) {
    let r = &model.res[i];
    let scope = store.authorization_scope(handles[i].urn()).await;
    if !r.alive {
        assert!(
            matches!(&scope, Err(Error::NotFound { urn }) if *urn == r.urn),
            "{ctx}: authorization_scope of a deleted resource: {scope:?}"
        );
        return;
    }
    let scope: Vec<String> = scope
        .unwrap_or_else(|e| panic!("{ctx}: authorization_scope: {e}"))
        .iter()
        .map(ToString::to_string)
        .collect();
    let (prefix, set) = model.scope(i);
    assert_eq!(
        scope.iter().cloned().collect::<BTreeSet<_>>(),
        set,
        "{ctx}: authorization_scope"
    );
    assert_eq!(scope.len(), set.len(), "{ctx}: duplicates in {scope:?}");
    assert_eq!(
        scope[..prefix.len()],
        prefix[..],
        "{ctx}: the scope starts with the resource and its ancestors from the parent up"
    );
}
