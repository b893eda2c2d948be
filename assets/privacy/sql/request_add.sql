-- Add a batch's counts to a request: an interrupted retention run's record still says what it did.
UPDATE ops.privacy_requests r
SET orders = r.orders + :orders,
    rows_changed = (SELECT coalesce(jsonb_object_agg(k, coalesce(CAST(r.rows_changed ->> k AS bigint), 0)
                                                        + coalesce(CAST(d.added ->> k AS bigint), 0)), '{}'::jsonb)
                    FROM (SELECT CAST(:rows AS jsonb) AS added) d,
                         LATERAL jsonb_object_keys(r.rows_changed || d.added) k)
WHERE r.request_id = :request_id
