-- I10: the _schemaVersion of a resource of a type in the type registry (EntitySchema records,
-- section 5.5) is at most the registered schemaVersion. One finding per type, key
-- "type {resourceType}". (The registered parent type and account scope, which I10 makes the
-- declaration of I2 and I5, are checked in i2_parent_relationship.sql and i5_accounts.sql.)
WITH
res AS (
  SELECT * FROM ddbrel_items WHERE type = 'Resource' AND pk_type IS NOT NULL
),
registry AS (
  SELECT reg_domain, reg_resource_type, reg_schema_version
  FROM ddbrel_items
  WHERE type = 'EntitySchema' AND reg_domain IS NOT NULL AND reg_resource_type IS NOT NULL
    AND reg_account_scoped IS NOT NULL AND reg_schema_version IS NOT NULL
)
SELECT DISTINCT 'schema' AS kind, 'I10' AS invariant, 'type ' || r.pk_type AS key,
  'resources written at a schema version newer than registered: register the types from the code that wrote them'
    AS detail
FROM res r
JOIN registry g ON g.reg_domain = r.pk_domain AND g.reg_resource_type = r.pk_type
WHERE COALESCE(r.schema_version, 0) > g.reg_schema_version
