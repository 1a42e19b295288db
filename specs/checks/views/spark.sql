-- ddbrel integrity checks: the flattened views on Spark SQL (3.4 or later).
-- Written against the documented syntax of Spark SQL; NOT run by ddbrel's tests (only the
-- SQLite views are). Same columns as views/sqlite.sql (see specs/checks/README.md).
--
-- Input: a table ddbrel_export with one column `Item` (the export line's "Item"), over the
-- data files of a DynamoDB export (DYNAMODB_JSON; .json.gz is read as is). Create it with an
-- explicit schema (schema inference would drop attributes no item holds), edit LOCATION (the
-- export's data/ folder), then run the views below, then the checks. An attribute holds a
-- struct of the type descriptors the checks read (S, N, BOOL, NULL, SS, L); one of another
-- type (M, B, NS, BS) reads as type 'other'. The views are temporary (session) views, so
-- they need no metastore.
--
--   CREATE TABLE ddbrel_export (
--     Item STRUCT<
--     `PK`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `SK`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `GSI1PK`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `GSI1SK`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_type`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_schemaVersion`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_createdAt`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_resourceType`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_version`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_updatedAt`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_accountUrn`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_parentUrn`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_ancestors`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_uniqueKeys`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_memberOf`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_conveyingCollections`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_childCount`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_memberCount`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_deleting`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_ownerUrn`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_constraint`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `_conveysAuthorization`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `domain`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `resourceType`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `parent`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `parents`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `accountScoped`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>,
--     `schemaVersion`: STRUCT<S: STRING, N: STRING, `BOOL`: BOOLEAN, `NULL`: BOOLEAN, SS: ARRAY<STRING>, L: ARRAY<STRUCT<S: STRING>>>
--     >
--   )
--   USING json
--   LOCATION 's3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/data/';

CREATE OR REPLACE TEMPORARY VIEW ddbrel_items AS
SELECT
  pk, sk,
  CASE WHEN pk = sk THEN pk ELSE pk || ' / ' || sk END AS item_key,
  type,
  CASE WHEN pk RLIKE '^urn:[^:]+:[^:]+::.+$' THEN regexp_extract(pk, '^urn:([^:]+):', 1) END
    AS pk_domain,
  CASE WHEN pk RLIKE '^urn:[^:]+:[^:]+::.+$' THEN regexp_extract(pk, '^urn:[^:]+:([^:]+)::', 1) END
    AS pk_type,
  octet_length(pk) AS pk_bytes,
  gsi1pk, gsi1pk_t, gsi1sk, gsi1sk_t, account_urn, account_urn_t,
  resource_type, parent_urn, parent_urn_t,
  CASE WHEN parent_urn RLIKE '^urn:[^:]+:[^:]+::' THEN regexp_extract(parent_urn, '^urn:[^:]+:([^:]+)::', 1) END
    AS parent_type,
  owner_urn, constraint_name,
  CASE WHEN m_ok THEN element_at(parts, 2) END AS marker_type,
  CASE WHEN m_ok THEN element_at(parts, 3) END AS marker_constraint,
  CASE WHEN m_ok THEN element_at(parts, 4) END AS marker_scope,
  conveys, schema_version, version, created_at, updated_at,
  child_count, child_count_t, member_count, member_count_t,
  deleting_t, ancestors_t, unique_keys_t, member_of_t, conveying_t,
  reg_domain, reg_resource_type, reg_parent, reg_account_scoped, reg_schema_version
FROM (
  SELECT *,
    -- PK = unique#{type}#{constraint}#{scope}#{value}, the first three parts not empty
    substr(pk, 1, 7) = 'unique#' AND size(parts) >= 5
      AND element_at(parts, 2) <> '' AND element_at(parts, 3) <> ''
      AND element_at(parts, 4) <> '' AS m_ok
  FROM (
    SELECT *, split(pk, '#', -1) AS parts
    FROM (
      SELECT
        Item.`PK`.S AS pk,
        Item.`SK`.S AS sk,
        Item.`_type`.S AS type,
        Item.`GSI1PK`.S AS gsi1pk,
        CASE WHEN Item.`GSI1PK` IS NULL THEN NULL WHEN Item.`GSI1PK`.S IS NOT NULL THEN 'S' WHEN Item.`GSI1PK`.N IS NOT NULL THEN 'N' WHEN Item.`GSI1PK`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`GSI1PK`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`GSI1PK`.SS IS NOT NULL THEN 'SS' WHEN Item.`GSI1PK`.L IS NOT NULL THEN 'L' ELSE 'other' END AS gsi1pk_t,
        Item.`GSI1SK`.S AS gsi1sk,
        CASE WHEN Item.`GSI1SK` IS NULL THEN NULL WHEN Item.`GSI1SK`.S IS NOT NULL THEN 'S' WHEN Item.`GSI1SK`.N IS NOT NULL THEN 'N' WHEN Item.`GSI1SK`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`GSI1SK`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`GSI1SK`.SS IS NOT NULL THEN 'SS' WHEN Item.`GSI1SK`.L IS NOT NULL THEN 'L' ELSE 'other' END AS gsi1sk_t,
        Item.`_accountUrn`.S AS account_urn,
        CASE WHEN Item.`_accountUrn` IS NULL THEN NULL WHEN Item.`_accountUrn`.S IS NOT NULL THEN 'S' WHEN Item.`_accountUrn`.N IS NOT NULL THEN 'N' WHEN Item.`_accountUrn`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_accountUrn`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_accountUrn`.SS IS NOT NULL THEN 'SS' WHEN Item.`_accountUrn`.L IS NOT NULL THEN 'L' ELSE 'other' END AS account_urn_t,
        Item.`_resourceType`.S AS resource_type,
        Item.`_parentUrn`.S AS parent_urn,
        CASE WHEN Item.`_parentUrn` IS NULL THEN NULL WHEN Item.`_parentUrn`.S IS NOT NULL THEN 'S' WHEN Item.`_parentUrn`.N IS NOT NULL THEN 'N' WHEN Item.`_parentUrn`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_parentUrn`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_parentUrn`.SS IS NOT NULL THEN 'SS' WHEN Item.`_parentUrn`.L IS NOT NULL THEN 'L' ELSE 'other' END AS parent_urn_t,
        Item.`_ownerUrn`.S AS owner_urn,
        Item.`_constraint`.S AS constraint_name,
        CASE WHEN Item.`_conveysAuthorization`.`BOOL` THEN 1 WHEN NOT Item.`_conveysAuthorization`.`BOOL` THEN 0 END AS conveys,
        CASE WHEN Item.`_schemaVersion`.N RLIKE '^[0-9]+$' THEN TRY_CAST(Item.`_schemaVersion`.N AS BIGINT) END AS schema_version,
        CASE WHEN Item.`_version`.N RLIKE '^-?[0-9]+$' THEN TRY_CAST(Item.`_version`.N AS BIGINT) END AS version,
        Item.`_createdAt`.S AS created_at,
        Item.`_updatedAt`.S AS updated_at,
        CASE WHEN Item.`_childCount`.N RLIKE '^-?[0-9]+$' THEN TRY_CAST(Item.`_childCount`.N AS BIGINT) END AS child_count,
        CASE WHEN Item.`_childCount` IS NULL THEN NULL WHEN Item.`_childCount`.S IS NOT NULL THEN 'S' WHEN Item.`_childCount`.N IS NOT NULL THEN 'N' WHEN Item.`_childCount`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_childCount`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_childCount`.SS IS NOT NULL THEN 'SS' WHEN Item.`_childCount`.L IS NOT NULL THEN 'L' ELSE 'other' END AS child_count_t,
        CASE WHEN Item.`_memberCount`.N RLIKE '^-?[0-9]+$' THEN TRY_CAST(Item.`_memberCount`.N AS BIGINT) END AS member_count,
        CASE WHEN Item.`_memberCount` IS NULL THEN NULL WHEN Item.`_memberCount`.S IS NOT NULL THEN 'S' WHEN Item.`_memberCount`.N IS NOT NULL THEN 'N' WHEN Item.`_memberCount`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_memberCount`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_memberCount`.SS IS NOT NULL THEN 'SS' WHEN Item.`_memberCount`.L IS NOT NULL THEN 'L' ELSE 'other' END AS member_count_t,
        CASE WHEN Item.`_deleting` IS NULL THEN NULL WHEN Item.`_deleting`.S IS NOT NULL THEN 'S' WHEN Item.`_deleting`.N IS NOT NULL THEN 'N' WHEN Item.`_deleting`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_deleting`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_deleting`.SS IS NOT NULL THEN 'SS' WHEN Item.`_deleting`.L IS NOT NULL THEN 'L' ELSE 'other' END AS deleting_t,
        CASE WHEN Item.`_ancestors` IS NULL THEN NULL WHEN Item.`_ancestors`.S IS NOT NULL THEN 'S' WHEN Item.`_ancestors`.N IS NOT NULL THEN 'N' WHEN Item.`_ancestors`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_ancestors`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_ancestors`.SS IS NOT NULL THEN 'SS' WHEN Item.`_ancestors`.L IS NOT NULL THEN 'L' ELSE 'other' END AS ancestors_t,
        CASE WHEN Item.`_uniqueKeys` IS NULL THEN NULL WHEN Item.`_uniqueKeys`.S IS NOT NULL THEN 'S' WHEN Item.`_uniqueKeys`.N IS NOT NULL THEN 'N' WHEN Item.`_uniqueKeys`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_uniqueKeys`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_uniqueKeys`.SS IS NOT NULL THEN 'SS' WHEN Item.`_uniqueKeys`.L IS NOT NULL THEN 'L' ELSE 'other' END AS unique_keys_t,
        CASE WHEN Item.`_memberOf` IS NULL THEN NULL WHEN Item.`_memberOf`.S IS NOT NULL THEN 'S' WHEN Item.`_memberOf`.N IS NOT NULL THEN 'N' WHEN Item.`_memberOf`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_memberOf`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_memberOf`.SS IS NOT NULL THEN 'SS' WHEN Item.`_memberOf`.L IS NOT NULL THEN 'L' ELSE 'other' END AS member_of_t,
        CASE WHEN Item.`_conveyingCollections` IS NULL THEN NULL WHEN Item.`_conveyingCollections`.S IS NOT NULL THEN 'S' WHEN Item.`_conveyingCollections`.N IS NOT NULL THEN 'N' WHEN Item.`_conveyingCollections`.`BOOL` IS NOT NULL THEN 'BOOL' WHEN Item.`_conveyingCollections`.`NULL` IS NOT NULL THEN 'NULL' WHEN Item.`_conveyingCollections`.SS IS NOT NULL THEN 'SS' WHEN Item.`_conveyingCollections`.L IS NOT NULL THEN 'L' ELSE 'other' END AS conveying_t,
        Item.`domain`.S AS reg_domain,
        Item.`resourceType`.S AS reg_resource_type,
        Item.`parent`.S AS reg_parent,
        CASE WHEN Item.`accountScoped`.`BOOL` THEN 1 WHEN NOT Item.`accountScoped`.`BOOL` THEN 0 END AS reg_account_scoped,
        CASE WHEN Item.`schemaVersion`.N RLIKE '^[0-9]+$' THEN TRY_CAST(Item.`schemaVersion`.N AS BIGINT) END AS reg_schema_version
      FROM ddbrel_export
    ) x
  ) y
) z
WHERE pk <> '' AND sk <> '';

-- One row per element of a Resource record's string sets and of its _ancestors list.

CREATE OR REPLACE TEMPORARY VIEW ddbrel_unique_keys AS
SELECT Item.`PK`.S AS pk, k AS key
FROM ddbrel_export LATERAL VIEW explode(Item.`_uniqueKeys`.SS) u AS k
WHERE Item.`_type`.S = 'Resource';

CREATE OR REPLACE TEMPORARY VIEW ddbrel_member_of AS
SELECT Item.`PK`.S AS pk, c AS collection
FROM ddbrel_export LATERAL VIEW explode(Item.`_memberOf`.SS) u AS c
WHERE Item.`_type`.S = 'Resource';

CREATE OR REPLACE TEMPORARY VIEW ddbrel_conveying AS
SELECT Item.`PK`.S AS pk, c AS collection
FROM ddbrel_export LATERAL VIEW explode(Item.`_conveyingCollections`.SS) u AS c
WHERE Item.`_type`.S = 'Resource';

-- pos counts the S elements from 0, root first (other elements are layout findings).
CREATE OR REPLACE TEMPORARY VIEW ddbrel_ancestors AS
SELECT pk, CAST(row_number() OVER (PARTITION BY pk, sk ORDER BY ord) - 1 AS BIGINT) AS pos, urn
FROM (
  SELECT Item.`PK`.S AS pk, Item.`SK`.S AS sk, e.S AS urn, ord
  FROM ddbrel_export LATERAL VIEW posexplode(Item.`_ancestors`.L) u AS ord, e
  WHERE Item.`_type`.S = 'Resource' AND e.S IS NOT NULL
) x;

-- The InvertedIndex listing key of each root resource (a Resource record without _parentUrn):
-- roots#{typePrefix}{shard}, shard = FNV-1a (32-bit) of the URN's bytes modulo 8
-- (SCHEMA.md section 5.1). URNs are ASCII, so ascii() of a character is its byte; the hash
-- stays below 2^32 and its product with the prime below 2^63.
CREATE OR REPLACE TEMPORARY VIEW ddbrel_root_listing AS
SELECT pk,
  'roots#' || regexp_extract(pk, '^(urn:[^:]+:[^:]+::)', 1)
    || CAST(aggregate(sequence(1, length(pk)), CAST(2166136261 AS BIGINT),
         (h, i) -> ((h ^ CAST(ascii(substr(pk, i, 1)) AS BIGINT)) * 16777619) % 4294967296) % 8
       AS STRING) AS gsi1pk
FROM (
  SELECT Item.`PK`.S AS pk
  FROM ddbrel_export
  WHERE Item.`_type`.S = 'Resource' AND Item.`_parentUrn` IS NULL
) x
WHERE pk RLIKE '^urn:[^:]+:[^:]+::.+$';

-- The parent types a registered type allows (SCHEMA.md section 5.5): each element of
-- `parents` when the record has it, else its `parent` (none for a root type).
CREATE OR REPLACE TEMPORARY VIEW ddbrel_registry_parents AS
SELECT Item.`domain`.S AS reg_domain, Item.`resourceType`.S AS reg_resource_type, e.S AS parent_type
FROM ddbrel_export LATERAL VIEW explode(Item.`parents`.L) u AS e
WHERE Item.`_type`.S = 'EntitySchema' AND e.S IS NOT NULL
UNION ALL
SELECT Item.`domain`.S, Item.`resourceType`.S, Item.`parent`.S
FROM ddbrel_export
WHERE Item.`_type`.S = 'EntitySchema' AND Item.`parents` IS NULL AND Item.`parent`.S IS NOT NULL;
