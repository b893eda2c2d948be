-- The columns of the relations above, in their table order, with their type and comment.
SELECT a.attrelid AS relid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       col_description(a.attrelid, a.attnum) AS description
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY(CAST(:relids AS oid[])) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
