-- I6: _memberOf is exactly the set of collections with a CollectionMembershipRelationship for
-- the member; _conveyingCollections is exactly the subset whose records have
-- _conveysAuthorization = true (and so within _memberOf). One finding per resource and
-- direction (listed without a record, or a record not listed).
-- Fence exemption (sections 7 and 9): a resource in a fenced subtree is not compared with the
-- records; a _conveyingCollections element missing from _memberOf is reported everywhere.
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
mem AS (
  SELECT pk AS collection, substr(sk, 8) AS member, COALESCE(conveys, 0) AS conveys
  FROM ddbrel_items
  WHERE type = 'CollectionMembershipRelationship' AND pk_type IS NOT NULL
    AND substr(sk, 1, 11) = 'member#urn:'
),
member_of AS (
  SELECT m.pk, m.collection FROM ddbrel_member_of m JOIN res r ON r.pk = m.pk
),
conveying AS (
  SELECT c.pk, c.collection FROM ddbrel_conveying c JOIN res r ON r.pk = c.pk
),
conveying_records AS (
  SELECT member, collection FROM mem WHERE conveys = 1
),
stray AS (
  SELECT DISTINCT c.pk FROM conveying c
  LEFT JOIN member_of m ON m.pk = c.pk AND m.collection = c.collection
  WHERE m.pk IS NULL
),
listed_without_record AS (
  SELECT DISTINCT l.pk FROM member_of l
  LEFT JOIN mem ON mem.member = l.pk AND mem.collection = l.collection
  WHERE mem.member IS NULL
),
record_not_listed AS (
  SELECT DISTINCT mem.member AS pk FROM mem
  LEFT JOIN member_of l ON l.pk = mem.member AND l.collection = mem.collection
  WHERE l.pk IS NULL
),
conveying_without_record AS (
  SELECT DISTINCT l.pk FROM conveying l
  LEFT JOIN conveying_records c ON c.member = l.pk AND c.collection = l.collection
  WHERE c.member IS NULL
),
conveying_not_listed AS (
  SELECT DISTINCT c.member AS pk FROM conveying_records c
  LEFT JOIN conveying l ON l.pk = c.member AND l.collection = c.collection
  WHERE l.pk IS NULL
),
problems AS (
  SELECT pk, 'always' AS scope, '_conveyingCollections are not in _memberOf' AS detail
  FROM stray
  UNION ALL
  SELECT pk, 'unfenced', '_memberOf lists collections without membership records'
  FROM listed_without_record
  UNION ALL
  SELECT pk, 'unfenced', '_memberOf lacks collections although there are membership records'
  FROM record_not_listed
  UNION ALL
  SELECT pk, 'unfenced',
    '_conveyingCollections lists collections without memberships with _conveysAuthorization = true'
  FROM conveying_without_record
  UNION ALL
  SELECT pk, 'unfenced',
    '_conveyingCollections lacks collections although there are memberships with _conveysAuthorization = true'
  FROM conveying_not_listed
)
SELECT 'membership-mismatch' AS kind, 'I6' AS invariant, r.item_key AS key, p.detail
FROM problems p
JOIN res r ON r.pk = p.pk
LEFT JOIN fenced f ON f.pk = r.pk
WHERE p.scope = 'always' OR f.pk IS NULL
