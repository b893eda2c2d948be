-- Digital fulfilment for analysts: per day and store, the digital units attempted (a key taken from the
-- pool or a purchase planned) and how many reached the buyer. They run with their owner's rights (the
-- analyst role cannot read ops); no key, no buyer and no price is selected. Like every analytics view, of
-- the stores the current user reads (core.visible_stores; sql/analytics_views.sql).
CREATE OR REPLACE VIEW analytics.digital_fulfilment_daily WITH (security_barrier) AS
WITH attempts AS (
    SELECT p.store_id, p.order_item_id, p.unit, p.created_at AS attempted_at FROM ops.digital_purchases p
    UNION ALL
    SELECT k.store_id, k.order_item_id, k.unit, k.assigned_at
    FROM ops.digital_keys k
    WHERE k.source = 'pool' AND k.order_item_id IS NOT NULL
)
SELECT s.code AS store,
       (a.attempted_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS attempted,
       count(k.delivered_at) AS delivered,
       round(100.0 * count(k.delivered_at) / count(*), 1) AS success_rate_percent
FROM attempts a
JOIN core.visible_stores s ON s.store_id = a.store_id
LEFT JOIN ops.digital_keys k ON k.order_item_id = a.order_item_id AND k.unit = a.unit
GROUP BY s.code, (a.attempted_at AT TIME ZONE 'UTC')::date;

COMMENT ON VIEW analytics.digital_fulfilment_daily IS
    'One row per day (UTC) and store: digital order units attempted (a pool key taken or a supplier purchase planned) and how many reached the buyer; success_rate_percent = delivered / attempted.';
COMMENT ON COLUMN analytics.digital_fulfilment_daily.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.digital_fulfilment_daily.day IS 'The day (UTC) the units were attempted.';
COMMENT ON COLUMN analytics.digital_fulfilment_daily.attempted IS 'Digital units attempted that day.';
COMMENT ON COLUMN analytics.digital_fulfilment_daily.delivered IS 'Of those, units whose key reached the buyer (so far).';
COMMENT ON COLUMN analytics.digital_fulfilment_daily.success_rate_percent IS 'delivered / attempted, in percent, one decimal.';
