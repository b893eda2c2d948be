-- Views of stock out for analysts: the ledger of every pushed number with its terms, what each channel
-- acknowledged, the inventory sync log with the lag per channel, and what would be pushed now. They
-- run with their owner's rights (the analyst role cannot read ops); nothing secret is selected. Like every
-- analytics view, of the stores the current user reads (core.visible_stores; sql/analytics_views.sql).

-- core.stock_availability reads ops (settings, accounts) with the caller's rights; the analyst's calls
-- go through this definer function, which returns only the computed terms, and only of an account of a
-- store the session's user reads (inside it current_user is its owner; the view checks current_user).
CREATE OR REPLACE FUNCTION analytics.channel_availability(p_account_id bigint)
RETURNS SETOF core.stock_terms LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.* FROM ops.accounts a CROSS JOIN LATERAL core.stock_availability(a.store_id, a.account_id) t
    WHERE a.account_id = p_account_id
      AND a.store_id IN (SELECT core.readable_store_ids(session_user))
$$;

-- What every listing would show on every channel with stock settings, now.
CREATE OR REPLACE VIEW analytics.stock_availability WITH (security_barrier) AS
SELECT s.code AS store, a.channel, t.*
FROM ops.stock_settings st
JOIN ops.accounts a USING (account_id)
JOIN core.visible_stores s ON s.store_id = a.store_id
CROSS JOIN LATERAL analytics.channel_availability(a.account_id) t;

CREATE OR REPLACE VIEW analytics.stock_ledger WITH (security_barrier) AS
SELECT l.ledger_id, l.inventory_sync_id, s.code AS store, a.channel, l.sku, l.product_id, y.mode,
       l.ffn_on_hand, l.ffn_foreign_reserved, l.feed_quantity, l.manual_quantity, l.reserved,
       l.shipped_uncounted, l.safety_stock, l.available, l.quantity_override, l.max_quantity,
       l.out_of_stock_threshold, l.sync_zero_stock, l.on_demand, l.pushed_quantity, l.previous_acknowledged,
       l.answer, l.answer_message, l.computed_at, l.answered_at, l.listed
FROM core.stock_ledger l
JOIN ops.accounts a ON a.account_id = l.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
LEFT JOIN ops.inventory_syncs y ON y.inventory_sync_id = l.inventory_sync_id;

CREATE OR REPLACE VIEW analytics.channel_stock WITH (security_barrier) AS
SELECT s.code AS store, a.channel, p.sku, c.product_id, c.acknowledged_quantity, c.acknowledged_at
FROM core.channel_stock c
JOIN ops.accounts a ON a.account_id = c.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
JOIN core.products p ON p.product_id = c.product_id;

CREATE OR REPLACE VIEW analytics.inventory_syncs WITH (security_barrier) AS
SELECT y.inventory_sync_id, s.code AS store, a.channel, y.mode, y.status, y.listings, y.processed,
       y.succeeded, y.failed, y.unanswered, jsonb_array_length(y.errors) AS error_count, y.errors,
       y.delivered_to, y.triggered_by, y.started_at, y.finished_at,
       extract(epoch FROM y.finished_at - y.started_at) AS duration_s
FROM ops.inventory_syncs y
JOIN ops.accounts a ON a.account_id = y.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id;

-- Per store and channel with stock settings: the last successful sync and how long ago it was.
CREATE OR REPLACE VIEW analytics.inventory_sync_lag WITH (security_barrier) AS
SELECT s.code AS store, a.channel, st.strategy, st.max_lag_minutes, last.finished_at AS last_success_at,
       extract(epoch FROM now() - last.finished_at) / 60 AS lag_minutes,
       last.finished_at IS NULL OR now() - last.finished_at > make_interval(mins => st.max_lag_minutes) AS stale
FROM ops.stock_settings st
JOIN ops.accounts a USING (account_id)
JOIN core.visible_stores s ON s.store_id = a.store_id
LEFT JOIN LATERAL (
    SELECT y.finished_at FROM ops.inventory_syncs y
    WHERE y.account_id = st.account_id AND y.status IN ('succeeded', 'partially_succeeded')
    ORDER BY y.inventory_sync_id DESC LIMIT 1) last ON true
WHERE st.enabled;
