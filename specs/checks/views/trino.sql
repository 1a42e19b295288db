-- ddbrel integrity checks: the flattened views on Amazon Athena (engine version 3) and Trino.
-- Written against the documented syntax of those engines; NOT run by ddbrel's tests (only the
-- SQLite views are). Same columns as views/sqlite.sql (see specs/checks/README.md).
--
-- Input: a table ddbrel_export with one column `item` (the export line's "Item"), over the
-- data files of a DynamoDB export (DYNAMODB_JSON; gzip is read as is). In Athena, create it
-- once per export with this DDL (edit LOCATION: the export's data/ folder), then run the
-- CREATE VIEW statements below, then the checks. An attribute holds a struct of the type
-- descriptors the checks read (S, N, BOOL, NULL, SS, L); one of another type (M, B, NS, BS)
-- reads as type 'other'.
--
--   CREATE EXTERNAL TABLE ddbrel_export (
--     item struct<
--     `PK`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `SK`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `GSI1PK`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `GSI1SK`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_type`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_schemaVersion`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_createdAt`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_resourceType`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_version`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_updatedAt`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_accountUrn`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_parentUrn`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_ancestors`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_uniqueKeys`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_memberOf`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_conveyingCollections`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_childCount`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_memberCount`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_deleting`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_ownerUrn`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_constraint`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `_conveysAuthorization`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `domain`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `resourceType`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `parent`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `parents`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `accountScoped`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>,
--     `schemaVersion`: struct<S:string, N:string, `BOOL`:boolean, `NULL`:boolean, SS:array<string>, L:array<struct<S:string>>>
--     >
--   )
--   ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
--   LOCATION 's3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/data/';
--
-- On Trino with the Hive connector, the same table is
--   CREATE TABLE ddbrel_export (item ROW(...the same fields...))
--   WITH (format = 'JSON', external_location = 's3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/data/');

CREATE OR REPLACE VIEW ddbrel_items AS
SELECT
  pk, sk,
  CASE WHEN pk = sk THEN pk ELSE pk || ' / ' || sk END AS item_key,
  type,
  CASE WHEN regexp_like(pk, '^urn:[^:]+:[^:]+::.+$') THEN regexp_extract(pk, '^urn:([^:]+):', 1) END
    AS pk_domain,
  CASE WHEN regexp_like(pk, '^urn:[^:]+:[^:]+::.+$') THEN regexp_extract(pk, '^urn:[^:]+:([^:]+)::', 1) END
    AS pk_type,
  length(to_utf8(pk)) AS pk_bytes,
  gsi1pk, gsi1pk_t, gsi1sk, gsi1sk_t, account_urn, account_urn_t,
  resource_type, parent_urn, parent_urn_t,
  CASE WHEN regexp_like(parent_urn, '^urn:[^:]+:[^:]+::') THEN regexp_extract(parent_urn, '^urn:[^:]+:([^:]+)::', 1) END
    AS parent_type,
  owner_urn, constraint_name,
  CASE WHEN m_ok THEN split_part(pk, '#', 2) END AS marker_type,
  CASE WHEN m_ok THEN split_part(pk, '#', 3) END AS marker_constraint,
  CASE WHEN m_ok THEN split_part(pk, '#', 4) END AS marker_scope,
  conveys, schema_version, version, created_at, updated_at,
  child_count, child_count_t, member_count, member_count_t,
  deleting_t, ancestors_t, unique_keys_t, member_of_t, conveying_t,
  reg_domain, reg_resource_type, reg_parent, reg_account_scoped, reg_schema_version
FROM (
  SELECT *,
    -- PK = unique#{type}#{constraint}#{scope}#{value}, the first three parts not empty
    substr(pk, 1, 7) = 'unique#' AND cardinality(split(pk, '#')) >= 5
      AND split_part(pk, '#', 2) <> '' AND split_part(pk, '#', 3) <> ''
      AND split_part(pk, '#', 4) <> '' AS m_ok
  FROM (
    SELECT
      item."pk".s AS pk,
      item."sk".s AS sk,
      item."_type".s AS type,
      item."gsi1pk".s AS gsi1pk,
      CASE WHEN item."gsi1pk" IS NULL THEN NULL WHEN item."gsi1pk".s IS NOT NULL THEN 'S' WHEN item."gsi1pk".n IS NOT NULL THEN 'N' WHEN item."gsi1pk"."bool" IS NOT NULL THEN 'BOOL' WHEN item."gsi1pk"."null" IS NOT NULL THEN 'NULL' WHEN item."gsi1pk".ss IS NOT NULL THEN 'SS' WHEN item."gsi1pk".l IS NOT NULL THEN 'L' ELSE 'other' END AS gsi1pk_t,
      item."gsi1sk".s AS gsi1sk,
      CASE WHEN item."gsi1sk" IS NULL THEN NULL WHEN item."gsi1sk".s IS NOT NULL THEN 'S' WHEN item."gsi1sk".n IS NOT NULL THEN 'N' WHEN item."gsi1sk"."bool" IS NOT NULL THEN 'BOOL' WHEN item."gsi1sk"."null" IS NOT NULL THEN 'NULL' WHEN item."gsi1sk".ss IS NOT NULL THEN 'SS' WHEN item."gsi1sk".l IS NOT NULL THEN 'L' ELSE 'other' END AS gsi1sk_t,
      item."_accounturn".s AS account_urn,
      CASE WHEN item."_accounturn" IS NULL THEN NULL WHEN item."_accounturn".s IS NOT NULL THEN 'S' WHEN item."_accounturn".n IS NOT NULL THEN 'N' WHEN item."_accounturn"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_accounturn"."null" IS NOT NULL THEN 'NULL' WHEN item."_accounturn".ss IS NOT NULL THEN 'SS' WHEN item."_accounturn".l IS NOT NULL THEN 'L' ELSE 'other' END AS account_urn_t,
      item."_resourcetype".s AS resource_type,
      item."_parenturn".s AS parent_urn,
      CASE WHEN item."_parenturn" IS NULL THEN NULL WHEN item."_parenturn".s IS NOT NULL THEN 'S' WHEN item."_parenturn".n IS NOT NULL THEN 'N' WHEN item."_parenturn"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_parenturn"."null" IS NOT NULL THEN 'NULL' WHEN item."_parenturn".ss IS NOT NULL THEN 'SS' WHEN item."_parenturn".l IS NOT NULL THEN 'L' ELSE 'other' END AS parent_urn_t,
      item."_ownerurn".s AS owner_urn,
      item."_constraint".s AS constraint_name,
      CASE WHEN item."_conveysauthorization"."bool" THEN 1 WHEN NOT item."_conveysauthorization"."bool" THEN 0 END AS conveys,
      CASE WHEN regexp_like(item."_schemaversion".n, '^[0-9]+$') THEN TRY_CAST(item."_schemaversion".n AS bigint) END AS schema_version,
      CASE WHEN regexp_like(item."_version".n, '^-?[0-9]+$') THEN TRY_CAST(item."_version".n AS bigint) END AS version,
      item."_createdat".s AS created_at,
      item."_updatedat".s AS updated_at,
      CASE WHEN regexp_like(item."_childcount".n, '^-?[0-9]+$') THEN TRY_CAST(item."_childcount".n AS bigint) END AS child_count,
      CASE WHEN item."_childcount" IS NULL THEN NULL WHEN item."_childcount".s IS NOT NULL THEN 'S' WHEN item."_childcount".n IS NOT NULL THEN 'N' WHEN item."_childcount"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_childcount"."null" IS NOT NULL THEN 'NULL' WHEN item."_childcount".ss IS NOT NULL THEN 'SS' WHEN item."_childcount".l IS NOT NULL THEN 'L' ELSE 'other' END AS child_count_t,
      CASE WHEN regexp_like(item."_membercount".n, '^-?[0-9]+$') THEN TRY_CAST(item."_membercount".n AS bigint) END AS member_count,
      CASE WHEN item."_membercount" IS NULL THEN NULL WHEN item."_membercount".s IS NOT NULL THEN 'S' WHEN item."_membercount".n IS NOT NULL THEN 'N' WHEN item."_membercount"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_membercount"."null" IS NOT NULL THEN 'NULL' WHEN item."_membercount".ss IS NOT NULL THEN 'SS' WHEN item."_membercount".l IS NOT NULL THEN 'L' ELSE 'other' END AS member_count_t,
      CASE WHEN item."_deleting" IS NULL THEN NULL WHEN item."_deleting".s IS NOT NULL THEN 'S' WHEN item."_deleting".n IS NOT NULL THEN 'N' WHEN item."_deleting"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_deleting"."null" IS NOT NULL THEN 'NULL' WHEN item."_deleting".ss IS NOT NULL THEN 'SS' WHEN item."_deleting".l IS NOT NULL THEN 'L' ELSE 'other' END AS deleting_t,
      CASE WHEN item."_ancestors" IS NULL THEN NULL WHEN item."_ancestors".s IS NOT NULL THEN 'S' WHEN item."_ancestors".n IS NOT NULL THEN 'N' WHEN item."_ancestors"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_ancestors"."null" IS NOT NULL THEN 'NULL' WHEN item."_ancestors".ss IS NOT NULL THEN 'SS' WHEN item."_ancestors".l IS NOT NULL THEN 'L' ELSE 'other' END AS ancestors_t,
      CASE WHEN item."_uniquekeys" IS NULL THEN NULL WHEN item."_uniquekeys".s IS NOT NULL THEN 'S' WHEN item."_uniquekeys".n IS NOT NULL THEN 'N' WHEN item."_uniquekeys"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_uniquekeys"."null" IS NOT NULL THEN 'NULL' WHEN item."_uniquekeys".ss IS NOT NULL THEN 'SS' WHEN item."_uniquekeys".l IS NOT NULL THEN 'L' ELSE 'other' END AS unique_keys_t,
      CASE WHEN item."_memberof" IS NULL THEN NULL WHEN item."_memberof".s IS NOT NULL THEN 'S' WHEN item."_memberof".n IS NOT NULL THEN 'N' WHEN item."_memberof"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_memberof"."null" IS NOT NULL THEN 'NULL' WHEN item."_memberof".ss IS NOT NULL THEN 'SS' WHEN item."_memberof".l IS NOT NULL THEN 'L' ELSE 'other' END AS member_of_t,
      CASE WHEN item."_conveyingcollections" IS NULL THEN NULL WHEN item."_conveyingcollections".s IS NOT NULL THEN 'S' WHEN item."_conveyingcollections".n IS NOT NULL THEN 'N' WHEN item."_conveyingcollections"."bool" IS NOT NULL THEN 'BOOL' WHEN item."_conveyingcollections"."null" IS NOT NULL THEN 'NULL' WHEN item."_conveyingcollections".ss IS NOT NULL THEN 'SS' WHEN item."_conveyingcollections".l IS NOT NULL THEN 'L' ELSE 'other' END AS conveying_t,
      item."domain".s AS reg_domain,
      item."resourcetype".s AS reg_resource_type,
      item."parent".s AS reg_parent,
      CASE WHEN item."accountscoped"."bool" THEN 1 WHEN NOT item."accountscoped"."bool" THEN 0 END AS reg_account_scoped,
      CASE WHEN regexp_like(item."schemaversion".n, '^[0-9]+$') THEN TRY_CAST(item."schemaversion".n AS bigint) END AS reg_schema_version
    FROM ddbrel_export
  ) x
) y
WHERE pk <> '' AND sk <> '';

-- One row per element of a Resource record's string sets and of its _ancestors list.

CREATE OR REPLACE VIEW ddbrel_unique_keys AS
SELECT item."pk".s AS pk, u.k AS key
FROM ddbrel_export CROSS JOIN UNNEST(item."_uniquekeys".ss) AS u (k)
WHERE item."_type".s = 'Resource';

CREATE OR REPLACE VIEW ddbrel_member_of AS
SELECT item."pk".s AS pk, u.c AS collection
FROM ddbrel_export CROSS JOIN UNNEST(item."_memberof".ss) AS u (c)
WHERE item."_type".s = 'Resource';

CREATE OR REPLACE VIEW ddbrel_conveying AS
SELECT item."pk".s AS pk, u.c AS collection
FROM ddbrel_export CROSS JOIN UNNEST(item."_conveyingcollections".ss) AS u (c)
WHERE item."_type".s = 'Resource';

-- pos counts the S elements from 0, root first (other elements are layout findings). UNNEST
-- of an array of rows gives one column per field (here the one field s), then the ordinal.
CREATE OR REPLACE VIEW ddbrel_ancestors AS
SELECT pk, CAST(row_number() OVER (PARTITION BY pk, sk ORDER BY ord) - 1 AS bigint) AS pos, urn
FROM (
  SELECT item."pk".s AS pk, item."sk".s AS sk, u.s AS urn, u.ord
  FROM ddbrel_export CROSS JOIN UNNEST(item."_ancestors".l) WITH ORDINALITY AS u (s, ord)
  WHERE item."_type".s = 'Resource' AND u.s IS NOT NULL
) x;

-- The InvertedIndex listing key of each root resource (a Resource record without _parentUrn):
-- roots#{typePrefix}{shard}, shard = FNV-1a (32-bit) of the URN's bytes modulo 8 (SCHEMA.md
-- section 5.1), folded over the characters with reduce: URNs are ASCII, so codepoint() of a
-- character is its byte; the hash stays below 2^32 and its product with the prime below 2^63.
CREATE OR REPLACE VIEW ddbrel_root_listing AS
SELECT pk,
  'roots#' || split_part(pk, '::', 1) || '::'
    || CAST(reduce(sequence(1, length(pk)), BIGINT '2166136261',
         (h, i) -> (bitwise_xor(h, codepoint(CAST(substr(pk, i, 1) AS varchar(1)))) * 16777619)
           % 4294967296,
         h -> h) % 8 AS varchar) AS gsi1pk
FROM (
  SELECT item."pk".s AS pk
  FROM ddbrel_export
  WHERE item."_type".s = 'Resource' AND item."_parenturn" IS NULL
) x
WHERE regexp_like(pk, '^urn:[^:]+:[^:]+::.+$');

-- The parent types a registered type allows (SCHEMA.md section 5.5): each element of
-- `parents` when the record has it, else its `parent` (none for a root type).
CREATE OR REPLACE VIEW ddbrel_registry_parents AS
SELECT item."domain".s AS reg_domain, item."resourcetype".s AS reg_resource_type, u.s AS parent_type
FROM ddbrel_export CROSS JOIN UNNEST(item."parents".l) AS u (s)
WHERE item."_type".s = 'EntitySchema' AND u.s IS NOT NULL
UNION ALL
SELECT item."domain".s, item."resourcetype".s, item."parent".s
FROM ddbrel_export
WHERE item."_type".s = 'EntitySchema' AND item."parents" IS NULL AND item."parent".s IS NOT NULL;
