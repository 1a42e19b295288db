-- I9: _childCount is at least the number of the resource's child# records and _memberCount at
-- least the number of its member# records (absent = 0, never negative); outside a fenced
-- subtree they are equal. The in-process checker names this rule "counts".
-- Fence exemption (sections 7 and 9): a count above the records is not reported for a resource
-- in a fenced subtree (a contract-1 cascade left such counts); a count below them is reported
-- everywhere (the sweep only ever removes records).
WITH
res AS (
  SELECT * FROM ddbrel_items WHERE type = 'Resource' AND pk_type IS NOT NULL
),
fences AS (
  SELECT pk FROM res WHERE deleting_t IS NOT NULL
),
fenced AS (
  SELECT pk FROM fences
  UNION
  SELECT a.pk FROM ddbrel_ancestors a JOIN fences f ON f.pk = a.urn
),
records AS (
  SELECT pk, SUM(CASE WHEN type = 'ParentChildRelationship' THEN 1 ELSE 0 END) AS children,
    SUM(CASE WHEN type = 'CollectionMembershipRelationship' THEN 1 ELSE 0 END) AS members
  FROM ddbrel_items
  WHERE pk_type IS NOT NULL AND (
    (type = 'ParentChildRelationship' AND substr(sk, 1, 10) = 'child#urn:')
    OR (type = 'CollectionMembershipRelationship' AND substr(sk, 1, 11) = 'member#urn:'))
  GROUP BY pk
),
counted AS (
  SELECT r.item_key,
    CASE WHEN f.pk IS NULL THEN 0 ELSE 1 END AS exempt,
    CASE WHEN r.child_count_t IS NULL OR r.child_count IS NOT NULL THEN 1 ELSE 0 END
      AS child_readable,
    COALESCE(r.child_count, 0) AS child_count, COALESCE(c.children, 0) AS children,
    CASE WHEN r.member_count_t IS NULL OR r.member_count IS NOT NULL THEN 1 ELSE 0 END
      AS member_readable,
    COALESCE(r.member_count, 0) AS member_count, COALESCE(c.members, 0) AS members
  FROM res r
  LEFT JOIN records c ON c.pk = r.pk
  LEFT JOIN fenced f ON f.pk = r.pk
)
SELECT 'count-mismatch' AS kind, 'counts' AS invariant, item_key AS key,
  '_childCount is negative' AS detail
FROM ddbrel_items WHERE type = 'Resource' AND child_count < 0
UNION ALL
SELECT 'count-mismatch', 'counts', item_key, '_memberCount is negative'
FROM ddbrel_items WHERE type = 'Resource' AND member_count < 0
UNION ALL
SELECT 'count-mismatch', 'counts', item_key, '_childCount is below the child# records'
FROM counted WHERE child_readable = 1 AND child_count < children
UNION ALL
SELECT 'count-mismatch', 'counts', item_key, '_childCount is above the child# records'
FROM counted WHERE child_readable = 1 AND child_count > children AND exempt = 0
UNION ALL
SELECT 'count-mismatch', 'counts', item_key, '_memberCount is below the member# records'
FROM counted WHERE member_readable = 1 AND member_count < members
UNION ALL
SELECT 'count-mismatch', 'counts', item_key, '_memberCount is above the member# records'
FROM counted WHERE member_readable = 1 AND member_count > members AND exempt = 0
