//! The data contract in code: attribute names, record types, key formats, DynamoDB limits and
//! the table definition (and its CloudFormation form). Pure: no I/O, nothing else of the crate;
//! the table operations are in `ops/table.rs`. `specs/SCHEMA.md` describes
//! the same and is tested against it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

/// Partition key attribute.
pub const PK: &str = "PK";
/// Sort key attribute.
pub const SK: &str = "SK";
/// InvertedIndex partition key (relationship records only).
pub const GSI1PK: &str = "GSI1PK";
/// InvertedIndex sort key (relationship records only).
pub const GSI1SK: &str = "GSI1SK";
/// Name of the inverted index (GSI1).
pub const INVERTED_INDEX: &str = "InvertedIndex";
/// Name of the account index (GSI2).
pub const ACCOUNT_INDEX: &str = "ResourcesByAccountIndex";

/// Reserved attribute names.
pub mod attr {
    /// Record type (every record).
    pub const TYPE: &str = "_type";
    /// Schema version of the record (every record).
    pub const SCHEMA_VERSION: &str = "_schemaVersion";
    /// Creation time (every record).
    pub const CREATED_AT: &str = "_createdAt";
    /// Resource type (resources).
    pub const RESOURCE_TYPE: &str = "_resourceType";
    /// Optimistic-concurrency version (resources).
    pub const VERSION: &str = "_version";
    /// Last update time (resources).
    pub const UPDATED_AT: &str = "_updatedAt";
    /// Account URN (account-scoped resources only; GSI2 hash key).
    pub const ACCOUNT_URN: &str = "_accountUrn";
    /// Parent URN (resources of child types; parent-child records).
    pub const PARENT_URN: &str = "_parentUrn";
    /// Ancestor URNs, root first (resources of child types).
    pub const ANCESTORS: &str = "_ancestors";
    /// Number of children (resources that have had children).
    pub const CHILD_COUNT: &str = "_childCount";
    /// Number of members (collections that have had members).
    pub const MEMBER_COUNT: &str = "_memberCount";
    /// Marker keys held (resources with unique values).
    pub const UNIQUE_KEYS: &str = "_uniqueKeys";
    /// Collections holding the resource.
    pub const MEMBER_OF: &str = "_memberOf";
    /// Collections holding the resource whose membership conveys authorization.
    pub const CONVEYING_COLLECTIONS: &str = "_conveyingCollections";
    /// A token only the last versioned write (create or update) of the resource wrote; lets a
    /// writer whose response was lost recognize its own write.
    pub const WRITE_TOKEN: &str = "_writeToken";
    /// Deletion fence: present while a cascading delete is under way.
    pub const DELETING: &str = "_deleting";
    /// On a cascade's root: the time its restrict pass found nothing restricting, so a
    /// resumed cascade does not read its closure again before deleting.
    pub const DELETE_CHECKED: &str = "_deleteChecked";
    /// Child URN (parent-child records).
    pub const CHILD_URN: &str = "_childUrn";
    /// Collection URN (membership records).
    pub const COLLECTION_URN: &str = "_collectionUrn";
    /// Member URN (membership records).
    pub const MEMBER_URN: &str = "_memberUrn";
    /// Whether the membership conveys authorization (membership records).
    pub const CONVEYS_AUTHORIZATION: &str = "_conveysAuthorization";
    /// `restrict` on a relationship record whose relationship refuses the delete of its `PK`
    /// (absent: the delete cascades).
    pub const ON_DELETE: &str = "_onDelete";
    /// Owner of a uniqueness marker.
    pub const OWNER_URN: &str = "_ownerUrn";
    /// Constraint of a uniqueness marker: `{resourceType}.{constraint}`.
    pub const CONSTRAINT: &str = "_constraint";
}

/// The record types (`_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// An entity's own record.
    Resource,
    /// A parent-child edge.
    ParentChildRelationship,
    /// A collection-member edge.
    CollectionMembershipRelationship,
    /// A uniqueness marker.
    UniqueKeyValue,
    /// An entity type's declaration, published into the table's type registry.
    EntitySchema,
}

impl RecordType {
    /// The `_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Resource => "Resource",
            RecordType::ParentChildRelationship => "ParentChildRelationship",
            RecordType::CollectionMembershipRelationship => "CollectionMembershipRelationship",
            RecordType::UniqueKeyValue => "UniqueKeyValue",
            RecordType::EntitySchema => "EntitySchema",
        }
    }
    /// Parses a `_type` value.
    pub fn parse(s: &str) -> Option<RecordType> {
        Some(match s {
            "Resource" => RecordType::Resource,
            "ParentChildRelationship" => RecordType::ParentChildRelationship,
            "CollectionMembershipRelationship" => RecordType::CollectionMembershipRelationship,
            "UniqueKeyValue" => RecordType::UniqueKeyValue,
            "EntitySchema" => RecordType::EntitySchema,
            _ => return None,
        })
    }
}

/// Schema version of relationship and marker records.
pub const RELATIONSHIP_SCHEMA_VERSION: u32 = 1;

/// `SK` prefix of parent-child records.
pub const CHILD_PREFIX: &str = "child#";
/// `GSI1SK` prefix of parent-child records.
pub const PARENT_PREFIX: &str = "parent#";
/// `SK` prefix of membership records.
pub const MEMBER_PREFIX: &str = "member#";
/// `GSI1SK` prefix of membership records.
pub const COLLECTION_PREFIX: &str = "collection#";
/// Key prefix of uniqueness markers.
pub const UNIQUE_PREFIX: &str = "unique#";
/// `PK` of the type registry's partition: every EntitySchema record.
pub const REGISTRY_PK: &str = "schema";
/// `SK` prefix of EntitySchema records.
pub const TYPE_PREFIX: &str = "type#";
/// `GSI1PK` prefix of a root resource's listing entry (section 5.1, contract 4).
pub const ROOTS_PREFIX: &str = "roots#";
/// Shards of each root type's listing in the InvertedIndex: a root's shard is the FNV-1a hash
/// of its URN modulo this, so no one GSI partition takes every create of a type.
pub const ROOT_SHARDS: u32 = 8;

/// Every key format of SCHEMA.md §5 and §6, spelled once.
pub mod keys {
    use super::{CHILD_PREFIX, COLLECTION_PREFIX, MEMBER_PREFIX, PARENT_PREFIX};

    /// `SK` of a ParentChildRelationship record under its parent: `child#{child}`.
    pub fn child_sk(child: &str) -> String {
        format!("{CHILD_PREFIX}{child}")
    }

    /// `GSI1SK` of a ParentChildRelationship record: `parent#{parent}`.
    pub fn parent_sk(parent: &str) -> String {
        format!("{PARENT_PREFIX}{parent}")
    }

    /// `SK` of a CollectionMembershipRelationship record: `member#{member}`.
    pub fn member_sk(member: &str) -> String {
        format!("{MEMBER_PREFIX}{member}")
    }

    /// `PK` = `SK` of a UniqueKeyValue marker: `unique#{resourceType}#{constraint}#{scope}#{value}`,
    /// `scope` being `global` or the scoping URN and `value` the normalized, escaped parts
    /// (SCHEMA.md §6; `records::marker` normalizes, escapes and checks the length).
    pub fn marker_key(resource_type: &str, constraint: &str, scope: &str, value: &str) -> String {
        let mut key = String::with_capacity(
            super::UNIQUE_PREFIX.len()
                + resource_type.len()
                + constraint.len()
                + scope.len()
                + value.len()
                + 3,
        );
        key.push_str(super::UNIQUE_PREFIX);
        for (i, piece) in [resource_type, constraint, scope, value]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                key.push('#');
            }
            key.push_str(piece);
        }
        key
    }

    /// `SK` of an EntitySchema record: `type#{domain}#{resourceType}`.
    pub fn type_schema_sk(domain: &str, resource_type: &str) -> String {
        format!("{}{domain}#{resource_type}", super::TYPE_PREFIX)
    }

    /// The listing shard of a root resource: FNV-1a (32-bit) of the URN's bytes modulo
    /// [`ROOT_SHARDS`](super::ROOT_SHARDS).
    pub fn root_shard(urn: &str) -> u32 {
        let mut h: u32 = 0x811c_9dc5;
        for b in urn.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        h % super::ROOT_SHARDS
    }

    /// `GSI1PK` of one shard of a root type's listing: `roots#{typePrefix}{shard}`, the type
    /// prefix being `urn:{domain}:{resourceType}::` (so `roots#urn:pp:System.Account::3`).
    pub fn roots_pk(type_prefix: &str, shard: u32) -> String {
        format!("{}{type_prefix}{shard}", super::ROOTS_PREFIX)
    }

    /// `GSI1PK` of a root resource's listing entry (its `GSI1SK` is its URN).
    pub fn root_listing_pk(type_prefix: &str, urn: &str) -> String {
        roots_pk(type_prefix, root_shard(urn))
    }

    /// `GSI1SK` of a CollectionMembershipRelationship record: `collection#{collection}`.
    pub fn collection_sk(collection: &str) -> String {
        format!("{COLLECTION_PREFIX}{collection}")
    }
}

/// DynamoDB's limits that ddbrel checks before sending.
pub mod limits {
    /// Largest item, in bytes (400 KB).
    pub const MAX_ITEM_BYTES: usize = 400 * 1024;
    /// Largest partition key value, in bytes.
    pub const MAX_PK_BYTES: usize = 2048;
    /// Largest sort key value, in bytes.
    pub const MAX_SK_BYTES: usize = 1024;
    /// Most actions in one TransactWriteItems.
    pub const MAX_TRANSACT_ACTIONS: usize = 100;
    /// Largest TransactWriteItems request, in bytes (4 MB).
    pub const MAX_TRANSACT_BYTES: usize = 4 * 1024 * 1024;
    /// Most requests in one BatchWriteItem.
    pub const MAX_BATCH_WRITE: usize = 25;
    /// Most keys in one BatchGetItem.
    pub const MAX_BATCH_GET: usize = 100;
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("attribute_name and key_type are set")
}

fn attr_def(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute_name and attribute_type are set")
}

fn gsi(name: &str, hash: &str, range: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(range, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index_name, key_schema and projection are set")
}

/// The table's definition: `(key schema, attribute definitions, GSIs)` as the SDK takes them.
pub fn definition() -> (
    Vec<KeySchemaElement>,
    Vec<AttributeDefinition>,
    Vec<GlobalSecondaryIndex>,
) {
    (
        vec![key(PK, KeyType::Hash), key(SK, KeyType::Range)],
        vec![
            attr_def(PK),
            attr_def(SK),
            attr_def(GSI1PK),
            attr_def(GSI1SK),
            attr_def(attr::ACCOUNT_URN),
        ],
        vec![
            gsi(INVERTED_INDEX, GSI1PK, GSI1SK),
            gsi(ACCOUNT_INDEX, attr::ACCOUNT_URN, SK),
        ],
    )
}

/// How a new table is set up ([`Store::create_table_with`](crate::Store::create_table_with),
/// [`cloudformation_with`]). The default turns both on: a table
/// that is the system of record should not be one command away from gone, and DynamoDB's
/// point-in-time exports need recovery on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableOptions {
    /// DeletionProtectionEnabled: DeleteTable is refused until it is turned off.
    pub deletion_protection: bool,
    /// Point-in-time recovery (continuous backups, 35 days; needed for exports).
    pub point_in_time_recovery: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            deletion_protection: true,
            point_in_time_recovery: true,
        }
    }
}

/// The table as a CloudFormation `AWS::DynamoDB::Table` resource (on-demand billing,
/// point-in-time recovery and deletion protection on), ready to drop into a template's
/// `Resources`.
pub fn cloudformation(table_name: &str) -> serde_json::Value {
    cloudformation_with(table_name, &TableOptions::default())
}

/// [`cloudformation`] with the backup and protection settings chosen.
pub fn cloudformation_with(table_name: &str, options: &TableOptions) -> serde_json::Value {
    let key = |name: &str, t: &str| serde_json::json!({ "AttributeName": name, "KeyType": t });
    let attr = |name: &str| serde_json::json!({ "AttributeName": name, "AttributeType": "S" });
    serde_json::json!({
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [attr(PK), attr(SK), attr(GSI1PK), attr(GSI1SK), attr(attr::ACCOUNT_URN)],
            "KeySchema": [key(PK, "HASH"), key(SK, "RANGE")],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": INVERTED_INDEX,
                    "KeySchema": [key(GSI1PK, "HASH"), key(GSI1SK, "RANGE")],
                    "Projection": { "ProjectionType": "ALL" }
                },
                {
                    "IndexName": ACCOUNT_INDEX,
                    "KeySchema": [key(attr::ACCOUNT_URN, "HASH"), key(SK, "RANGE")],
                    "Projection": { "ProjectionType": "ALL" }
                }
            ],
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": options.point_in_time_recovery
            },
            "DeletionProtectionEnabled": options.deletion_protection
        }
    })
}

/// What `describe_table` says of the table.
#[derive(Debug, Clone)]
pub struct TableDescription {
    /// Table name.
    pub name: String,
    /// Status (e.g. `ACTIVE`).
    pub status: String,
    /// Approximate item count (DynamoDB updates it about every six hours).
    pub item_count: i64,
    /// Approximate size in bytes.
    pub size_bytes: i64,
    /// Index names.
    pub indexes: Vec<String>,
}
