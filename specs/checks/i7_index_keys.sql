-- I7: only relationship records (and root resources, I11) have GSI1PK/GSI1SK; no index key
-- attribute (GSI1PK, GSI1SK, _accountUrn) is NULL, of another type than S, or empty.
-- Holds inside fenced subtrees too: no exemption.
SELECT 'schema' AS kind, 'I7' AS invariant, item_key AS key,
  'index key GSI1PK is an empty string' AS detail
FROM ddbrel_items WHERE gsi1pk_t = 'S' AND gsi1pk = ''
UNION ALL
SELECT 'schema', 'I7', item_key, 'index key GSI1PK is ' || gsi1pk_t || ', not S'
FROM ddbrel_items WHERE gsi1pk_t <> 'S'
UNION ALL
SELECT 'schema', 'I7', item_key, 'index key GSI1SK is an empty string'
FROM ddbrel_items WHERE gsi1sk_t = 'S' AND gsi1sk = ''
UNION ALL
SELECT 'schema', 'I7', item_key, 'index key GSI1SK is ' || gsi1sk_t || ', not S'
FROM ddbrel_items WHERE gsi1sk_t <> 'S'
UNION ALL
SELECT 'schema', 'I7', item_key, 'index key _accountUrn is an empty string'
FROM ddbrel_items WHERE account_urn_t = 'S' AND account_urn = ''
UNION ALL
SELECT 'schema', 'I7', item_key, 'index key _accountUrn is ' || account_urn_t || ', not S'
FROM ddbrel_items WHERE account_urn_t <> 'S'
UNION ALL
SELECT 'schema', 'I7', item_key, 'a Resource record of a child type carries GSI1PK'
FROM ddbrel_items WHERE type = 'Resource' AND parent_urn_t IS NOT NULL AND gsi1pk_t IS NOT NULL
UNION ALL
SELECT 'schema', 'I7', item_key, 'a Resource record of a child type carries GSI1SK'
FROM ddbrel_items WHERE type = 'Resource' AND parent_urn_t IS NOT NULL AND gsi1sk_t IS NOT NULL
UNION ALL
SELECT 'schema', 'I7', item_key, 'a ' || type || ' record carries GSI1PK'
FROM ddbrel_items WHERE type IN ('UniqueKeyValue', 'EntitySchema') AND gsi1pk_t IS NOT NULL
UNION ALL
SELECT 'schema', 'I7', item_key, 'a ' || type || ' record carries GSI1SK'
FROM ddbrel_items WHERE type IN ('UniqueKeyValue', 'EntitySchema') AND gsi1sk_t IS NOT NULL
