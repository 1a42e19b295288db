-- I8: _resourceType equals the resource type of PK; PK = SK for Resource and UniqueKeyValue
-- records; _version >= 1; _createdAt <= _updatedAt (compared when both have the
-- YYYY-MM-DDTHH:MM:SS.mmmZ shape, in which text order is time order; a malformed time is a
-- layout finding, invariant "record", not an I8 one).
-- Holds inside fenced subtrees too: no exemption.
WITH
ri AS (
  SELECT i.*,
    CASE WHEN length(created_at) = 24 AND substr(created_at, 5, 1) = '-'
      AND substr(created_at, 8, 1) = '-' AND substr(created_at, 11, 1) = 'T'
      AND substr(created_at, 14, 1) = ':' AND substr(created_at, 17, 1) = ':'
      AND substr(created_at, 20, 1) = '.' AND substr(created_at, 24, 1) = 'Z'
      THEN created_at END AS created,
    CASE WHEN length(updated_at) = 24 AND substr(updated_at, 5, 1) = '-'
      AND substr(updated_at, 8, 1) = '-' AND substr(updated_at, 11, 1) = 'T'
      AND substr(updated_at, 14, 1) = ':' AND substr(updated_at, 17, 1) = ':'
      AND substr(updated_at, 20, 1) = '.' AND substr(updated_at, 24, 1) = 'Z'
      THEN updated_at END AS updated
  FROM ddbrel_items i WHERE i.type = 'Resource'
)
SELECT 'schema' AS kind, 'I8' AS invariant, item_key AS key,
  'a Resource record has PK = SK = its URN' AS detail
FROM ri WHERE pk <> sk
UNION ALL
SELECT 'schema', 'I8', item_key,
  '_resourceType ' || resource_type || ' is not the type of the URN ' || pk_type
FROM ri WHERE pk_type IS NOT NULL AND resource_type <> '' AND resource_type <> pk_type
UNION ALL
SELECT 'schema', 'I8', item_key, '_version is below 1; versions start at 1'
FROM ri WHERE version < 1
UNION ALL
SELECT 'schema', 'I8', item_key, '_createdAt ' || created || ' is after _updatedAt ' || updated
FROM ri WHERE created > updated
UNION ALL
SELECT 'schema', 'I8', item_key, 'a UniqueKeyValue record has PK = SK = its marker key'
FROM ddbrel_items WHERE type = 'UniqueKeyValue' AND pk <> sk
