-- I4: every UniqueKeyValue's _ownerUrn exists and lists that marker's key in _uniqueKeys;
-- every key in a resource's _uniqueKeys is a marker owned by that resource. Also (section 6)
-- a marker key splits as unique#{resourceType}#{constraint}#{scope}#{value}, is at most 1024
-- bytes, agrees with _constraint, is of its owner's type and scoped global or to the owner's
-- _accountUrn or _parentUrn.
-- Not checked here: that each key "equals the encoding of its current field values" (the
-- in-process checker does not check it either: it needs the Rust types).
-- Fence exemption (sections 7 and 9): a resource in a fenced subtree is not reported for a key
-- of _uniqueKeys without its marker. A marker whose owner is missing or does not list it is
-- reported everywhere (the sweep deletes markers before their owners).
WITH
ri AS (
  SELECT i.*,
    CASE WHEN substr(i.parent_urn, 1, 4) = 'urn:' THEN i.parent_urn END AS parent,
    CASE WHEN substr(i.account_urn, 1, 4) = 'urn:' THEN i.account_urn END AS account
  FROM ddbrel_items i WHERE i.type = 'Resource'
),
res AS (
  SELECT * FROM ri WHERE pk_type IS NOT NULL
),
fences AS (
  SELECT pk FROM res WHERE deleting_t IS NOT NULL
),
fenced AS (
  SELECT pk FROM fences
  UNION
  SELECT a.pk FROM ddbrel_ancestors a JOIN fences f ON f.pk = a.urn
),
listed AS (
  SELECT r.pk, r.item_key, u.key FROM res r JOIN ddbrel_unique_keys u ON u.pk = r.pk
),
listers AS (
  SELECT key, COUNT(*) AS n FROM listed GROUP BY key
),
markers AS (
  SELECT item_key, pk AS key, owner_urn AS owner, marker_type, marker_scope
  FROM ddbrel_items
  WHERE type = 'UniqueKeyValue' AND marker_type IS NOT NULL
    AND substr(owner_urn, 1, 4) = 'urn:'
),
-- Each listed key of a resource outside fenced subtrees, with its marker and other listers.
claims AS (
  SELECT l.item_key, l.pk, l.key, m.owner, c.n - 1 AS others,
    CASE WHEN h.pk IS NULL THEN 0 ELSE 1 END AS holder_claims
  FROM listed l
  JOIN listers c ON c.key = l.key
  LEFT JOIN fenced f ON f.pk = l.pk
  LEFT JOIN markers m ON m.key = l.key
  LEFT JOIN listed h ON h.pk = m.owner AND h.key = l.key
  WHERE f.pk IS NULL
),
held AS (
  SELECT m.item_key, m.key, m.owner, m.marker_type, m.marker_scope,
    o.pk AS owner_found, o.pk_type AS owner_type, o.account, o.parent,
    CASE WHEN l.pk IS NULL THEN 0 ELSE 1 END AS owner_lists
  FROM markers m
  LEFT JOIN res o ON o.pk = m.owner
  LEFT JOIN listed l ON l.pk = m.owner AND l.key = m.key
)
SELECT 'missing-marker' AS kind, 'I4' AS invariant, item_key AS key,
  '_uniqueKeys lists ' || key || ', but no such marker exists' AS detail
FROM claims WHERE owner IS NULL AND others = 0
UNION ALL
SELECT 'contested-marker', 'I4', item_key,
  '_uniqueKeys lists ' || key || ', but no such marker exists, and other resources list it too'
FROM claims WHERE owner IS NULL AND others > 0
UNION ALL
SELECT 'contested-marker', 'I4', item_key,
  '_uniqueKeys lists ' || key || ', but that marker is owned by ' || owner
FROM claims WHERE owner IS NOT NULL AND owner <> pk AND holder_claims = 1
UNION ALL
SELECT 'missing-marker', 'I4', item_key,
  '_uniqueKeys lists ' || key || ', but that marker is owned by ' || owner
FROM claims WHERE owner IS NOT NULL AND owner <> pk AND holder_claims = 0
UNION ALL
SELECT 'dangling-marker', 'I4', item_key, 'its owner ' || owner || ' does not exist'
FROM held WHERE owner_found IS NULL
UNION ALL
SELECT 'dangling-marker', 'I4', item_key,
  'its owner ' || owner || ' does not list it in _uniqueKeys'
FROM held WHERE owner_found IS NOT NULL AND owner_lists = 0
UNION ALL
SELECT 'schema', 'I4', item_key,
  'the key is of type ' || marker_type || ', its owner is a ' || owner_type
FROM held WHERE owner_found IS NOT NULL AND marker_type <> owner_type
UNION ALL
SELECT 'schema', 'I4', item_key,
  'scope ' || marker_scope || ' is neither global nor the _accountUrn or _parentUrn of the owner'
FROM held
WHERE owner_found IS NOT NULL AND marker_scope <> 'global'
  AND (account IS NULL OR account <> marker_scope)
  AND (parent IS NULL OR parent <> marker_scope)
UNION ALL
-- The marker record alone (pass 1).
SELECT 'schema', 'I4', item_key, 'marker key is over 1024 bytes'
FROM ddbrel_items WHERE type = 'UniqueKeyValue' AND pk_bytes > 1024
UNION ALL
SELECT 'schema', 'I4', item_key,
  'marker key is not unique#{resourceType}#{constraint}#{scope}#{value}'
FROM ddbrel_items WHERE type = 'UniqueKeyValue' AND marker_type IS NULL
UNION ALL
SELECT 'schema', 'I4', item_key,
  '_constraint is ' || constraint_name || ', the key says ' || marker_type || '.'
    || marker_constraint
FROM ddbrel_items
WHERE type = 'UniqueKeyValue' AND marker_type IS NOT NULL AND constraint_name <> ''
  AND constraint_name <> marker_type || '.' || marker_constraint
