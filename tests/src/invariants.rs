//! The invariants of SCHEMA.md (section 9, with the record layouts of sections 4 and 5),
//! checked over the raw table.
//!
//! [`check`] scans the whole table with the plain SDK and returns every [`Violation`] it finds;
//! [`assert_ok`] panics listing them. The checker knows nothing of the Rust entity types: it
//! works from the reserved attributes alone, as the contract says an integrity check must.
//!
//! What is checked, per record type:
//!
//! - **Every record** has `PK` and `SK` (non-empty S), a known `_type`, `_schemaVersion` (an N
//!   of at least 1; exactly 1 for relationship and marker records) and `_createdAt` in the
//!   `YYYY-MM-DDTHH:MM:SS.mmmZ` form. Index key attributes (`GSI1PK`, `GSI1SK`, `_accountUrn`)
//!   are never NULL or empty (I7), and no record carries a reserved attribute (`_…`) its type
//!   does not define.
//! - **Resource**: `PK = SK` = a URN whose type is `_resourceType`, `_version >= 1`,
//!   `_createdAt <= _updatedAt` (I8); no `GSI1PK`/`GSI1SK` (I7); `_parentUrn` and `_ancestors`
//!   both present or both absent, `_ancestors` ending with the parent and equal to the parent's
//!   `_ancestors` followed by the parent (I3); the parent exists and has exactly one
//!   ParentChildRelationship record for it (I2); `_accountUrn` equal to the parent's
//!   `_accountUrn`, or to the parent's URN when the parent has none, and only on resources
//!   with a parent (I5); every key of `_uniqueKeys` is a marker owned by the resource (I4);
//!   `_memberOf` is exactly the set of collections with a membership record for it and
//!   `_conveyingCollections` exactly those whose record conveys authorization (I6);
//!   `_childCount` and `_memberCount` are at least the number of `child#` and `member#`
//!   records in its partition, and equal to it outside fenced subtrees. Resources of one
//!   `_resourceType` agree on having a parent, on their parent's type and on having
//!   `_accountUrn` (a type declares these once).
//! - **ParentChildRelationship** and **CollectionMembershipRelationship**: keys, `GSI1PK`,
//!   `GSI1SK` and the URN attributes agree with each other as section 5.2/5.3 lays them out;
//!   `_conveysAuthorization` is a BOOL; both ends are Resource records (I1); the child names
//!   the record's parent as its `_parentUrn` (I2). No `_accountUrn` (I5).
//! - **UniqueKeyValue**: `PK = SK` = a well-formed marker key of at most 1024 bytes whose
//!   resource type is the owner's and whose scope is `global`, the owner's `_accountUrn` or the
//!   owner's `_parentUrn`; `_constraint` = `{resourceType}.{constraint}` of the key; the owner
//!   exists and lists the key in `_uniqueKeys` (I4). No GSI keys (I7), no `_accountUrn` (I5).
//!
//! # Fenced subtrees
//!
//! While a cascading delete is under way, its root carries `_deleting`, and the sweep removes
//! markers, memberships, resources and their parent-child records in an order that leaves
//! dangling references behind for a while (SCHEMA.md section 9: I1, I2, I4 and I6 may be
//! broken inside the subtree until the cascade completes). A resource is **in a fenced
//! subtree** when it carries `_deleting` or one of its `_ancestors` does; a relationship record
//! is in it when its parent (collection) is, judged for a parent-child record whose parent is
//! already gone by the child's `_ancestors`. For those, and only those, the checker does not
//! report:
//!
//! - a relationship record with a missing end (I1);
//! - a resource's missing parent, or missing ParentChildRelationship record (I2);
//! - a key in `_uniqueKeys` without a marker owned by the resource (I4);
//! - a `_memberOf`/`_conveyingCollections` that disagrees with the membership records (I6);
//! - a `_childCount`/`_memberCount` above the number of records (a count below it is always
//!   reported: the sweep only ever removes records).
//!
//! Everything else holds inside a fenced subtree as well and is checked there too: the layout
//! of every record, I3, I5, I7, I8, a marker whose owner is missing or does not list it (the
//! sweep deletes markers before their owners), a membership record whose collection is outside
//! the subtree (the sweep removes crossing memberships together with their outside end), and
//! the counts of resources outside the subtree (decremented in the same transaction as the
//! records they count).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use ddbrel_runtime::codec::key_of;
use ddbrel_runtime::schema::{
    CHILD_PREFIX, COLLECTION_PREFIX, GSI1PK, GSI1SK, MEMBER_PREFIX, PARENT_PREFIX, PK,
    RELATIONSHIP_SCHEMA_VERSION, RecordType, SK, UNIQUE_PREFIX, attr,
};
use ddbrel_runtime::unique::MAX_MARKER_KEY_BYTES;
use ddbrel_runtime::{AnyUrn, Item};

use crate::TestEnv;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The record at fault: `PK`, or `PK / SK` when they differ (for a rule about a whole
    /// resource type: `type {resourceType}`).
    pub key: String,
    /// Which rule: `I1` … `I8` of SCHEMA.md section 9, `record` for the common layout of
    /// section 4 and 5 (attributes, types, formats), `counts` for `_childCount`/`_memberCount`.
    pub invariant: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.invariant, self.key, self.message)
    }
}

/// Scans the table and returns every violation, in key order.
pub async fn check(env: &TestEnv) -> Vec<Violation> {
    check_items(&env.scan_all().await)
}

/// Checks the table and panics listing every violation.
pub async fn assert_ok(env: &TestEnv) {
    let violations = check(env).await;
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
        panic!(
            "{} invariant violation(s) in table {}:\n{}",
            violations.len(),
            env.store.table(),
            list.join("\n")
        );
    }
}

/// Checks a set of raw items (a whole table) and returns every violation.
pub fn check_items(items: &[Item]) -> Vec<Violation> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|i| (text(i, PK), text(i, SK)));
    let mut c = Checker::default();
    let mut table = Table::default();
    for item in sorted {
        c.record(item, &mut table);
    }
    c.cross_check(&table);
    c.out
}

// ---------------------------------------------------------------------------------------------
// Parsed records.

#[derive(Debug)]
struct Resource {
    key: String,
    urn: AnyUrn,
    parent: Option<AnyUrn>,
    /// `None` when absent (or unreadable); roots have none.
    ancestors: Option<Vec<AnyUrn>>,
    account: Option<AnyUrn>,
    unique_keys: BTreeSet<String>,
    member_of: BTreeSet<AnyUrn>,
    conveying: BTreeSet<AnyUrn>,
    child_count: i128,
    member_count: i128,
    deleting: bool,
}

impl Resource {
    fn ancestors(&self) -> &[AnyUrn] {
        self.ancestors.as_deref().unwrap_or(&[])
    }
}

#[derive(Debug)]
struct ParentChild {
    key: String,
    parent: AnyUrn,
    child: AnyUrn,
}

#[derive(Debug)]
struct Membership {
    key: String,
    collection: AnyUrn,
    member: AnyUrn,
    conveys: bool,
}

#[derive(Debug)]
struct Marker {
    key: String,
    owner: AnyUrn,
    resource_type: String,
    scope: String,
}

#[derive(Debug, Default)]
struct Table {
    resources: BTreeMap<AnyUrn, Resource>,
    parent_child: Vec<ParentChild>,
    memberships: Vec<Membership>,
    markers: BTreeMap<String, Marker>,
}

impl Table {
    /// URNs of the resources that carry `_deleting`.
    fn fences(&self) -> BTreeSet<&AnyUrn> {
        self.resources
            .values()
            .filter(|r| r.deleting)
            .map(|r| &r.urn)
            .collect()
    }
}

/// Whether a resource is in a fenced subtree: it, or one of its ancestors, carries `_deleting`.
fn fenced(r: &Resource, fences: &BTreeSet<&AnyUrn>) -> bool {
    fences.contains(&r.urn) || r.ancestors().iter().any(|a| fences.contains(a))
}

const RESOURCE_ATTRS: &[&str] = &[
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::RESOURCE_TYPE,
    attr::VERSION,
    attr::UPDATED_AT,
    attr::ACCOUNT_URN,
    attr::PARENT_URN,
    attr::ANCESTORS,
    attr::UNIQUE_KEYS,
    attr::MEMBER_OF,
    attr::CONVEYING_COLLECTIONS,
    attr::DELETING,
    attr::CHILD_COUNT,
    attr::MEMBER_COUNT,
];
const PARENT_CHILD_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::PARENT_URN,
    attr::CHILD_URN,
];
const MEMBERSHIP_ATTRS: &[&str] = &[
    PK,
    SK,
    GSI1PK,
    GSI1SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::COLLECTION_URN,
    attr::MEMBER_URN,
    attr::CONVEYS_AUTHORIZATION,
];
const MARKER_ATTRS: &[&str] = &[
    PK,
    SK,
    attr::TYPE,
    attr::SCHEMA_VERSION,
    attr::CREATED_AT,
    attr::OWNER_URN,
    attr::CONSTRAINT,
];

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s,
        _ => "",
    }
}

fn describe(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        _ => "an unknown type",
    }
}

fn list<T: fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = v.into_iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(", "))
}

// ---------------------------------------------------------------------------------------------
// The checker.

#[derive(Default)]
struct Checker {
    out: Vec<Violation>,
}

impl Checker {
    fn push(&mut self, key: &str, invariant: &'static str, message: impl Into<String>) {
        self.out.push(Violation {
            key: key.to_string(),
            invariant,
            message: message.into(),
        });
    }

    // --- attribute readers: each reports what is wrong and returns what it could read ---

    /// A required non-empty string.
    fn req_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        match item.get(name) {
            None => {
                self.push(key, "record", format!("missing attribute {name}"));
                None
            }
            Some(v) => self.s_value(key, name, v),
        }
    }

    /// An optional non-empty string.
    fn opt_s<'a>(&mut self, key: &str, item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name).and_then(|v| self.s_value(key, name, v))
    }

    fn s_value<'a>(&mut self, key: &str, name: &str, v: &'a AttributeValue) -> Option<&'a str> {
        match v {
            AttributeValue::S(s) if !s.is_empty() => Some(s),
            AttributeValue::S(_) => {
                self.push(
                    key,
                    "record",
                    format!("attribute {name} is an empty string"),
                );
                None
            }
            other => {
                self.push(
                    key,
                    "record",
                    format!("attribute {name} is {}, not S", describe(other)),
                );
                None
            }
        }
    }

    fn urn(&mut self, key: &str, what: &str, s: &str) -> Option<AnyUrn> {
        match AnyUrn::parse(s) {
            Ok(u) => Some(u),
            Err(e) => {
                self.push(key, "record", format!("{what} is not a URN: {e}"));
                None
            }
        }
    }

    fn req_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.req_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    fn opt_urn(&mut self, key: &str, item: &Item, name: &str) -> Option<AnyUrn> {
        let s = self.opt_s(key, item, name)?;
        self.urn(key, &format!("attribute {name}"), s)
    }

    /// A required integer (N).
    fn req_n(&mut self, key: &str, item: &Item, name: &str) -> Option<i128> {
        match item.get(name) {
            None => {
                self.push(key, "record", format!("missing attribute {name}"));
                None
            }
            Some(v) => self.n_value(key, name, v),
        }
    }

    fn n_value(&mut self, key: &str, name: &str, v: &AttributeValue) -> Option<i128> {
        match v {
            AttributeValue::N(n) => match n.parse::<i128>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.push(
                        key,
                        "record",
                        format!("attribute {name} = {n} is not an integer"),
                    );
                    None
                }
            },
            other => {
                self.push(
                    key,
                    "record",
                    format!("attribute {name} is {}, not N", describe(other)),
                );
                None
            }
        }
    }

    /// An optional count (N >= 0), absent = 0.
    fn count(&mut self, key: &str, item: &Item, name: &str) -> i128 {
        match item.get(name) {
            None => 0,
            Some(v) => match self.n_value(key, name, v) {
                Some(n) if n < 0 => {
                    self.push(key, "counts", format!("{name} is negative ({n})"));
                    n
                }
                Some(n) => n,
                None => 0,
            },
        }
    }

    /// A timestamp in the exact `YYYY-MM-DDTHH:MM:SS.mmmZ` form.
    fn timestamp(&mut self, key: &str, name: &str, s: &str) -> Option<jiff::Timestamp> {
        match ddbrel_runtime::time::parse(s) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.push(key, "record", format!("attribute {name}: {reason}"));
                None
            }
        }
    }

    /// An optional string set (absent = empty; DynamoDB sets are never empty).
    fn ss(&mut self, key: &str, item: &Item, name: &str) -> Vec<String> {
        match item.get(name) {
            None => Vec::new(),
            Some(AttributeValue::Ss(v)) => {
                if v.is_empty() {
                    self.push(key, "record", format!("attribute {name} is an empty set"));
                }
                v.clone()
            }
            Some(other) => {
                self.push(
                    key,
                    "record",
                    format!("attribute {name} is {}, not SS", describe(other)),
                );
                Vec::new()
            }
        }
    }

    fn urn_set(&mut self, key: &str, item: &Item, name: &str) -> BTreeSet<AnyUrn> {
        self.ss(key, item, name)
            .iter()
            .filter_map(|s| self.urn(key, &format!("an element of {name}"), s))
            .collect()
    }

    fn known_attributes(&mut self, key: &str, item: &Item, known: &[&str], entity_fields: bool) {
        let mut names: Vec<&String> = item.keys().collect();
        names.sort();
        for name in names {
            // Index keys out of place have rules of their own (I5, I7).
            if known.contains(&name.as_str())
                || [PK, SK, GSI1PK, GSI1SK, attr::ACCOUNT_URN].contains(&name.as_str())
            {
                continue;
            }
            if name.starts_with('_') || !entity_fields {
                self.push(
                    key,
                    "record",
                    format!("attribute {name} does not belong on this record type"),
                );
            }
        }
    }

    // --- pass 1: each record on its own ---

    fn record(&mut self, item: &Item, table: &mut Table) {
        let key = key_of(item);
        let (Some(_), Some(_)) = (self.req_s(&key, item, PK), self.req_s(&key, item, SK)) else {
            return;
        };
        // Index keys are never NULL or empty, on any record (I7).
        for name in [GSI1PK, GSI1SK, attr::ACCOUNT_URN] {
            match item.get(name) {
                None | Some(AttributeValue::S(_)) => {}
                Some(other) => self.push(
                    &key,
                    "I7",
                    format!("index key {name} is {}, not S", describe(other)),
                ),
            }
            if matches!(item.get(name), Some(AttributeValue::S(s)) if s.is_empty()) {
                self.push(&key, "I7", format!("index key {name} is an empty string"));
            }
        }
        let Some(t) = self.req_s(&key, item, attr::TYPE) else {
            return;
        };
        let Some(record_type) = RecordType::parse(t) else {
            self.push(&key, "record", format!("unknown _type {t:?}"));
            return;
        };
        if let Some(v) = self.req_n(&key, item, attr::SCHEMA_VERSION) {
            if v < 1 {
                self.push(
                    &key,
                    "record",
                    format!("_schemaVersion is {v}; versions start at 1"),
                );
            } else if record_type != RecordType::Resource
                && v != i128::from(RELATIONSHIP_SCHEMA_VERSION)
            {
                self.push(
                    &key,
                    "record",
                    format!(
                        "_schemaVersion of a {} is {RELATIONSHIP_SCHEMA_VERSION}, found {v}",
                        record_type.as_str()
                    ),
                );
            }
        }
        let created = self
            .req_s(&key, item, attr::CREATED_AT)
            .and_then(|s| self.timestamp(&key, attr::CREATED_AT, s));
        match record_type {
            RecordType::Resource => self.resource(&key, item, created, table),
            RecordType::ParentChildRelationship => self.parent_child(&key, item, table),
            RecordType::CollectionMembershipRelationship => self.membership(&key, item, table),
            RecordType::UniqueKeyValue => self.marker(&key, item, table),
        }
    }

    fn resource(
        &mut self,
        key: &str,
        item: &Item,
        created: Option<jiff::Timestamp>,
        table: &mut Table,
    ) {
        self.known_attributes(key, item, RESOURCE_ATTRS, true);
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(key, "I8", "a Resource record has PK = SK = its URN");
        }
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(key, "I7", format!("a Resource record carries {name}"));
            }
        }
        let urn = self.urn(key, "PK", pk);
        if let (Some(urn), Some(rt)) = (&urn, self.req_s(key, item, attr::RESOURCE_TYPE))
            && rt != urn.resource_type()
        {
            self.push(
                key,
                "I8",
                format!(
                    "_resourceType {rt} is not the URN's type {}",
                    urn.resource_type()
                ),
            );
        }
        if let Some(v) = self.req_n(key, item, attr::VERSION)
            && v < 1
        {
            self.push(key, "I8", format!("_version is {v}; versions start at 1"));
        }
        let updated = self
            .req_s(key, item, attr::UPDATED_AT)
            .and_then(|s| self.timestamp(key, attr::UPDATED_AT, s));
        if let (Some(c), Some(u)) = (created, updated)
            && c > u
        {
            self.push(key, "I8", format!("_createdAt {c} is after _updatedAt {u}"));
        }
        let deleting = match self.opt_s(key, item, attr::DELETING) {
            Some(s) => {
                self.timestamp(key, attr::DELETING, s);
                true
            }
            None => item.contains_key(attr::DELETING),
        };

        let parent = self.opt_urn(key, item, attr::PARENT_URN);
        let ancestors = match item.get(attr::ANCESTORS) {
            None => None,
            Some(AttributeValue::L(list)) => {
                let mut out = Vec::new();
                for v in list {
                    match v {
                        AttributeValue::S(s) => {
                            if let Some(u) = self.urn(key, "an element of _ancestors", s) {
                                out.push(u);
                            }
                        }
                        other => self.push(
                            key,
                            "record",
                            format!("_ancestors holds {}, not S", describe(other)),
                        ),
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.push(
                    key,
                    "record",
                    format!("_ancestors is {}, not L", describe(other)),
                );
                None
            }
        };
        match (&parent, &ancestors) {
            (Some(_), None) => self.push(key, "I2", "has _parentUrn but no _ancestors"),
            (None, Some(_)) => self.push(key, "I2", "has _ancestors but no _parentUrn"),
            (Some(p), Some(a)) => {
                if a.last() != Some(p) {
                    self.push(
                        key,
                        "I3",
                        format!("_ancestors {} does not end with _parentUrn {p}", list(a)),
                    );
                }
                let distinct: BTreeSet<&AnyUrn> = a.iter().collect();
                if distinct.len() != a.len() {
                    self.push(key, "I3", format!("_ancestors {} repeats a URN", list(a)));
                }
                if let Some(u) = &urn
                    && a.contains(u)
                {
                    self.push(key, "I3", "_ancestors contains the resource itself");
                }
            }
            (None, None) => {}
        }
        let account = self.opt_urn(key, item, attr::ACCOUNT_URN);
        if account.is_some() && item.get(attr::PARENT_URN).is_none() {
            self.push(
                key,
                "I5",
                "has _accountUrn but no parent (an account-scoped type declares a parent)",
            );
        }
        if let (Some(a), Some(u)) = (&account, &urn)
            && a == u
        {
            self.push(key, "I5", "_accountUrn is the resource itself");
        }
        let unique_keys: BTreeSet<String> =
            self.ss(key, item, attr::UNIQUE_KEYS).into_iter().collect();
        let member_of = self.urn_set(key, item, attr::MEMBER_OF);
        let conveying = self.urn_set(key, item, attr::CONVEYING_COLLECTIONS);
        let stray: Vec<&AnyUrn> = conveying.difference(&member_of).collect();
        if !stray.is_empty() {
            self.push(
                key,
                "I6",
                format!("_conveyingCollections {} are not in _memberOf", list(stray)),
            );
        }
        let child_count = self.count(key, item, attr::CHILD_COUNT);
        let member_count = self.count(key, item, attr::MEMBER_COUNT);
        let Some(urn) = urn else { return };
        table.resources.insert(
            urn.clone(),
            Resource {
                key: key.to_string(),
                urn,
                parent,
                ancestors,
                account,
                unique_keys,
                member_of,
                conveying,
                child_count,
                member_count,
                deleting,
            },
        );
    }

    /// The common layout of both relationship records: `PK` = `from`, `SK` = `sk_prefix` + to,
    /// `GSI1PK` = to, `GSI1SK` = `gsi_prefix` + from, and the two URN attributes.
    fn relationship(
        &mut self,
        key: &str,
        item: &Item,
        sk_prefix: &str,
        gsi_prefix: &str,
        from_attr: &str,
        to_attr: &str,
    ) -> Option<(AnyUrn, AnyUrn)> {
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(key, "I5", "a relationship record carries _accountUrn");
        }
        let from = self.urn(key, "PK", text(item, PK));
        let to = match text(item, SK).strip_prefix(sk_prefix) {
            Some(rest) => self.urn(key, &format!("SK after {sk_prefix}"), rest),
            None => {
                self.push(key, "record", format!("SK does not start with {sk_prefix}"));
                None
            }
        };
        let gsi1pk = self.req_s(key, item, GSI1PK);
        let gsi1sk = self.req_s(key, item, GSI1SK);
        let from_value = self.req_s(key, item, from_attr);
        let to_value = self.req_s(key, item, to_attr);
        let (from, to) = (from?, to?);
        if let Some(v) = gsi1pk
            && v != to.as_str()
        {
            self.push(key, "record", format!("GSI1PK is {v}, expected {to}"));
        }
        let want = format!("{gsi_prefix}{from}");
        if let Some(v) = gsi1sk
            && v != want
        {
            self.push(key, "record", format!("GSI1SK is {v}, expected {want}"));
        }
        if let Some(v) = from_value
            && v != from.as_str()
        {
            self.push(
                key,
                "record",
                format!("{from_attr} is {v}, expected {from} (PK)"),
            );
        }
        if let Some(v) = to_value
            && v != to.as_str()
        {
            self.push(
                key,
                "record",
                format!("{to_attr} is {v}, expected {to} (from SK)"),
            );
        }
        if from == to {
            self.push(key, "record", "a relationship from a resource to itself");
        }
        Some((from, to))
    }

    fn parent_child(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, PARENT_CHILD_ATTRS, false);
        if let Some((parent, child)) = self.relationship(
            key,
            item,
            CHILD_PREFIX,
            PARENT_PREFIX,
            attr::PARENT_URN,
            attr::CHILD_URN,
        ) {
            table.parent_child.push(ParentChild {
                key: key.to_string(),
                parent,
                child,
            });
        }
    }

    fn membership(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, MEMBERSHIP_ATTRS, false);
        let conveys = match item.get(attr::CONVEYS_AUTHORIZATION) {
            Some(AttributeValue::Bool(b)) => Some(*b),
            Some(other) => {
                self.push(
                    key,
                    "record",
                    format!("_conveysAuthorization is {}, not BOOL", describe(other)),
                );
                None
            }
            None => {
                self.push(key, "record", "missing attribute _conveysAuthorization");
                None
            }
        };
        if let Some((collection, member)) = self.relationship(
            key,
            item,
            MEMBER_PREFIX,
            COLLECTION_PREFIX,
            attr::COLLECTION_URN,
            attr::MEMBER_URN,
        ) {
            table.memberships.push(Membership {
                key: key.to_string(),
                collection,
                member,
                conveys: conveys.unwrap_or(false),
            });
        }
    }

    fn marker(&mut self, key: &str, item: &Item, table: &mut Table) {
        self.known_attributes(key, item, MARKER_ATTRS, false);
        for name in [GSI1PK, GSI1SK] {
            if item.contains_key(name) {
                self.push(key, "I7", format!("a UniqueKeyValue record carries {name}"));
            }
        }
        if item.contains_key(attr::ACCOUNT_URN) {
            self.push(key, "I5", "a UniqueKeyValue record carries _accountUrn");
        }
        let (pk, sk) = (text(item, PK), text(item, SK));
        if pk != sk {
            self.push(
                key,
                "I8",
                "a UniqueKeyValue record has PK = SK = its marker key",
            );
        }
        if pk.len() > MAX_MARKER_KEY_BYTES {
            self.push(
                key,
                "I4",
                format!(
                    "marker key is {} bytes, over {MAX_MARKER_KEY_BYTES}",
                    pk.len()
                ),
            );
        }
        let owner = self.req_urn(key, item, attr::OWNER_URN);
        let constraint_attr = self.req_s(key, item, attr::CONSTRAINT);
        let Some((resource_type, constraint, scope)) = split_marker_key(pk) else {
            self.push(
                key,
                "I4",
                "marker key is not unique#{resourceType}#{constraint}#{scope}#{value}",
            );
            return;
        };
        let want = format!("{resource_type}.{constraint}");
        if let Some(c) = constraint_attr
            && c != want
        {
            self.push(
                key,
                "I4",
                format!("_constraint is {c}, the key says {want}"),
            );
        }
        if scope != "global" {
            self.urn(key, "the marker key's scope", scope);
        }
        let Some(owner) = owner else { return };
        table.markers.insert(
            pk.to_string(),
            Marker {
                key: key.to_string(),
                owner,
                resource_type: resource_type.to_string(),
                scope: scope.to_string(),
            },
        );
    }

    // --- pass 2: references between records ---

    fn cross_check(&mut self, t: &Table) {
        let fences = t.fences();
        let mut child_records: BTreeMap<&AnyUrn, Vec<&ParentChild>> = BTreeMap::new();
        let mut children_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for pc in &t.parent_child {
            child_records.entry(&pc.child).or_default().push(pc);
            *children_of.entry(&pc.parent).or_default() += 1;
        }
        let mut memberships_of: BTreeMap<&AnyUrn, Vec<&Membership>> = BTreeMap::new();
        let mut members_of: BTreeMap<&AnyUrn, usize> = BTreeMap::new();
        for m in &t.memberships {
            memberships_of.entry(&m.member).or_default().push(m);
            *members_of.entry(&m.collection).or_default() += 1;
        }

        for r in t.resources.values() {
            let exempt = fenced(r, &fences);
            let key = r.key.as_str();

            // I2, I3, I5: the parent.
            if let Some(parent) = &r.parent {
                let records = child_records.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
                let under_parent = records.iter().filter(|pc| &pc.parent == parent).count();
                if under_parent == 0 && !exempt {
                    self.push(
                        key,
                        "I2",
                        format!("no ParentChildRelationship record under its parent {parent}"),
                    );
                }
                for pc in records.iter().filter(|pc| &pc.parent != parent) {
                    self.push(
                        key,
                        "I2",
                        format!(
                            "ParentChildRelationship {} names it as a child of {}, but its _parentUrn is {parent}",
                            pc.key, pc.parent
                        ),
                    );
                }
                match t.resources.get(parent) {
                    None => {
                        if !exempt {
                            self.push(key, "I2", format!("its parent {parent} does not exist"));
                        }
                    }
                    Some(p) => {
                        let mut want: Vec<AnyUrn> = p.ancestors().to_vec();
                        want.push(parent.clone());
                        if r.ancestors.is_some() && r.ancestors() != want.as_slice() {
                            self.push(
                                key,
                                "I3",
                                format!(
                                    "_ancestors is {}, the parent's _ancestors + parent is {}",
                                    list(r.ancestors()),
                                    list(&want)
                                ),
                            );
                        }
                        if let Some(account) = &r.account {
                            let want = p.account.as_ref().unwrap_or(parent);
                            if account != want {
                                self.push(
                                    key,
                                    "I5",
                                    format!(
                                        "_accountUrn is {account}, expected {want} (the parent's {})",
                                        if p.account.is_some() {
                                            "_accountUrn"
                                        } else {
                                            "URN"
                                        }
                                    ),
                                );
                            }
                        }
                    }
                }
            } else if let Some(pcs) = child_records.get(&r.urn) {
                for pc in pcs {
                    self.push(
                        key,
                        "I2",
                        format!(
                            "has no _parentUrn, but ParentChildRelationship {} names it as a child",
                            pc.key
                        ),
                    );
                }
            }
            if let Some(account) = &r.account
                && r.parent.is_some()
                && !r.ancestors().contains(account)
            {
                self.push(
                    key,
                    "I5",
                    format!("_accountUrn {account} is not one of its _ancestors"),
                );
            }

            // I4: the markers it lists.
            if !exempt {
                for k in &r.unique_keys {
                    match t.markers.get(k) {
                        None => self.push(
                            key,
                            "I4",
                            format!("_uniqueKeys lists {k}, but no such marker exists"),
                        ),
                        Some(m) if m.owner != r.urn => self.push(
                            key,
                            "I4",
                            format!(
                                "_uniqueKeys lists {k}, but that marker is owned by {}",
                                m.owner
                            ),
                        ),
                        Some(_) => {}
                    }
                }
            }

            // I6: memberships.
            if !exempt {
                let records = memberships_of.get(&r.urn).map(Vec::as_slice).unwrap_or(&[]);
                let have: BTreeSet<&AnyUrn> = records.iter().map(|m| &m.collection).collect();
                let conveying: BTreeSet<&AnyUrn> = records
                    .iter()
                    .filter(|m| m.conveys)
                    .map(|m| &m.collection)
                    .collect();
                let listed: BTreeSet<&AnyUrn> = r.member_of.iter().collect();
                let listed_conveying: BTreeSet<&AnyUrn> = r.conveying.iter().collect();
                self.set_diff(key, "_memberOf", "membership records", &listed, &have);
                self.set_diff(
                    key,
                    "_conveyingCollections",
                    "memberships with _conveysAuthorization = true",
                    &listed_conveying,
                    &conveying,
                );
            }

            // Counts.
            for (name, count, records, what) in [
                (
                    attr::CHILD_COUNT,
                    r.child_count,
                    children_of.get(&r.urn).copied().unwrap_or(0),
                    "child#",
                ),
                (
                    attr::MEMBER_COUNT,
                    r.member_count,
                    members_of.get(&r.urn).copied().unwrap_or(0),
                    "member#",
                ),
            ] {
                let records = records as i128;
                if count < records {
                    self.push(
                        key,
                        "counts",
                        format!("{name} is {count}, below the {records} {what} records"),
                    );
                } else if count != records && !exempt {
                    self.push(
                        key,
                        "counts",
                        format!("{name} is {count}, but there are {records} {what} records"),
                    );
                }
            }
        }

        // I1, I2: parent-child records.
        for pc in &t.parent_child {
            let parent = t.resources.get(&pc.parent);
            let child = t.resources.get(&pc.child);
            let exempt = match parent {
                Some(p) => fenced(p, &fences),
                // The parent is gone: the child's _ancestors include the parent's.
                None => child.is_some_and(|c| c.ancestors().iter().any(|a| fences.contains(a))),
            };
            if parent.is_none() && !exempt {
                self.push(
                    &pc.key,
                    "I1",
                    format!("its parent {} does not exist", pc.parent),
                );
            }
            match child {
                None if !exempt => self.push(
                    &pc.key,
                    "I1",
                    format!("its child {} does not exist", pc.child),
                ),
                None => {}
                Some(c) if c.parent.as_ref() != Some(&pc.parent) => self.push(
                    &pc.key,
                    "I2",
                    format!(
                        "the child's _parentUrn is {}, not this record's parent {}",
                        c.parent
                            .as_ref()
                            .map_or("absent".to_string(), |p| p.to_string()),
                        pc.parent
                    ),
                ),
                Some(_) => {}
            }
        }

        // I1: membership records.
        for m in &t.memberships {
            let exempt = t
                .resources
                .get(&m.collection)
                .is_some_and(|c| fenced(c, &fences));
            if exempt {
                continue;
            }
            if !t.resources.contains_key(&m.collection) {
                self.push(
                    &m.key,
                    "I1",
                    format!("its collection {} does not exist", m.collection),
                );
            }
            if !t.resources.contains_key(&m.member) {
                self.push(
                    &m.key,
                    "I1",
                    format!("its member {} does not exist", m.member),
                );
            }
        }

        // I4: markers.
        for (k, m) in &t.markers {
            let Some(owner) = t.resources.get(&m.owner) else {
                self.push(
                    &m.key,
                    "I4",
                    format!("its owner {} does not exist", m.owner),
                );
                continue;
            };
            if !owner.unique_keys.contains(k) {
                self.push(
                    &m.key,
                    "I4",
                    format!("its owner {} does not list it in _uniqueKeys", m.owner),
                );
            }
            if m.resource_type != m.owner.resource_type() {
                self.push(
                    &m.key,
                    "I4",
                    format!(
                        "the key is of type {}, its owner is a {}",
                        m.resource_type,
                        m.owner.resource_type()
                    ),
                );
            }
            let scope_ok = m.scope == "global"
                || owner
                    .account
                    .as_ref()
                    .is_some_and(|a| a.as_str() == m.scope)
                || owner.parent.as_ref().is_some_and(|p| p.as_str() == m.scope);
            if !scope_ok {
                self.push(
                    &m.key,
                    "I4",
                    format!(
                        "scope {} is neither global nor the owner's _accountUrn or _parentUrn",
                        m.scope
                    ),
                );
            }
        }

        // One type, one declaration.
        self.type_consistency(t);
    }

    fn set_diff(
        &mut self,
        key: &str,
        attribute: &str,
        records: &str,
        listed: &BTreeSet<&AnyUrn>,
        actual: &BTreeSet<&AnyUrn>,
    ) {
        let extra: Vec<&&AnyUrn> = listed.difference(actual).collect();
        let missing: Vec<&&AnyUrn> = actual.difference(listed).collect();
        if !extra.is_empty() {
            self.push(
                key,
                "I6",
                format!("{attribute} lists {} without {records}", list(extra)),
            );
        }
        if !missing.is_empty() {
            self.push(
                key,
                "I6",
                format!(
                    "{attribute} lacks {} although there are {records}",
                    list(missing)
                ),
            );
        }
    }

    fn type_consistency(&mut self, t: &Table) {
        #[derive(Default)]
        struct Seen<'a> {
            with_parent: Vec<&'a str>,
            without_parent: Vec<&'a str>,
            parent_types: BTreeMap<&'a str, &'a str>,
            with_account: Vec<&'a str>,
            without_account: Vec<&'a str>,
        }
        let mut types: BTreeMap<&str, Seen> = BTreeMap::new();
        for r in t.resources.values() {
            let seen = types.entry(r.urn.resource_type()).or_default();
            match &r.parent {
                Some(p) => {
                    seen.with_parent.push(&r.key);
                    seen.parent_types.entry(p.resource_type()).or_insert(&r.key);
                }
                None => seen.without_parent.push(&r.key),
            }
            if r.account.is_some() {
                seen.with_account.push(&r.key);
            } else {
                seen.without_account.push(&r.key);
            }
        }
        for (rt, seen) in types {
            let key = format!("type {rt}");
            if let (Some(a), Some(b)) = (seen.with_parent.first(), seen.without_parent.first()) {
                self.push(
                    &key,
                    "I2",
                    format!("some resources have a parent ({a}), others none ({b})"),
                );
            }
            if seen.parent_types.len() > 1 {
                self.push(
                    &key,
                    "I2",
                    format!(
                        "parents of several types: {}",
                        list(seen.parent_types.iter().map(|(t, k)| format!("{t} ({k})")))
                    ),
                );
            }
            if let (Some(a), Some(b)) = (seen.with_account.first(), seen.without_account.first()) {
                self.push(
                    &key,
                    "I5",
                    format!("some resources have _accountUrn ({a}), others none ({b})"),
                );
            }
        }
    }
}

/// Splits `unique#{resourceType}#{constraint}#{scope}#{value}` into type, constraint and scope.
fn split_marker_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix(UNIQUE_PREFIX)?;
    let (resource_type, rest) = rest.split_once('#')?;
    let (constraint, rest) = rest.split_once('#')?;
    let (scope, _value) = rest.split_once('#')?;
    if resource_type.is_empty() || constraint.is_empty() || scope.is_empty() {
        return None;
    }
    Some((resource_type, constraint, scope))
}
