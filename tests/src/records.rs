//! Raw records built by hand, laid out as `specs/SCHEMA.md` section 5 describes them, for tests
//! that plant, corrupt or decode items without going through the store.
//!
//! Every builder writes the common attributes of section 4 (`_type`, `_schemaVersion`,
//! `_createdAt`); timestamps default to [`T0`].

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ddbrel_runtime::Item;

/// The time the builders write as `_createdAt` (and as a new resource's `_updatedAt`).
pub const T0: &str = "2026-11-25T09:00:00.123Z";
/// A time after [`T0`], for a resource changed since its creation or a fence set later.
pub const T1: &str = "2026-11-25T10:30:00.000Z";

/// A string value (`S`).
pub fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

/// A number value (`N`).
pub fn n(v: impl Into<i128>) -> AV {
    AV::N(v.into().to_string())
}

/// A string set (`SS`) of `v`'s texts, in the order given.
pub fn ss(v: impl IntoIterator<Item = impl ToString>) -> AV {
    AV::Ss(v.into_iter().map(|x| x.to_string()).collect())
}

/// A list (`L`) of strings, in the order given.
pub fn l(v: impl IntoIterator<Item = impl ToString>) -> AV {
    AV::L(v.into_iter().map(|x| AV::S(x.to_string())).collect())
}

/// The sort key of a ParentChildRelationship record (section 5.2): `child#` + child URN.
pub fn child_sk(child: &str) -> String {
    format!("child#{child}")
}

/// The sort key of a CollectionMembershipRelationship record (section 5.3): `member#` + member
/// URN.
pub fn member_sk(member: &str) -> String {
    format!("member#{member}")
}

/// A uniqueness marker's key (section 6): `unique#{resourceType}#{constraint}#{scope}#{value}`,
/// `scope` being `global` or the scoping URN and `value` already normalized and escaped.
pub fn marker_key(resource_type: &str, constraint: &str, scope: &str, value: &str) -> String {
    format!("unique#{resource_type}#{constraint}#{scope}#{value}")
}

/// A marker's `_constraint` (section 5.4): `{resourceType}.{constraintName}`.
pub fn constraint_name(resource_type: &str, constraint: &str) -> String {
    format!("{resource_type}.{constraint}")
}

/// A Resource record (section 5.1), built attribute by attribute. [`Resource::new`] writes what
/// every resource carries, as a create leaves it; the other methods add what only some carry.
#[derive(Debug, Clone)]
pub struct Resource {
    item: Item,
}

impl Resource {
    /// `PK` and `SK` = `urn`, `_type` = `Resource`, `_schemaVersion` = 1, `_createdAt` =
    /// `_updatedAt` = [`T0`], `_resourceType` = the URN's resource type, `_version` = 1.
    pub fn new(urn: &str) -> Resource {
        let resource_type = urn.split(':').nth(2).expect("a URN");
        Resource {
            item: Item::from([
                ("PK".to_string(), s(urn)),
                ("SK".to_string(), s(urn)),
                ("_type".to_string(), s("Resource")),
                ("_schemaVersion".to_string(), n(1)),
                ("_createdAt".to_string(), s(T0)),
                ("_updatedAt".to_string(), s(T0)),
                ("_resourceType".to_string(), s(resource_type)),
                ("_version".to_string(), n(1)),
            ]),
        }
        .listed(urn)
    }

    /// `GSI1PK`/`GSI1SK`: the root listing entry every resource without a parent carries
    /// (section 5.1); [`Resource::parent`] takes it away.
    fn listed(self, urn: &str) -> Resource {
        let prefix_end = urn.find("::").map_or(urn.len(), |i| i + 2);
        let listing = ddbrel_runtime::schema::keys::root_listing_pk(&urn[..prefix_end], urn);
        self.attr("GSI1PK", s(&listing)).attr("GSI1SK", s(urn))
    }

    /// Sets one attribute: an entity field, or a reserved one the other methods do not cover.
    pub fn attr(mut self, name: &str, value: AV) -> Resource {
        self.item.insert(name.to_string(), value);
        self
    }

    /// Adds every attribute of `fields` (an entity's encoded fields) not already set.
    pub fn fields(mut self, fields: Item) -> Resource {
        for (name, value) in fields {
            self.item.entry(name).or_insert(value);
        }
        self
    }

    /// `_createdAt`.
    pub fn created(self, at: &str) -> Resource {
        self.attr("_createdAt", s(at))
    }

    /// `_updatedAt` and `_version`: the last change that incremented the version.
    pub fn updated(self, at: &str, version: u64) -> Resource {
        self.attr("_updatedAt", s(at)).attr("_version", n(version))
    }

    /// `_parentUrn` and `_ancestors` (root first, parent last).
    pub fn parent(
        self,
        parent: &str,
        ancestors: impl IntoIterator<Item = impl ToString>,
    ) -> Resource {
        let mut r = self
            .attr("_parentUrn", s(parent))
            .attr("_ancestors", l(ancestors));
        r.item.remove("GSI1PK");
        r.item.remove("GSI1SK");
        r
    }

    /// `_accountUrn`.
    pub fn account(self, account: &str) -> Resource {
        self.attr("_accountUrn", s(account))
    }

    /// A string set attribute, left out when `values` is empty (DynamoDB has no empty sets).
    fn set(self, name: &str, values: impl IntoIterator<Item = impl ToString>) -> Resource {
        match ss(values) {
            AV::Ss(v) if v.is_empty() => self,
            v => self.attr(name, v),
        }
    }

    /// `_uniqueKeys`, when there is at least one key.
    pub fn unique_keys(self, keys: impl IntoIterator<Item = impl ToString>) -> Resource {
        self.set("_uniqueKeys", keys)
    }

    /// `_memberOf`, when there is at least one collection.
    pub fn member_of(self, collections: impl IntoIterator<Item = impl ToString>) -> Resource {
        self.set("_memberOf", collections)
    }

    /// `_conveyingCollections`, when there is at least one collection.
    pub fn conveying(self, collections: impl IntoIterator<Item = impl ToString>) -> Resource {
        self.set("_conveyingCollections", collections)
    }

    /// `_childCount`.
    pub fn child_count(self, count: impl Into<i128>) -> Resource {
        self.attr("_childCount", n(count))
    }

    /// `_memberCount`.
    pub fn member_count(self, count: impl Into<i128>) -> Resource {
        self.attr("_memberCount", n(count))
    }

    /// `_deleting`: the fence of a cascade rooted here (section 7).
    pub fn deleting(self, since: &str) -> Resource {
        self.attr("_deleting", s(since))
    }

    /// The record.
    pub fn build(self) -> Item {
        self.item
    }
}

/// A ParentChildRelationship record (section 5.2), created at [`T0`].
pub fn parent_child(parent: &str, child: &str) -> Item {
    Item::from([
        ("PK".to_string(), s(parent)),
        ("SK".to_string(), s(&child_sk(child))),
        ("GSI1PK".to_string(), s(child)),
        ("GSI1SK".to_string(), s(&format!("parent#{parent}"))),
        ("_type".to_string(), s("ParentChildRelationship")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_parentUrn".to_string(), s(parent)),
        ("_childUrn".to_string(), s(child)),
    ])
}

/// A CollectionMembershipRelationship record (section 5.3), added at [`T0`].
pub fn membership(collection: &str, member: &str, conveys: bool) -> Item {
    Item::from([
        ("PK".to_string(), s(collection)),
        ("SK".to_string(), s(&member_sk(member))),
        ("GSI1PK".to_string(), s(member)),
        ("GSI1SK".to_string(), s(&format!("collection#{collection}"))),
        ("_type".to_string(), s("CollectionMembershipRelationship")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_collectionUrn".to_string(), s(collection)),
        ("_memberUrn".to_string(), s(member)),
        ("_conveysAuthorization".to_string(), AV::Bool(conveys)),
    ])
}

/// A UniqueKeyValue record (section 5.4) under `key`, held by `owner`, claimed at [`T0`];
/// `constraint` is the `_constraint` (see [`constraint_name`]).
pub fn marker(key: &str, owner: &str, constraint: &str) -> Item {
    Item::from([
        ("PK".to_string(), s(key)),
        ("SK".to_string(), s(key)),
        ("_type".to_string(), s("UniqueKeyValue")),
        ("_schemaVersion".to_string(), n(1)),
        ("_createdAt".to_string(), s(T0)),
        ("_ownerUrn".to_string(), s(owner)),
        ("_constraint".to_string(), s(constraint)),
    ])
}
