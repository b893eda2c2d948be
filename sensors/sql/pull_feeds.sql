-- Every enabled pulled feed with its refresh interval (minutes; :d when the feed sets none) and its last import.
SELECT s.code AS store, c.name, coalesce((c.settings->>'refresh_minutes')::int, :d) AS minutes,
       (SELECT max(started_at) FROM ops.import_runs r WHERE r.source_id = c.source_id) AS last_run
FROM ops.catalog_sources c JOIN ops.stores s USING (store_id)
WHERE c.kind = 'pull_feed' AND c.enabled
ORDER BY 1, 2
