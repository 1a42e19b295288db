-- I5: _accountUrn of every account-scoped resource equals the URN of its account (the
-- parent's _accountUrn, or the parent's URN when the parent has none), and is one of its
-- _ancestors; only resources with a parent carry it, never the resource itself; no other
-- record has _accountUrn. The resources of one type agree on carrying it (one finding per
-- type, key "type {resourceType}"), and carry it exactly when the type registry says the type
-- is account-scoped.
-- Holds inside fenced subtrees too: no exemption.
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
in_ancestors AS (
  SELECT DISTINCT r.pk FROM res r JOIN ddbrel_ancestors a ON a.pk = r.pk AND a.urn = r.account
),
typed AS (
  SELECT pk_type,
    SUM(CASE WHEN account IS NULL THEN 0 ELSE 1 END) AS with_account,
    SUM(CASE WHEN account IS NULL THEN 1 ELSE 0 END) AS without_account
  FROM res GROUP BY pk_type
),
registry AS (
  SELECT reg_domain, reg_resource_type, reg_account_scoped
  FROM ddbrel_items
  WHERE type = 'EntitySchema' AND reg_domain IS NOT NULL AND reg_resource_type IS NOT NULL
    AND reg_account_scoped IS NOT NULL AND reg_schema_version IS NOT NULL
)
SELECT 'account-mismatch' AS kind, 'I5' AS invariant, item_key AS key,
  'has _accountUrn but no parent (an account-scoped type declares a parent)' AS detail
FROM ri WHERE account IS NOT NULL AND parent_urn_t IS NULL
UNION ALL
SELECT 'account-mismatch', 'I5', item_key, '_accountUrn is the resource itself'
FROM ri WHERE account IS NOT NULL AND pk_type IS NOT NULL AND account = pk
UNION ALL
SELECT 'account-mismatch', 'I5', item_key, 'a relationship record carries _accountUrn'
FROM ddbrel_items
WHERE type IN ('ParentChildRelationship', 'CollectionMembershipRelationship')
  AND account_urn_t IS NOT NULL
UNION ALL
SELECT 'account-mismatch', 'I5', item_key, 'a UniqueKeyValue record carries _accountUrn'
FROM ddbrel_items WHERE type = 'UniqueKeyValue' AND account_urn_t IS NOT NULL
UNION ALL
SELECT 'account-mismatch', 'I5', item_key, 'an EntitySchema record carries _accountUrn'
FROM ddbrel_items WHERE type = 'EntitySchema' AND account_urn_t IS NOT NULL
UNION ALL
-- Against the parent.
SELECT 'account-mismatch', 'I5', r.item_key,
  '_accountUrn is ' || r.account || ', expected ' || COALESCE(p.account, p.pk)
FROM res r JOIN res p ON p.pk = r.parent
WHERE r.account IS NOT NULL AND r.account <> COALESCE(p.account, p.pk)
UNION ALL
SELECT 'account-mismatch', 'I5', r.item_key,
  '_accountUrn ' || r.account || ' is not one of its _ancestors'
FROM res r LEFT JOIN in_ancestors a ON a.pk = r.pk
WHERE r.account IS NOT NULL AND r.parent IS NOT NULL AND a.pk IS NULL
UNION ALL
SELECT 'account-mismatch', 'I5', 'type ' || pk_type,
  'some resources have _accountUrn, others none'
FROM typed WHERE with_account > 0 AND without_account > 0
UNION ALL
SELECT DISTINCT 'account-mismatch', 'I5', 'type ' || r.pk_type,
  'carrying _accountUrn differs from the registered declaration'
FROM res r
JOIN registry g ON g.reg_domain = r.pk_domain AND g.reg_resource_type = r.pk_type
WHERE (CASE WHEN r.account IS NULL THEN 0 ELSE 1 END) <> g.reg_account_scoped
