-- I2: every resource of a type with a parent has _parentUrn, _ancestors and exactly one
-- ParentChildRelationship naming it as child, with _parentUrn as parent, and the parent is of
-- one of the declared parent types. Resources of root types have none of these.
-- A type's declaration is what its resources agree on (having a parent or not; one finding per
-- type, key "type {resourceType}"), and which types its parents are is what the type registry
-- (EntitySchema records: `parents`, else `parent`) says; a type may declare several.
-- Fence exemption (sections 7 and 9): a resource in a fenced subtree (it, or one of its
-- _ancestors, carries _deleting) is not reported for a missing parent or a missing
-- ParentChildRelationship record under its parent.
WITH
ri AS (
  SELECT i.*,
    CASE WHEN substr(i.parent_urn, 1, 4) = 'urn:' THEN i.parent_urn END AS parent
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
pc AS (
  SELECT item_key, pk AS parent, substr(sk, 7) AS child
  FROM ddbrel_items
  WHERE type = 'ParentChildRelationship' AND pk_type IS NOT NULL
    AND substr(sk, 1, 10) = 'child#urn:'
),
under_parent AS (
  SELECT DISTINCT r.pk
  FROM res r JOIN pc ON pc.child = r.pk AND pc.parent = r.parent
),
typed AS (
  SELECT pk_type,
    SUM(CASE WHEN parent IS NULL THEN 0 ELSE 1 END) AS with_parent,
    SUM(CASE WHEN parent IS NULL THEN 1 ELSE 0 END) AS without_parent
  FROM res GROUP BY pk_type
),
registry AS (
  SELECT reg_domain, reg_resource_type
  FROM ddbrel_items
  WHERE type = 'EntitySchema' AND reg_domain IS NOT NULL AND reg_resource_type IS NOT NULL
    AND reg_account_scoped IS NOT NULL AND reg_schema_version IS NOT NULL
),
allowed AS (
  SELECT DISTINCT reg_domain, reg_resource_type, parent_type FROM ddbrel_registry_parents
)
-- The record alone (pass 1): _parentUrn and _ancestors together.
SELECT 'parent-relationship' AS kind, 'I2' AS invariant, item_key AS key,
  'has _parentUrn but no _ancestors' AS detail
FROM ri WHERE parent IS NOT NULL AND (ancestors_t IS NULL OR ancestors_t <> 'L')
UNION ALL
SELECT 'parent-relationship', 'I2', item_key, 'has _ancestors but no _parentUrn'
FROM ri WHERE parent IS NULL AND ancestors_t = 'L'
UNION ALL
-- A root named as a child by a ParentChildRelationship record (one finding per record).
SELECT 'parent-relationship', 'I2', r.item_key,
  'has no _parentUrn, but ParentChildRelationship ' || pc.item_key || ' names it as a child'
FROM res r JOIN pc ON pc.child = r.pk
WHERE r.parent IS NULL
UNION ALL
-- No record under its parent.
SELECT 'parent-relationship', 'I2', r.item_key,
  'no ParentChildRelationship record under its parent ' || r.parent
FROM res r
LEFT JOIN under_parent u ON u.pk = r.pk
LEFT JOIN fenced f ON f.pk = r.pk
WHERE r.parent IS NOT NULL AND u.pk IS NULL AND f.pk IS NULL
UNION ALL
-- A record naming it as the child of another parent (one finding per record).
SELECT 'parent-relationship', 'I2', r.item_key,
  'ParentChildRelationship ' || pc.item_key || ' names it as a child of ' || pc.parent
    || ', but its _parentUrn is ' || r.parent
FROM res r JOIN pc ON pc.child = r.pk
WHERE r.parent IS NOT NULL AND pc.parent <> r.parent
UNION ALL
-- Its parent does not exist.
SELECT 'parent-relationship', 'I2', r.item_key, 'its parent ' || r.parent || ' does not exist'
FROM res r
LEFT JOIN res p ON p.pk = r.parent
LEFT JOIN fenced f ON f.pk = r.pk
WHERE r.parent IS NOT NULL AND p.pk IS NULL AND f.pk IS NULL
UNION ALL
-- A ParentChildRelationship record whose existing child names another parent.
SELECT 'parent-relationship', 'I2', pc.item_key,
  'the child has _parentUrn ' || COALESCE(c.parent, 'absent') || ', not the parent of this record '
    || pc.parent
FROM pc JOIN res c ON c.pk = pc.child
WHERE c.parent IS NULL OR c.parent <> pc.parent
UNION ALL
-- The resources of one type disagree on having a parent.
SELECT 'parent-relationship', 'I2', 'type ' || pk_type,
  'some resources have a parent, others none'
FROM typed WHERE with_parent > 0 AND without_parent > 0
UNION ALL
-- I10: a registered type's resources have a parent of one of the registered parent types (none
-- for a root type); one finding per type.
SELECT DISTINCT 'parent-relationship', 'I2', 'type ' || r.pk_type,
  'the parent type is not a registered one'
FROM res r
JOIN registry g ON g.reg_domain = r.pk_domain AND g.reg_resource_type = r.pk_type
LEFT JOIN allowed a ON a.reg_domain = r.pk_domain AND a.reg_resource_type = r.pk_type
  AND a.parent_type = r.parent_type
LEFT JOIN allowed any_parent ON any_parent.reg_domain = r.pk_domain
  AND any_parent.reg_resource_type = r.pk_type
WHERE (r.parent IS NOT NULL AND a.parent_type IS NULL)
  OR (r.parent IS NULL AND any_parent.parent_type IS NOT NULL)
