-- Every value of the buyers being forgotten (and the address an erasure was asked for), for the
-- search of the store's logs.
INSERT INTO forget_known (known)
SELECT coalesce(array_agg(DISTINCT v) FILTER (WHERE length(v) >= 3), '{}')
FROM (SELECT unnest(known) AS v FROM forget_orders UNION ALL SELECT unnest(CAST(:extra AS text[]))) x
