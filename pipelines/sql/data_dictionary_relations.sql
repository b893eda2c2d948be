-- Every table and view of the described schemas, in schema order (as asked) then name order, with its
-- comment (null when it has none).
SELECT n.nspname AS schema, c.relname AS name, c.oid AS relid,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END AS kind,
       obj_description(c.oid, 'pg_class') AS description
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(CAST(:schemas AS text[])) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
ORDER BY array_position(CAST(:schemas AS text[]), CAST(n.nspname AS text)), c.relname
