-- Section 7, the fence: a resource carrying _deleting is a cascading delete that has not
-- finished. Fences beneath another fence are that cascade's internal nodes (contract 2) and
-- are not reported again: the finding is on the outermost fence only.
-- Same as the in-process checker (integrity/fence.rs).
WITH
res AS (
  SELECT * FROM ddbrel_items WHERE type = 'Resource' AND pk_type IS NOT NULL
),
fences AS (
  SELECT pk FROM res WHERE deleting_t IS NOT NULL
),
inner_fences AS (
  SELECT DISTINCT a.pk FROM ddbrel_ancestors a JOIN fences f ON f.pk = a.urn
)
SELECT 'unfinished-cascade' AS kind, 'fence' AS invariant, r.item_key AS key,
  'a cascading delete has not finished (deleting it again finishes it)' AS detail
FROM res r
LEFT JOIN inner_fences i ON i.pk = r.pk
WHERE r.deleting_t IS NOT NULL AND i.pk IS NULL
