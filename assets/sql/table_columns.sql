-- The columns of one table, in order, with their type and nullability (for dagster/column_schema).
SELECT c.column_name, c.data_type, c.udt_name, c.is_nullable = 'YES' AS nullable,
       col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) AS comment
FROM information_schema.columns c
WHERE c.table_schema = :schema AND c.table_name = :table
ORDER BY c.ordinal_position
