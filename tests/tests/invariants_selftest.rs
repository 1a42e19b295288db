//! The invariant checker checked: a table written by hand with the plain SDK, exactly as
//! SCHEMA.md lays records out, passes; each planted corruption is reported, naming the record
//! and the invariant; a cascade in progress (a fenced subtree) is tolerated only where the
//! contract allows it.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::entity::{EntityDescriptor, UniqueConstraint, UniqueScope};
use ddbrel_runtime::{AccountScoped, Child, ChildOf, Entity, Item, Root, Urn};
use ddbrel_tests::TestEnv;
use ddbrel_tests::invariants::{self, FindingKind, Violation};
use ddbrel_tests::records::{
    Resource, T1, child_sk, l, marker, member_sk, membership, n, parent_child, s, ss,
};
use serde::{Deserialize, Serialize};

const ACCOUNT: &str = "urn:pp:System.Account::01955550-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
const JOBS: &str = "urn:pp:System.Account.JobCollection::01955552-7e10-7a41-9c02-3f5e6d7c8b9a";
const JOB: &str = "urn:pp:System.Account.JobCollection.Job::01955556-3cd2-7df2-b839-693fa6fbd505";
const PROJECT: &str = "urn:pp:System.Account.Project::01955558-0b7e-7f21-a4d3-0c9e8b7a6f51";
const ARCHIVE: &str = "urn:pp:System.Account.Project::01955559-4c1d-7e00-9a55-0d1e2f3a4b5c";
const USER: &str = "urn:pp:System.Account.User::0195555a-42c8-7b90-8d16-e2f3a4b5c6d7";
/// A URN of no record in the table.
const GHOST: &str = "urn:pp:System.Account.JobCollection.Job::0195555f-0000-7000-8000-00000000dead";

const SLUG_KEY: &str = "unique#System.Account#slug#global#acme";

fn email_key() -> String {
    format!("unique#System.Account.User#email#{ACCOUNT}#alice@example.com")
}

/// A Resource record of the running example, changed once since its creation, with one entity
/// field.
fn resource(urn: &str) -> Resource {
    Resource::new(urn)
        .updated(T1, 2)
        .attr("name", s("some entity field"))
}

/// A resource whose parent is the account.
fn in_account(urn: &str) -> Resource {
    resource(urn).parent(ACCOUNT, [ACCOUNT]).account(ACCOUNT)
}

/// SCHEMA.md's running example: an Account with a unique slug; a JobCollection holding a Job;
/// two Projects holding the Job (one conveying authorization, one not); a User with an email
/// unique within the account.
fn well_formed() -> Vec<Item> {
    let account = resource(ACCOUNT)
        .unique_keys([SLUG_KEY])
        .child_count(4)
        .attr("slug", s("acme"))
        .build();
    let jobs = in_account(JOBS).child_count(1).build();
    let job = resource(JOB)
        .parent(JOBS, [ACCOUNT, JOBS])
        .account(ACCOUNT)
        .member_of([PROJECT, ARCHIVE])
        .conveying([PROJECT])
        .build();
    let project = in_account(PROJECT).member_count(1).build();
    let archive = in_account(ARCHIVE).member_count(1).build();
    let user = in_account(USER)
        .unique_keys([email_key()])
        .attr("email", s("Alice@Example.com"))
        .build();

    vec![
        account,
        jobs,
        job,
        project,
        archive,
        user,
        parent_child(ACCOUNT, JOBS),
        parent_child(ACCOUNT, PROJECT),
        parent_child(ACCOUNT, ARCHIVE),
        parent_child(ACCOUNT, USER),
        parent_child(JOBS, JOB),
        membership(PROJECT, JOB, true),
        membership(ARCHIVE, JOB, false),
        marker(SLUG_KEY, ACCOUNT, "System.Account.slug"),
        marker(&email_key(), USER, "System.Account.User.email"),
    ]
}

fn key_of(item: &Item) -> (String, String) {
    let get = |k: &str| item[k].as_s().unwrap().clone();
    (get("PK"), get("SK"))
}

/// The item with this `PK` and `SK`.
fn find<'a>(items: &'a mut [Item], pk: &str, sk: &str) -> &'a mut Item {
    items
        .iter_mut()
        .find(|i| key_of(i) == (pk.to_string(), sk.to_string()))
        .unwrap_or_else(|| panic!("no item {pk} / {sk}"))
}

fn res<'a>(items: &'a mut [Item], urn: &str) -> &'a mut Item {
    find(items, urn, urn)
}

fn remove(items: &mut Vec<Item>, pk: &str, sk: &str) {
    let before = items.len();
    items.retain(|i| key_of(i) != (pk.to_string(), sk.to_string()));
    assert_eq!(items.len(), before - 1, "no item {pk} / {sk}");
}

async fn load(items: Vec<Item>) -> TestEnv {
    let env = TestEnv::new().await;
    for item in items {
        env.put_raw(item).await;
    }
    env
}

async fn violations_of(items: Vec<Item>) -> Vec<Violation> {
    let count = items.len();
    let env = load(items).await;
    assert_eq!(env.scan_all().await.len(), count, "every item was written");
    invariants::check(&env).await
}

fn render(v: &[Violation]) -> String {
    v.iter().map(|v| format!("\n  {v}")).collect()
}

/// The findings other than the fence itself, after checking that the fence is reported on
/// exactly the resources in `fenced`, each repairable (finishing the cascade).
#[track_caller]
fn beside_the_fence(v: Vec<Violation>, fenced: &[&str]) -> Vec<Violation> {
    let (fences, rest): (Vec<Violation>, Vec<Violation>) = v
        .into_iter()
        .partition(|f| f.kind == FindingKind::UnfinishedCascade);
    let keys: Vec<&str> = fences.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, fenced, "unfinished cascades:{}", render(&fences));
    for f in &fences {
        assert_eq!(f.invariant, "fence", "{f}");
        assert!(f.repairable(), "{f}");
    }
    rest
}

/// Asserts that `check` reports the corruption: a violation of `invariant` on `key`, whose
/// message contains `needle`.
#[track_caller]
fn assert_reported(v: &[Violation], key: &str, invariant: &str, needle: &str) {
    assert!(
        v.iter()
            .any(|v| v.key == key && v.invariant == invariant && v.message.contains(needle)),
        "expected [{invariant}] {key}: …{needle}…, got:{}",
        render(v)
    );
}

#[tokio::test]
async fn an_empty_table_has_no_violations() {
    let env = TestEnv::new().await;
    assert!(invariants::check(&env).await.is_empty());
    invariants::assert_ok(&env).await;
}

#[tokio::test]
async fn a_well_formed_table_has_no_violations() {
    let env = load(well_formed()).await;
    let v = invariants::check(&env).await;
    assert!(v.is_empty(), "{}", render(&v));
    invariants::assert_ok(&env).await;
}

#[tokio::test]
#[should_panic(expected = "invariant violation(s)")]
async fn assert_ok_panics_listing_the_violations() {
    let mut items = well_formed();
    remove(&mut items, JOBS, &child_sk(JOB));
    let env = load(items).await;
    invariants::assert_ok(&env).await;
}

#[tokio::test]
async fn orphan_child_record() {
    let mut items = well_formed();
    items.push(parent_child(JOBS, GHOST));
    res(&mut items, JOBS).insert("_childCount".into(), n(2));
    let v = violations_of(items).await;
    let key = format!("{JOBS} / child#{GHOST}");
    assert_reported(&v, &key, "I1", "does not exist");
    assert_eq!(v.len(), 1, "{}", render(&v));
    assert!(
        v[0].to_string().contains(&key),
        "Display names the key: {}",
        v[0]
    );
    assert!(v[0].to_string().contains("[I1]"), "{}", v[0]);
}

#[tokio::test]
async fn child_record_whose_parent_is_missing() {
    let mut items = well_formed();
    items.push(parent_child(GHOST, JOB));
    let v = violations_of(items).await;
    let key = format!("{GHOST} / child#{JOB}");
    assert_reported(&v, &key, "I1", "its parent");
    assert_reported(&v, JOB, "I2", "names it as a child of");
}

#[tokio::test]
async fn marker_without_owner() {
    let mut items = well_formed();
    let key = "unique#System.Account#slug#global#gone";
    items.push(marker(
        key,
        "urn:pp:System.Account::0195555f-1111-7000-8000-000000000000",
        "System.Account.slug",
    ));
    let v = violations_of(items).await;
    assert_reported(&v, key, "I4", "does not exist");
    assert_eq!(v.len(), 1, "{}", render(&v));
}

#[tokio::test]
async fn marker_not_listed_by_its_owner() {
    let mut items = well_formed();
    res(&mut items, USER).remove("_uniqueKeys");
    let v = violations_of(items).await;
    assert_reported(&v, &email_key(), "I4", "does not list it");
}

#[tokio::test]
async fn unique_key_without_marker() {
    let mut items = well_formed();
    remove(&mut items, SLUG_KEY, SLUG_KEY);
    let v = violations_of(items).await;
    assert_reported(&v, ACCOUNT, "I4", "no such marker");
}

#[tokio::test]
async fn marker_scoped_to_another_account() {
    let mut items = well_formed();
    let key = format!("unique#System.Account.User#email#{JOBS}#bob@example.com");
    items.push(marker(&key, USER, "System.Account.User.email"));
    let mut keys = vec![email_key(), key.clone()];
    keys.sort();
    res(&mut items, USER).insert("_uniqueKeys".into(), AV::Ss(keys));
    let v = violations_of(items).await;
    assert_reported(&v, &key, "I4", "scope");
}

#[tokio::test]
async fn resource_missing_its_parent_record() {
    let mut items = well_formed();
    remove(&mut items, JOBS, &child_sk(JOB));
    res(&mut items, JOBS).insert("_childCount".into(), n(0));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I2", "no ParentChildRelationship record");
    assert_eq!(v.len(), 1, "{}", render(&v));
}

#[tokio::test]
async fn resource_whose_parent_is_missing() {
    let mut items = well_formed();
    let orphan = "urn:pp:System.Account.JobCollection.Job::0195555f-2222-7000-8000-000000000000";
    items.push(
        resource(orphan)
            .parent(GHOST, [ACCOUNT, GHOST])
            .account(ACCOUNT)
            .build(),
    );
    let v = violations_of(items).await;
    assert_reported(&v, orphan, "I2", "does not exist");
    assert_reported(&v, orphan, "I2", "no ParentChildRelationship record");
}

#[tokio::test]
async fn wrong_account_urn() {
    let mut items = well_formed();
    res(&mut items, JOB).insert("_accountUrn".into(), s(JOBS));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I5", &format!("expected {ACCOUNT}"));
}

#[tokio::test]
async fn account_urn_on_a_root_or_a_marker() {
    let mut items = well_formed();
    res(&mut items, ACCOUNT).insert("_accountUrn".into(), s(ACCOUNT));
    find(&mut items, SLUG_KEY, SLUG_KEY).insert("_accountUrn".into(), s(ACCOUNT));
    let v = violations_of(items).await;
    assert_reported(&v, ACCOUNT, "I5", "no parent");
    assert_reported(&v, SLUG_KEY, "I5", "_accountUrn");
}

#[tokio::test]
async fn wrong_ancestors() {
    let mut items = well_formed();
    res(&mut items, JOB).insert("_ancestors".into(), l([JOBS]));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I3", "the parent's _ancestors + parent");
}

#[tokio::test]
async fn member_of_mismatch() {
    // A collection listed without a membership record.
    let mut items = well_formed();
    remove(&mut items, ARCHIVE, &member_sk(JOB));
    res(&mut items, ARCHIVE).insert("_memberCount".into(), n(0));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I6", &format!("_memberOf lists [{ARCHIVE}]"));
    assert_eq!(v.len(), 1, "{}", render(&v));

    // A membership record the member does not list.
    let mut items = well_formed();
    res(&mut items, JOB).insert("_memberOf".into(), ss([PROJECT]));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I6", &format!("_memberOf lacks [{ARCHIVE}]"));
}

#[tokio::test]
async fn conveying_collections_mismatch() {
    let mut items = well_formed();
    find(&mut items, ARCHIVE, &member_sk(JOB))
        .insert("_conveysAuthorization".into(), AV::Bool(true));
    let v = violations_of(items).await;
    assert_reported(
        &v,
        JOB,
        "I6",
        &format!("_conveyingCollections lacks [{ARCHIVE}]"),
    );

    let mut items = well_formed();
    res(&mut items, JOB).insert("_conveyingCollections".into(), ss([PROJECT, JOBS]));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I6", "are not in _memberOf");
}

#[tokio::test]
async fn membership_with_a_missing_member() {
    let mut items = well_formed();
    items.push(membership(PROJECT, GHOST, true));
    res(&mut items, PROJECT).insert("_memberCount".into(), n(2));
    let v = violations_of(items).await;
    assert_reported(
        &v,
        &format!("{PROJECT} / member#{GHOST}"),
        "I1",
        "its member",
    );
    assert_eq!(v.len(), 1, "{}", render(&v));
}

#[tokio::test]
async fn counts_below_or_above_the_records() {
    let mut items = well_formed();
    res(&mut items, ACCOUNT).insert("_childCount".into(), n(3));
    res(&mut items, PROJECT).insert("_memberCount".into(), n(5));
    let v = violations_of(items).await;
    assert_reported(&v, ACCOUNT, "counts", "below the 4 child# records");
    assert_reported(&v, PROJECT, "counts", "_memberCount is 5, but there are 1");
    assert_eq!(v.len(), 2, "{}", render(&v));
}

#[tokio::test]
async fn index_keys_on_the_wrong_records() {
    let mut items = well_formed();
    res(&mut items, USER).insert("GSI1PK".into(), s(USER));
    find(&mut items, SLUG_KEY, SLUG_KEY).insert("GSI1SK".into(), s("x"));
    let v = violations_of(items).await;
    assert_reported(&v, USER, "I7", "carries GSI1PK");
    assert_reported(&v, SLUG_KEY, "I7", "carries GSI1SK");
}

#[tokio::test]
async fn common_attributes_and_formats() {
    let mut items = well_formed();
    res(&mut items, USER).insert("_createdAt".into(), s("2026-11-25T09:00:00Z"));
    res(&mut items, PROJECT).remove("_schemaVersion");
    res(&mut items, ARCHIVE).insert("_schemaVersion".into(), s("1"));
    find(&mut items, SLUG_KEY, SLUG_KEY).insert("_schemaVersion".into(), n(2));
    res(&mut items, JOBS).insert("_resourceType".into(), s("System.Account.Job"));
    find(&mut items, ACCOUNT, &child_sk(USER))
        .insert("GSI1SK".into(), s(&format!("parent#{JOBS}")));
    res(&mut items, JOB).insert("_bogus".into(), s("x"));
    res(&mut items, JOB).insert("_version".into(), n(0));
    res(&mut items, JOB).insert("_updatedAt".into(), s("2020-01-01T00:00:00.000Z"));
    let v = violations_of(items).await;
    assert_reported(&v, USER, "record", "YYYY-MM-DDTHH:MM:SS.mmmZ");
    assert_reported(&v, PROJECT, "record", "missing attribute _schemaVersion");
    assert_reported(&v, ARCHIVE, "record", "_schemaVersion is S, not N");
    assert_reported(
        &v,
        SLUG_KEY,
        "record",
        "_schemaVersion of a UniqueKeyValue is 1",
    );
    assert_reported(&v, JOBS, "I8", "_resourceType");
    assert_reported(&v, &format!("{ACCOUNT} / child#{USER}"), "record", "GSI1SK");
    assert_reported(&v, JOB, "record", "_bogus");
    assert_reported(&v, JOB, "I8", "_version is 0");
    assert_reported(&v, JOB, "I8", "after _updatedAt");
}

#[tokio::test]
async fn unknown_type_and_missing_type() {
    let mut items = well_formed();
    res(&mut items, USER).insert("_type".into(), s("Resorce"));
    res(&mut items, PROJECT).remove("_type");
    let v = violations_of(items).await;
    assert_reported(&v, USER, "record", "unknown _type");
    assert_reported(&v, PROJECT, "record", "missing attribute _type");
}

#[tokio::test]
async fn mixed_declarations_within_one_type() {
    let mut items = well_formed();
    // A second Project without _accountUrn.
    let p3 = "urn:pp:System.Account.Project::0195555f-3333-7000-8000-000000000000";
    items.push(resource(p3).parent(ACCOUNT, [ACCOUNT]).build());
    items.push(parent_child(ACCOUNT, p3));
    res(&mut items, ACCOUNT).insert("_childCount".into(), n(5));
    let v = violations_of(items).await;
    assert_reported(&v, "type System.Account.Project", "I5", "others none");
    assert_eq!(v.len(), 1, "{}", render(&v));
}

/// The kind of each finding, and whether `integrity::repair` has a safe fix for it, from the
/// pure checker (no engine).
#[test]
fn kinds_and_what_repair_would_do() {
    #[track_caller]
    fn expect(items: Vec<Item>, key: &str, kind: FindingKind, repairable: bool) {
        let v = invariants::check_items(&items);
        assert!(
            v.iter()
                .any(|f| f.key == key && f.kind == kind && f.repairable() == repairable),
            "expected {kind} on {key} (repairable: {repairable}), got:{}",
            render(&v)
        );
    }
    use FindingKind::*;

    assert!(invariants::check_items(&well_formed()).is_empty());

    let mut items = well_formed();
    items.push(parent_child(JOBS, GHOST));
    expect(
        items,
        &format!("{JOBS} / child#{GHOST}"),
        OrphanedRelationship,
        true,
    );

    let mut items = well_formed();
    items.push(membership(PROJECT, GHOST, true));
    expect(
        items,
        &format!("{PROJECT} / member#{GHOST}"),
        OrphanedRelationship,
        true,
    );

    // A child whose parent is gone is an orphan: not deleted automatically.
    let mut items = well_formed();
    remove(&mut items, JOBS, JOBS);
    expect(
        items.clone(),
        &format!("{JOBS} / child#{JOB}"),
        OrphanedRelationship,
        false,
    );
    expect(items, JOB, ParentRelationship, false);

    let mut items = well_formed();
    remove(&mut items, JOBS, &child_sk(JOB));
    expect(items, JOB, ParentRelationship, false);

    let mut items = well_formed();
    res(&mut items, USER).remove("_uniqueKeys");
    expect(items, &email_key(), DanglingMarker, true);

    let mut items = well_formed();
    remove(&mut items, SLUG_KEY, SLUG_KEY);
    expect(items, ACCOUNT, MissingMarker, true);

    // Two resources list one value: left for a person.
    let mut items = well_formed();
    res(&mut items, JOBS).insert("_uniqueKeys".into(), ss([email_key()]));
    expect(items, JOBS, ContestedMarker, false);

    let mut items = well_formed();
    res(&mut items, JOB).insert("_accountUrn".into(), s(JOBS));
    expect(items, JOB, AccountMismatch, false);

    let mut items = well_formed();
    res(&mut items, JOB).insert("_ancestors".into(), l([JOBS]));
    expect(items, JOB, Ancestors, false);

    let mut items = well_formed();
    res(&mut items, JOB).insert("_memberOf".into(), ss([PROJECT]));
    expect(items, JOB, MembershipMismatch, true);

    let mut items = well_formed();
    res(&mut items, ACCOUNT).insert("_childCount".into(), n(7));
    expect(items, ACCOUNT, CountMismatch, true);

    let mut items = well_formed();
    res(&mut items, USER).insert("_version".into(), n(0));
    expect(items, USER, Schema, false);

    // A fence: the cascade is finished by repair; counts at or above it are left alone.
    let mut items = mid_cascade();
    res(&mut items, ACCOUNT).insert("_childCount".into(), n(7));
    expect(items.clone(), JOBS, UnfinishedCascade, true);
    expect(items, ACCOUNT, CountMismatch, false);

    let names: std::collections::BTreeSet<&str> =
        FindingKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), FindingKind::ALL.len());
}

/// A cascade of `JOBS` under way: the fence is set, the memberships crossing the boundary are
/// gone together with their outside ends' counts, and the sweep is part-way.
fn mid_cascade() -> Vec<Item> {
    let mut items = well_formed();
    res(&mut items, JOBS).insert("_deleting".into(), s(T1));
    remove(&mut items, PROJECT, &member_sk(JOB));
    remove(&mut items, ARCHIVE, &member_sk(JOB));
    res(&mut items, PROJECT).insert("_memberCount".into(), n(0));
    res(&mut items, ARCHIVE).insert("_memberCount".into(), n(0));
    items
}

#[tokio::test]
async fn a_fenced_subtree_may_be_half_deleted() {
    // The job still lists collections whose records are gone (I6 inside the fence).
    let v = beside_the_fence(violations_of(mid_cascade()).await, &[JOBS]);
    assert!(v.is_empty(), "{}", render(&v));

    // The job is gone, its parent-child record is not yet (I1, and the count, inside).
    let mut items = mid_cascade();
    remove(&mut items, JOB, JOB);
    let v = beside_the_fence(violations_of(items).await, &[JOBS]);
    assert!(v.is_empty(), "{}", render(&v));

    // The job's record is gone too; the fenced root's count is stale.
    let mut items = mid_cascade();
    remove(&mut items, JOB, JOB);
    remove(&mut items, JOBS, &child_sk(JOB));
    let v = beside_the_fence(violations_of(items).await, &[JOBS]);
    assert!(v.is_empty(), "{}", render(&v));

    // A fenced descendant: its marker is gone before it (I4 inside).
    let mut items = well_formed();
    res(&mut items, ACCOUNT).insert("_deleting".into(), s(T1));
    remove(&mut items, &email_key(), &email_key());
    let v = beside_the_fence(violations_of(items).await, &[ACCOUNT]);
    assert!(v.is_empty(), "{}", render(&v));
}

#[tokio::test]
async fn assert_ok_tolerates_the_fence_itself() {
    let env = load(mid_cascade()).await;
    invariants::assert_ok(&env).await;
}

#[tokio::test]
async fn a_fence_excuses_nothing_outside_its_subtree_nor_any_layout_rule() {
    // Outside the subtree: the collection's count must have been decremented.
    let mut items = mid_cascade();
    res(&mut items, PROJECT).insert("_memberCount".into(), n(1));
    let v = beside_the_fence(violations_of(items).await, &[JOBS]);
    assert_reported(&v, PROJECT, "counts", "_memberCount is 1, but there are 0");
    assert_eq!(v.len(), 1, "{}", render(&v));

    // Inside the subtree: I3, I5 and record layouts still hold; a marker never outlives its
    // owner; a count is never below the records.
    let mut items = mid_cascade();
    res(&mut items, JOB).insert("_accountUrn".into(), s(JOBS));
    res(&mut items, JOB).insert("_ancestors".into(), l([JOBS]));
    res(&mut items, JOBS).insert("_childCount".into(), n(0));
    res(&mut items, JOBS).insert("_deleting".into(), s("yesterday"));
    items.push(marker(
        "unique#System.Account.JobCollection.Job#name#global#x",
        GHOST,
        "System.Account.JobCollection.Job.name",
    ));
    let v = violations_of(items).await;
    assert_reported(&v, JOB, "I5", "expected");
    assert_reported(&v, JOB, "I3", "_ancestors");
    assert_reported(&v, JOBS, "counts", "below");
    assert_reported(&v, JOBS, "record", "_deleting");
    assert_reported(
        &v,
        "unique#System.Account.JobCollection.Job#name#global#x",
        "I4",
        "does not exist",
    );
}

// ---------------------------------------------------------------------------------------------
// The checker agrees with the store: what the runtime writes passes.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Folder {
    name: String,
}
static FOLDER: EntityDescriptor = EntityDescriptor {
    type_name: "Folder",
    resource_type: "Test.Folder",
    domain: "pp",
    schema_version: 1,
    parent: None,
    parents: &[],
    on_delete: ddbrel_runtime::OnDelete::Cascade,
    account_scoped: false,
    unique: &[UniqueConstraint {
        name: "name",
        fields: &["name"],
        scope: UniqueScope::Global,
        case_insensitive: true,
    }],
    collection: None,
    fields: &["name"],
};
impl Entity for Folder {
    const RESOURCE_TYPE: &'static str = "Test.Folder";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = false;
    fn descriptor() -> &'static EntityDescriptor {
        &FOLDER
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        vec![Some(vec![self.name.clone()])]
    }
}
impl Root for Folder {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Doc {
    title: String,
}
static DOC: EntityDescriptor = EntityDescriptor {
    type_name: "Doc",
    resource_type: "Test.Folder.Doc",
    domain: "pp",
    schema_version: 1,
    parent: Some("Test.Folder"),
    parents: &["Test.Folder"],
    on_delete: ddbrel_runtime::OnDelete::Cascade,
    account_scoped: true,
    unique: &[UniqueConstraint {
        name: "title",
        fields: &["title"],
        scope: UniqueScope::Account,
        case_insensitive: false,
    }],
    collection: None,
    fields: &["title"],
};
impl Entity for Doc {
    const RESOURCE_TYPE: &'static str = "Test.Folder.Doc";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = true;
    fn descriptor() -> &'static EntityDescriptor {
        &DOC
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        vec![Some(vec![self.title.clone()])]
    }
}
impl Child for Doc {
    type Parent = Folder;
    type ParentUrn = Urn<Folder>;
}
impl ChildOf<Folder> for Doc {
    const PARENT: (&'static str, &'static str) = ddbrel_runtime::__private::type_of::<Folder>();
}
impl AccountScoped for Doc {
    type Account = Folder;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Page {
    number: u32,
}
static PAGE: EntityDescriptor = EntityDescriptor {
    type_name: "Page",
    resource_type: "Test.Folder.Doc.Page",
    domain: "pp",
    schema_version: 1,
    parent: Some("Test.Folder.Doc"),
    parents: &["Test.Folder.Doc"],
    on_delete: ddbrel_runtime::OnDelete::Cascade,
    account_scoped: true,
    unique: &[],
    collection: None,
    fields: &["number"],
};
impl Entity for Page {
    const RESOURCE_TYPE: &'static str = "Test.Folder.Doc.Page";
    const DOMAIN: &'static str = "pp";
    const SCHEMA_VERSION: u32 = 1;
    const ACCOUNT_SCOPED: bool = true;
    fn descriptor() -> &'static EntityDescriptor {
        &PAGE
    }
    fn unique_parts(&self) -> Vec<Option<Vec<String>>> {
        Vec::new()
    }
}
impl Child for Page {
    type Parent = Doc;
    type ParentUrn = Urn<Doc>;
}
impl ChildOf<Doc> for Page {
    const PARENT: (&'static str, &'static str) = ddbrel_runtime::__private::type_of::<Doc>();
}
impl AccountScoped for Page {
    type Account = Folder;
}

#[tokio::test]
async fn what_the_store_writes_passes() {
    let env = TestEnv::new().await;
    let store = &env.store;
    let folder = store
        .create(Folder {
            name: "Reports".into(),
        })
        .await
        .unwrap();
    let doc = store
        .create_child(&folder, Doc { title: "Q1".into() })
        .await
        .unwrap();
    let mut pages = Vec::new();
    for number in 1..=3 {
        pages.push(store.create_child(&doc, Page { number }).await.unwrap());
    }
    invariants::assert_ok(&env).await;

    // A unique value changes: the markers follow.
    let mut doc = store.get(&doc.urn).await.unwrap();
    doc.data.title = "Q2".into();
    let doc = store.update(&doc).await.unwrap();
    invariants::assert_ok(&env).await;

    // A leaf goes, then the whole tree.
    let page = store.get(&pages[0].urn).await.unwrap();
    store.delete(&page).await.unwrap();
    invariants::assert_ok(&env).await;
    let doc = store.get(&doc.urn).await.unwrap();
    assert_eq!(doc.meta.child_count, 2);
    let folder = store.get(&folder.urn).await.unwrap();
    store.delete(&folder).await.unwrap();
    invariants::assert_ok(&env).await;
    assert!(env.scan_all().await.is_empty());
}
