-- I11: a Resource record without _parentUrn (a root) carries GSI1PK = its listing shard's key
-- (roots#{typePrefix}{shard}, from the view ddbrel_root_listing) and GSI1SK = its URN; a
-- Resource record with _parentUrn carries neither (that half is in i7_index_keys.sql).
-- Holds inside fenced subtrees too: no exemption.
SELECT 'schema' AS kind, 'I11' AS invariant, i.item_key AS key,
  'a root resource is listed as GSI1PK ' || l.gsi1pk || ', GSI1SK its URN; it has GSI1PK '
    || COALESCE(i.gsi1pk, 'none') || ', GSI1SK ' || COALESCE(i.gsi1sk, 'none') AS detail
FROM ddbrel_items i
JOIN ddbrel_root_listing l ON l.pk = i.pk
WHERE i.type = 'Resource' AND i.parent_urn_t IS NULL AND i.pk_type IS NOT NULL
  AND (COALESCE(i.gsi1pk, '') <> l.gsi1pk OR COALESCE(i.gsi1sk, '') <> i.pk)
