SELECT pg_advisory_xact_lock(hashtextextended(CAST(:s AS text) || ':' || x, 0))
FROM unnest(CAST(:ids AS text[])) AS x
ORDER BY x
