-- Orders per hour over the last 24 hours (the hour now running last), by when the buyer ordered
-- (core.orders.ordered_at, the time the channel gives).
WITH hours AS (
    SELECT generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()),
                           interval '1 hour') AS hour
), counted AS (
    SELECT date_trunc('hour', o.ordered_at) AS hour, count(*) AS orders
    FROM core.orders o
    WHERE o.ordered_at >= date_trunc('hour', now()) - interval '23 hours'
      AND (CAST(:store_id AS bigint) IS NULL OR o.store_id = :store_id)
    GROUP BY 1
)
SELECT h.hour, coalesce(c.orders, 0) AS orders
FROM hours h
LEFT JOIN counted c ON c.hour = h.hour
ORDER BY h.hour
