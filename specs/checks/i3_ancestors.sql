-- I3: _ancestors = the parent's _ancestors followed by the parent's URN. On the record alone:
-- it ends with _parentUrn, repeats no URN and does not contain the resource itself; against
-- the parent (when the parent exists): equal to the parent's list plus the parent.
-- Holds inside fenced subtrees too: no exemption.
WITH
ri AS (
  SELECT i.*,
    CASE WHEN substr(i.parent_urn, 1, 4) = 'urn:' THEN i.parent_urn END AS parent
  FROM ddbrel_items i WHERE i.type = 'Resource'
),
res AS (
  SELECT * FROM ri WHERE pk_type IS NOT NULL
),
anc_len AS (
  SELECT pk, COUNT(*) AS n FROM ddbrel_ancestors GROUP BY pk
),
anc_last AS (
  SELECT a.pk, a.urn FROM ddbrel_ancestors a JOIN anc_len l ON l.pk = a.pk AND a.pos = l.n - 1
),
anc_repeats AS (
  SELECT DISTINCT pk FROM (
    SELECT pk, urn FROM ddbrel_ancestors GROUP BY pk, urn HAVING COUNT(*) > 1
  ) x
),
anc_self AS (
  SELECT DISTINCT pk FROM ddbrel_ancestors WHERE urn = pk
),
-- For a resource and its existing parent: how many leading elements agree.
anc_agree AS (
  SELECT r.pk, COUNT(*) AS n
  FROM res r
  JOIN ddbrel_ancestors ar ON ar.pk = r.pk
  JOIN ddbrel_ancestors ap ON ap.pk = r.parent AND ap.pos = ar.pos AND ap.urn = ar.urn
  GROUP BY r.pk
),
against_parent AS (
  SELECT r.item_key, r.parent,
    COALESCE(lr.n, 0) AS n_own, COALESCE(lp.n, 0) AS n_parent, COALESCE(g.n, 0) AS n_agree,
    last_r.urn AS own_last
  FROM res r
  JOIN res p ON p.pk = r.parent
  LEFT JOIN anc_len lr ON lr.pk = r.pk
  LEFT JOIN anc_len lp ON lp.pk = p.pk
  LEFT JOIN anc_agree g ON g.pk = r.pk
  LEFT JOIN anc_last last_r ON last_r.pk = r.pk
  WHERE r.ancestors_t = 'L'
)
SELECT 'ancestors' AS kind, 'I3' AS invariant, r.item_key AS key,
  '_ancestors does not end with _parentUrn ' || r.parent AS detail
FROM ri r LEFT JOIN anc_last l ON l.pk = r.pk
WHERE r.parent IS NOT NULL AND r.ancestors_t = 'L' AND (l.urn IS NULL OR l.urn <> r.parent)
UNION ALL
SELECT 'ancestors', 'I3', r.item_key, '_ancestors repeats a URN'
FROM ri r JOIN anc_repeats x ON x.pk = r.pk
WHERE r.parent IS NOT NULL AND r.ancestors_t = 'L'
UNION ALL
SELECT 'ancestors', 'I3', r.item_key, '_ancestors contains the resource itself'
FROM res r JOIN anc_self x ON x.pk = r.pk
WHERE r.parent IS NOT NULL AND r.ancestors_t = 'L'
UNION ALL
SELECT 'ancestors', 'I3', item_key,
  '_ancestors is not the _ancestors of the parent followed by the parent ' || parent
FROM against_parent
WHERE NOT (n_own = n_parent + 1 AND n_agree = n_parent AND own_last = parent)
