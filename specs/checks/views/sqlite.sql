-- ddbrel integrity checks: the flattened views on SQLite (3.38 or later: JSON functions built in).
--
-- Input: a table ddbrel_export(line TEXT) holding one line of a DynamoDB export
-- (DYNAMODB_JSON: {"Item":{"PK":{"S":"…"},…}}) per row. `ddbrel check --sql` fills it; by
-- hand: create it, load the gunzipped data files one line per row, then run this file.
-- Every view reads ddbrel_export only, so they can be created (or materialized) in any order.
-- The columns are the same in views/trino.sql and views/spark.sql; specs/checks/README.md
-- describes them.

CREATE VIEW ddbrel_items AS
SELECT
  pk, sk,
  CASE WHEN pk = sk THEN pk ELSE pk || ' / ' || sk END AS item_key,
  type,
  CASE WHEN urn_ok THEN substr(pk, 5, d_end - 1) END AS pk_domain,
  CASE WHEN urn_ok THEN substr(pk, 5 + d_end, t_end - 1) END AS pk_type,
  length(CAST(pk AS BLOB)) AS pk_bytes,
  gsi1pk, gsi1pk_t, gsi1sk, gsi1sk_t, account_urn, account_urn_t,
  resource_type, parent_urn, parent_urn_t,
  CASE WHEN p_ok THEN substr(parent_urn, 5 + pd_end, pt_end - 1) END AS parent_type,
  owner_urn, constraint_name,
  CASE WHEN m_ok THEN substr(pk, 8, m1 - 1) END AS marker_type,
  CASE WHEN m_ok THEN substr(pk, 8 + m1, m2 - 1) END AS marker_constraint,
  CASE WHEN m_ok THEN substr(pk, 8 + m1 + m2, m3 - 1) END AS marker_scope,
  conveys,
  CASE WHEN n_schema_version GLOB '[0-9]*' AND n_schema_version NOT GLOB '*[^0-9]*'
    THEN CAST(n_schema_version AS INTEGER) END AS schema_version,
  CASE WHEN ltrim(n_version, '-') GLOB '[0-9]*' AND ltrim(n_version, '-') NOT GLOB '*[^0-9]*'
    AND n_version NOT GLOB '--*' THEN CAST(n_version AS INTEGER) END AS version,
  created_at, updated_at,
  CASE WHEN ltrim(n_child_count, '-') GLOB '[0-9]*' AND ltrim(n_child_count, '-') NOT GLOB '*[^0-9]*'
    AND n_child_count NOT GLOB '--*' THEN CAST(n_child_count AS INTEGER) END AS child_count,
  child_count_t,
  CASE WHEN ltrim(n_member_count, '-') GLOB '[0-9]*' AND ltrim(n_member_count, '-') NOT GLOB '*[^0-9]*'
    AND n_member_count NOT GLOB '--*' THEN CAST(n_member_count AS INTEGER) END AS member_count,
  member_count_t,
  deleting_t, ancestors_t, unique_keys_t, member_of_t, conveying_t,
  reg_domain, reg_resource_type, reg_parent, reg_account_scoped,
  CASE WHEN n_reg_schema_version GLOB '[0-9]*' AND n_reg_schema_version NOT GLOB '*[^0-9]*'
    THEN CAST(n_reg_schema_version AS INTEGER) END AS reg_schema_version
FROM (
  SELECT *,
    -- PK = urn:{domain}:{type}::{id}
    (substr(pk, 1, 4) = 'urn:' AND d_end > 1 AND t_end > 1 AND length(pk) > 4 + d_end + t_end + 1) AS urn_ok,
    (substr(parent_urn, 1, 4) = 'urn:' AND pd_end > 1 AND pt_end > 1) AS p_ok,
    -- PK = unique#{type}#{constraint}#{scope}#{value}
    (substr(pk, 1, 7) = 'unique#' AND m1 > 1 AND m2 > 1 AND m3 > 1) AS m_ok
  FROM (
    SELECT *,
      instr(substr(pk, 5 + d_end), '::') AS t_end,
      instr(substr(parent_urn, 5 + pd_end), '::') AS pt_end,
      instr(substr(pk, 8 + m1), '#') AS m2,
      instr(substr(pk, 8 + m1 + instr(substr(pk, 8 + m1), '#')), '#') AS m3
    FROM (
      SELECT *,
        instr(substr(pk, 5), ':') AS d_end,
        instr(substr(parent_urn, 5), ':') AS pd_end,
        instr(substr(pk, 8), '#') AS m1
      FROM (
        SELECT
          json_extract(line, '$.Item.PK.S') AS pk,
          json_extract(line, '$.Item.SK.S') AS sk,
          json_extract(line, '$.Item._type.S') AS type,
          json_extract(line, '$.Item.GSI1PK.S') AS gsi1pk,
          (SELECT key FROM json_each(line, '$.Item.GSI1PK')) AS gsi1pk_t,
          json_extract(line, '$.Item.GSI1SK.S') AS gsi1sk,
          (SELECT key FROM json_each(line, '$.Item.GSI1SK')) AS gsi1sk_t,
          json_extract(line, '$.Item._accountUrn.S') AS account_urn,
          (SELECT key FROM json_each(line, '$.Item._accountUrn')) AS account_urn_t,
          json_extract(line, '$.Item._resourceType.S') AS resource_type,
          json_extract(line, '$.Item._parentUrn.S') AS parent_urn,
          (SELECT key FROM json_each(line, '$.Item._parentUrn')) AS parent_urn_t,
          json_extract(line, '$.Item._ownerUrn.S') AS owner_urn,
          json_extract(line, '$.Item._constraint.S') AS constraint_name,
          CASE json_type(line, '$.Item._conveysAuthorization.BOOL')
            WHEN 'true' THEN 1 WHEN 'false' THEN 0 END AS conveys,
          json_extract(line, '$.Item._schemaVersion.N') AS n_schema_version,
          json_extract(line, '$.Item._version.N') AS n_version,
          json_extract(line, '$.Item._createdAt.S') AS created_at,
          json_extract(line, '$.Item._updatedAt.S') AS updated_at,
          json_extract(line, '$.Item._childCount.N') AS n_child_count,
          (SELECT key FROM json_each(line, '$.Item._childCount')) AS child_count_t,
          json_extract(line, '$.Item._memberCount.N') AS n_member_count,
          (SELECT key FROM json_each(line, '$.Item._memberCount')) AS member_count_t,
          (SELECT key FROM json_each(line, '$.Item._deleting')) AS deleting_t,
          (SELECT key FROM json_each(line, '$.Item._ancestors')) AS ancestors_t,
          (SELECT key FROM json_each(line, '$.Item._uniqueKeys')) AS unique_keys_t,
          (SELECT key FROM json_each(line, '$.Item._memberOf')) AS member_of_t,
          (SELECT key FROM json_each(line, '$.Item._conveyingCollections')) AS conveying_t,
          json_extract(line, '$.Item.domain.S') AS reg_domain,
          json_extract(line, '$.Item.resourceType.S') AS reg_resource_type,
          json_extract(line, '$.Item.parent.S') AS reg_parent,
          CASE json_type(line, '$.Item.accountScoped.BOOL')
            WHEN 'true' THEN 1 WHEN 'false' THEN 0 END AS reg_account_scoped,
          json_extract(line, '$.Item.schemaVersion.N') AS n_reg_schema_version
        FROM ddbrel_export
      )
    )
  )
)
WHERE typeof(pk) = 'text' AND pk <> '' AND typeof(sk) = 'text' AND sk <> '';

-- One row per element of a Resource record's string sets and of its _ancestors list.

CREATE VIEW ddbrel_unique_keys AS
SELECT json_extract(line, '$.Item.PK.S') AS pk, e.value AS key
FROM ddbrel_export, json_each(line, '$.Item._uniqueKeys.SS') AS e
WHERE json_extract(line, '$.Item._type.S') = 'Resource';

CREATE VIEW ddbrel_member_of AS
SELECT json_extract(line, '$.Item.PK.S') AS pk, e.value AS collection
FROM ddbrel_export, json_each(line, '$.Item._memberOf.SS') AS e
WHERE json_extract(line, '$.Item._type.S') = 'Resource';

CREATE VIEW ddbrel_conveying AS
SELECT json_extract(line, '$.Item.PK.S') AS pk, e.value AS collection
FROM ddbrel_export, json_each(line, '$.Item._conveyingCollections.SS') AS e
WHERE json_extract(line, '$.Item._type.S') = 'Resource';

-- pos counts the S elements from 0, root first (other elements are layout findings).
CREATE VIEW ddbrel_ancestors AS
SELECT json_extract(line, '$.Item.PK.S') AS pk,
  row_number() OVER (PARTITION BY ddbrel_export.rowid ORDER BY e.key) - 1 AS pos,
  json_extract(e.value, '$.S') AS urn
FROM ddbrel_export, json_each(line, '$.Item._ancestors.L') AS e
WHERE json_extract(line, '$.Item._type.S') = 'Resource'
  AND json_extract(e.value, '$.S') IS NOT NULL;

-- The InvertedIndex listing key of each root resource (a Resource record without _parentUrn):
-- roots#{typePrefix}{shard}, shard = FNV-1a (32-bit) of the URN's bytes modulo 8 (SCHEMA.md
-- section 5.1). URNs are ASCII, so unicode() of a character is its byte; XOR is
-- (a | b) - (a & b).
CREATE VIEW ddbrel_root_listing AS
WITH RECURSIVE
roots(pk, prefix) AS (
  SELECT pk, substr(pk, 1, 4 + d_end + instr(substr(pk, 5 + d_end), '::') + 1)
  FROM (
    SELECT json_extract(line, '$.Item.PK.S') AS pk,
      instr(substr(json_extract(line, '$.Item.PK.S'), 5), ':') AS d_end
    FROM ddbrel_export
    WHERE json_extract(line, '$.Item._type.S') = 'Resource'
      AND json_type(line, '$.Item._parentUrn') IS NULL
      AND substr(json_extract(line, '$.Item.PK.S'), 1, 4) = 'urn:'
  )
  WHERE d_end > 1 AND instr(substr(pk, 5 + d_end), '::') > 1
),
fnv(pk, prefix, i, h) AS (
  SELECT pk, prefix, 0, 2166136261 FROM roots
  UNION ALL
  SELECT pk, prefix, i + 1,
    (((h | unicode(substr(pk, i + 1, 1))) - (h & unicode(substr(pk, i + 1, 1)))) * 16777619)
      % 4294967296
  FROM fnv WHERE i < length(pk)
)
SELECT pk, 'roots#' || prefix || (h % 8) AS gsi1pk
FROM fnv WHERE i = length(pk);

-- The parent types a registered type allows (SCHEMA.md section 5.5): each element of
-- `parents` when the record has it, else its `parent` (none for a root type).
CREATE VIEW ddbrel_registry_parents AS
SELECT json_extract(line, '$.Item.domain.S') AS reg_domain,
  json_extract(line, '$.Item.resourceType.S') AS reg_resource_type,
  json_extract(e.value, '$.S') AS parent_type
FROM ddbrel_export, json_each(line, '$.Item.parents.L') AS e
WHERE json_extract(line, '$.Item._type.S') = 'EntitySchema'
  AND json_extract(e.value, '$.S') IS NOT NULL
UNION ALL
SELECT json_extract(line, '$.Item.domain.S'), json_extract(line, '$.Item.resourceType.S'),
  json_extract(line, '$.Item.parent.S')
FROM ddbrel_export
WHERE json_extract(line, '$.Item._type.S') = 'EntitySchema'
  AND json_type(line, '$.Item.parents') IS NULL
  AND json_extract(line, '$.Item.parent.S') IS NOT NULL;
