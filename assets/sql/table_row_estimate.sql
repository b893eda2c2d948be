-- The planner's row estimate (kept by ANALYZE and autovacuum; -1 when never analysed), read in O(1).
SELECT c.reltuples::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relname = :table
