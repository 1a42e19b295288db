-- I1: no relationship record has a missing end. Both URNs of every ParentChildRelationship
-- (PK, SK after child#) and CollectionMembershipRelationship (PK, SK after member#) name
-- existing Resource records.
-- Fence exemption (sections 7 and 9): not reported for a parent-child record whose parent is
-- in a fenced subtree (the parent, or one of its _ancestors, carries _deleting), or whose
-- parent is gone and whose child has a fenced ancestor; nor for a membership record whose
-- collection is in a fenced subtree.
WITH
res AS (
  SELECT * FROM ddbrel_items WHERE type = 'Resource' AND pk_type IS NOT NULL
),
fences AS (
  SELECT pk FROM res WHERE deleting_t IS NOT NULL
),
below_fence AS (
  SELECT DISTINCT a.pk FROM ddbrel_ancestors a JOIN fences f ON f.pk = a.urn
),
fenced AS (
  SELECT pk FROM fences UNION SELECT pk FROM below_fence
),
pc AS (
  SELECT item_key, pk AS parent, substr(sk, 7) AS child
  FROM ddbrel_items
  WHERE type = 'ParentChildRelationship' AND pk_type IS NOT NULL
    AND substr(sk, 1, 10) = 'child#urn:'
),
mem AS (
  SELECT item_key, pk AS collection, substr(sk, 8) AS member
  FROM ddbrel_items
  WHERE type = 'CollectionMembershipRelationship' AND pk_type IS NOT NULL
    AND substr(sk, 1, 11) = 'member#urn:'
),
pcx AS (
  SELECT pc.item_key, pc.parent, pc.child,
    CASE WHEN p.pk IS NULL THEN 0 ELSE 1 END AS parent_exists,
    CASE WHEN c.pk IS NULL THEN 0 ELSE 1 END AS child_exists,
    CASE
      WHEN p.pk IS NOT NULL AND pf.pk IS NOT NULL THEN 1
      WHEN p.pk IS NULL AND c.pk IS NOT NULL AND cb.pk IS NOT NULL THEN 1
      ELSE 0
    END AS exempt
  FROM pc
  LEFT JOIN res p ON p.pk = pc.parent
  LEFT JOIN res c ON c.pk = pc.child
  LEFT JOIN fenced pf ON pf.pk = pc.parent
  LEFT JOIN below_fence cb ON cb.pk = pc.child
),
memx AS (
  SELECT mem.item_key, mem.collection, mem.member,
    CASE WHEN c.pk IS NULL THEN 0 ELSE 1 END AS collection_exists,
    CASE WHEN m.pk IS NULL THEN 0 ELSE 1 END AS member_exists,
    CASE WHEN c.pk IS NOT NULL AND cf.pk IS NOT NULL THEN 1 ELSE 0 END AS exempt
  FROM mem
  LEFT JOIN res c ON c.pk = mem.collection
  LEFT JOIN res m ON m.pk = mem.member
  LEFT JOIN fenced cf ON cf.pk = mem.collection
)
SELECT 'orphaned-relationship' AS kind, 'I1' AS invariant, item_key AS key,
  'its parent ' || parent || ' does not exist' AS detail
FROM pcx WHERE parent_exists = 0 AND exempt = 0
UNION ALL
SELECT 'orphaned-relationship', 'I1', item_key, 'its child ' || child || ' does not exist'
FROM pcx WHERE child_exists = 0 AND exempt = 0
UNION ALL
SELECT 'orphaned-relationship', 'I1', item_key,
  'its collection ' || collection || ' does not exist'
FROM memx WHERE collection_exists = 0 AND exempt = 0
UNION ALL
SELECT 'orphaned-relationship', 'I1', item_key, 'its member ' || member || ' does not exist'
FROM memx WHERE member_exists = 0 AND exempt = 0
