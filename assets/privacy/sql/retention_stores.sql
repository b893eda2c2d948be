-- Each store (or the one asked for) with the moment before which its buyers' data has expired.
SELECT s.store_id, s.code, s.personal_data_retention,
       coalesce(CAST(:as_of AS timestamptz), now()) - s.personal_data_retention AS cutoff
FROM ops.stores s
WHERE CAST(:store AS text) IS NULL OR s.code = CAST(:store AS text)
ORDER BY s.code
