SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS description
FROM pg_catalog.pg_namespace WHERE nspname = ANY(CAST(:schemas AS text[]))
ORDER BY array_position(CAST(:schemas AS text[]), CAST(nspname AS text))
