-- The operations metrics, measured now, per store and integration (an account's channel, a feed, or the
-- store's order exceptions), each with its store's thresholds and the state they give. Read by the
-- operations asset and its checks, the threshold alerts, /metrics, /status and the analysts' view.
-- Each part is one grouped scan, so the cost grows with the tables, never with a query per account.
CREATE OR REPLACE VIEW ops.metric_values AS
-- Order channels are those with a status map (core.order_status_map): their accounts import orders.
SELECT a.store_id, a.channel AS integration, a.account_id, NULL::bigint AS source_id,
       'order_import_lag'::text AS metric,
       extract(epoch FROM now() - coalesce(a.last_synced_at, a.created_at))::numeric AS value
FROM ops.accounts a
WHERE a.enabled AND a.channel IN (SELECT DISTINCT m.channel FROM core.order_status_map m)
UNION ALL
SELECT a.store_id, a.channel, a.account_id, NULL,
       'inventory_sync_lag',
       extract(epoch FROM now() - coalesce(i.last_pushed_at, s.updated_at))::numeric
FROM ops.stock_settings s
JOIN ops.accounts a ON a.account_id = s.account_id
-- One probe per account of its last successful push (ops.inventory_syncs_succeeded, migration 0013), not a
-- scan of every push ever made: the cost stays with the number of accounts as the history grows.
LEFT JOIN LATERAL (SELECT max(i.finished_at) AS last_pushed_at
                   FROM ops.inventory_syncs i
                   WHERE i.account_id = s.account_id AND i.status IN ('succeeded', 'partially_succeeded')) i ON true
WHERE s.enabled AND a.enabled AND s.strategy <> 'manual'
UNION ALL
SELECT a.store_id, a.channel, a.account_id, NULL, m.metric, m.value
FROM ops.accounts a
LEFT JOIN (SELECT account_id,
                  count(*) FILTER (WHERE status IN ('pending', 'in_flight')) AS depth,
                  count(*) FILTER (WHERE status = 'dead') AS dead
           FROM ops.outbound_queue WHERE status <> 'succeeded'
           GROUP BY account_id) q ON q.account_id = a.account_id
CROSS JOIN LATERAL (VALUES ('outbound_queue_depth', coalesce(q.depth, 0)::numeric),
                           ('dead_letters', coalesce(q.dead, 0)::numeric)) AS m (metric, value)
WHERE a.enabled
UNION ALL
SELECT a.store_id, a.channel, a.account_id, NULL, 'sync_error_rate',
       round(100.0 * l.failed / l.started, 1)
FROM (SELECT account_id, count(*) AS started, count(*) FILTER (WHERE failed) AS failed
      FROM ops.sync_log WHERE started_at > now() - interval '1 hour' AND account_id IS NOT NULL
      GROUP BY account_id) l
JOIN ops.accounts a ON a.account_id = l.account_id
WHERE a.enabled
UNION ALL
-- Digital units attempted between 25 and 1 hours ago (an hour to deliver), and how many reached the buyer.
SELECT t.store_id, 'digital', NULL, NULL, 'digital_fulfilment_success_rate',
       round(100.0 * count(k.delivered_at) / count(*), 1)
FROM (SELECT p.store_id, p.order_item_id, p.unit FROM ops.digital_purchases p
      WHERE p.created_at BETWEEN now() - interval '25 hours' AND now() - interval '1 hour'
      UNION ALL
      SELECT k.store_id, k.order_item_id, k.unit FROM ops.digital_keys k
      WHERE k.source = 'pool' AND k.order_item_id IS NOT NULL
        AND k.assigned_at BETWEEN now() - interval '25 hours' AND now() - interval '1 hour') t
LEFT JOIN ops.digital_keys k ON k.order_item_id = t.order_item_id AND k.unit = t.unit
GROUP BY t.store_id
UNION ALL
SELECT c.store_id, 'feed:' || c.name, NULL, c.source_id, 'quarantined_rows', r.rows_quarantined::numeric
FROM ops.catalog_sources c
CROSS JOIN LATERAL (SELECT r.rows_quarantined FROM ops.import_runs r
                    WHERE r.source_id = c.source_id AND r.finished_at IS NOT NULL
                    ORDER BY r.started_at DESC LIMIT 1) r
WHERE c.enabled
UNION ALL
SELECT x.store_id, 'orders', NULL, NULL, m.metric, m.value
FROM (SELECT store_id, count(*) AS pending, extract(epoch FROM now() - min(created_at))::numeric AS age
      FROM ops.order_exceptions WHERE status = 'pending' GROUP BY store_id) x
CROSS JOIN LATERAL (VALUES ('pending_exceptions', x.pending::numeric),
                           ('pending_exception_age', x.age)) AS m (metric, value);

COMMENT ON VIEW ops.metric_values IS
    'The operations metrics measured now, one row per store, integration and metric (see ops.metric_definitions).';

-- With the store's thresholds (its own, else the default) and the state they give: error, warn or ok.
-- condition_key names the alert a crossed threshold keeps open.
CREATE OR REPLACE VIEW ops.metric_readings AS
SELECT v.store_id, s.code AS store, v.integration, v.account_id, v.source_id, v.metric, d.label, d.unit,
       d.direction, round(v.value, 1) AS value, t.warn_at, t.error_at,
       CASE WHEN d.direction = 'above' AND v.value > t.error_at OR d.direction = 'below' AND v.value < t.error_at
                THEN 'error'
            WHEN d.direction = 'above' AND v.value > t.warn_at OR d.direction = 'below' AND v.value < t.warn_at
                THEN 'warn'
            ELSE 'ok' END AS state,
       'metric:' || v.metric || ':' || v.store_id || ':' || v.integration AS condition_key
FROM ops.metric_values v
JOIN ops.stores s ON s.store_id = v.store_id
JOIN ops.metric_definitions d ON d.metric = v.metric
LEFT JOIN ops.metric_thresholds o ON o.store_id = v.store_id AND o.metric = v.metric
CROSS JOIN LATERAL (SELECT CASE WHEN o.metric IS NULL THEN d.warn_at ELSE o.warn_at END AS warn_at,
                           CASE WHEN o.metric IS NULL THEN d.error_at ELSE o.error_at END AS error_at) AS t;

COMMENT ON VIEW ops.metric_readings IS
    'The operations metrics with each store''s thresholds (its own, else the defaults) and the state they give (error, warn, ok).';

-- For analysts: the same readings, without the internal ids, of the stores the current user reads.
CREATE OR REPLACE VIEW analytics.integration_metrics WITH (security_barrier) AS
SELECT store, integration, metric, label, unit, value, warn_at, error_at, state
FROM ops.metric_readings
WHERE store_id IN (SELECT v.store_id FROM core.visible_stores v);

COMMENT ON VIEW analytics.integration_metrics IS
    'Grain: one row per store, integration (channel account, feed:<name>, orders, digital) and metric, measured at query time. value is in unit (seconds, percent, count); state is error, warn or ok against the store''s thresholds.';
COMMENT ON COLUMN analytics.integration_metrics.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.integration_metrics.integration IS 'What is measured: a channel account (its channel), feed:<source name>, orders (the store''s exceptions) or digital.';
COMMENT ON COLUMN analytics.integration_metrics.metric IS 'order_import_lag, inventory_sync_lag, outbound_queue_depth, dead_letters, sync_error_rate, digital_fulfilment_success_rate, quarantined_rows, pending_exceptions or pending_exception_age.';
COMMENT ON COLUMN analytics.integration_metrics.label IS 'The metric''s name in words.';
COMMENT ON COLUMN analytics.integration_metrics.unit IS 'The unit of value, warn_at and error_at: seconds, percent or count.';
COMMENT ON COLUMN analytics.integration_metrics.value IS 'The value now, in unit, one decimal.';
COMMENT ON COLUMN analytics.integration_metrics.warn_at IS 'The warn threshold in unit (the store''s own, else the default); null: never warns.';
COMMENT ON COLUMN analytics.integration_metrics.error_at IS 'The error threshold in unit (the store''s own, else the default); null: never errors.';
COMMENT ON COLUMN analytics.integration_metrics.state IS 'error, warn or ok: value against the thresholds (above or below, as the metric says).';
