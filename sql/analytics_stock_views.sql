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

COMMENT ON VIEW analytics.stock_availability IS
    'One row per listing and channel with stock settings, computed now at query time: every term of the availability and what a push would send. Expensive: filter by store and channel.';
COMMENT ON COLUMN analytics.stock_availability.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.stock_availability.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.stock_availability.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.stock_availability.sku IS 'The store''s SKU.';
COMMENT ON COLUMN analytics.stock_availability.pushed_quantity IS 'Units a push would send now; null when at or below the threshold with sync_zero_stock off (not pushed).';
COMMENT ON COLUMN analytics.stock_availability.acknowledged_quantity IS 'Units the channel last acknowledged; null when none.';
COMMENT ON COLUMN analytics.stock_availability.counted_at IS 'When the listing''s stock sources last counted (the oldest of them); shipments after it are shipped_uncounted.';
COMMENT ON COLUMN analytics.stock_availability.ffn_on_hand IS 'Units available for shipment in the store''s JTL-FFN warehouses.';
COMMENT ON COLUMN analytics.stock_availability.ffn_foreign_reserved IS 'Units FFN reserved beyond our own open orders handed to it.';
COMMENT ON COLUMN analytics.stock_availability.feed_quantity IS 'The listing''s own quantity, else its supplier''s (pulled or pushed feed, CodesWholesale).';
COMMENT ON COLUMN analytics.stock_availability.manual_quantity IS 'The last manual count plus the manual deltas after it.';
COMMENT ON COLUMN analytics.stock_availability.reserved IS 'Units of open orders.';
COMMENT ON COLUMN analytics.stock_availability.shipped_uncounted IS 'Units shipped after the stock sources last counted (still in those counts).';
COMMENT ON COLUMN analytics.stock_availability.safety_stock IS 'Units held back on this channel.';
COMMENT ON COLUMN analytics.stock_availability.available IS 'ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity - reserved - shipped_uncounted - safety_stock, in units.';
COMMENT ON COLUMN analytics.stock_availability.quantity_override IS 'The listing rule''s fixed quantity; null when none.';
COMMENT ON COLUMN analytics.stock_availability.max_quantity IS 'The listing rule''s maximum; null when none.';
COMMENT ON COLUMN analytics.stock_availability.out_of_stock_threshold IS 'At or below this many units the listing is sent 0 (or not pushed, see sync_zero_stock).';
COMMENT ON COLUMN analytics.stock_availability.sync_zero_stock IS 'true sends 0 at or below the threshold; false does not push the listing then.';
COMMENT ON COLUMN analytics.stock_availability.on_demand IS 'True for a digital product from CodesWholesale, whose keys are bought when sold.';
COMMENT ON COLUMN analytics.stock_availability.listed IS 'false when a listing rule took the product off the channel (it is sent 0 once).';

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

COMMENT ON VIEW analytics.stock_ledger IS
    'One row per listing per stock push: every term as computed, the number pushed, what the channel had acknowledged before and its answer (core.stock_ledger with store, channel and push mode). Quantities in units.';
COMMENT ON COLUMN analytics.stock_ledger.ledger_id IS 'Warehouse key of the row (core.stock_ledger).';
COMMENT ON COLUMN analytics.stock_ledger.inventory_sync_id IS 'The push (analytics.inventory_syncs).';
COMMENT ON COLUMN analytics.stock_ledger.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.stock_ledger.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.stock_ledger.sku IS 'The store''s SKU at the time of the push.';
COMMENT ON COLUMN analytics.stock_ledger.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.stock_ledger.mode IS 'The push''s mode: full, incremental or single.';
COMMENT ON COLUMN analytics.stock_ledger.pushed_quantity IS 'The units sent to the channel.';
COMMENT ON COLUMN analytics.stock_ledger.previous_acknowledged IS 'The quantity the channel had acknowledged before; null when none.';
COMMENT ON COLUMN analytics.stock_ledger.answer IS 'pending, accepted, delivered (a file reached the channel), rejected, no_answer or failed.';
COMMENT ON COLUMN analytics.stock_ledger.answer_message IS 'The channel''s reason for a rejection, or what went wrong.';
COMMENT ON COLUMN analytics.stock_ledger.computed_at IS 'When the availability was computed.';
COMMENT ON COLUMN analytics.stock_ledger.answered_at IS 'When the answer was recorded; null while pending.';
COMMENT ON COLUMN analytics.stock_ledger.ffn_on_hand IS 'Units available for shipment in the store''s JTL-FFN warehouses.';
COMMENT ON COLUMN analytics.stock_ledger.ffn_foreign_reserved IS 'Units FFN reserved beyond our own open orders handed to it.';
COMMENT ON COLUMN analytics.stock_ledger.feed_quantity IS 'The listing''s own quantity, else its supplier''s (pulled or pushed feed, CodesWholesale).';
COMMENT ON COLUMN analytics.stock_ledger.manual_quantity IS 'The last manual count plus the manual deltas after it.';
COMMENT ON COLUMN analytics.stock_ledger.reserved IS 'Units of open orders.';
COMMENT ON COLUMN analytics.stock_ledger.shipped_uncounted IS 'Units shipped after the stock sources last counted (still in those counts).';
COMMENT ON COLUMN analytics.stock_ledger.safety_stock IS 'Units held back on this channel.';
COMMENT ON COLUMN analytics.stock_ledger.available IS 'ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity - reserved - shipped_uncounted - safety_stock, in units.';
COMMENT ON COLUMN analytics.stock_ledger.quantity_override IS 'The listing rule''s fixed quantity; null when none.';
COMMENT ON COLUMN analytics.stock_ledger.max_quantity IS 'The listing rule''s maximum; null when none.';
COMMENT ON COLUMN analytics.stock_ledger.out_of_stock_threshold IS 'At or below this many units the listing is sent 0 (or not pushed, see sync_zero_stock).';
COMMENT ON COLUMN analytics.stock_ledger.sync_zero_stock IS 'true sends 0 at or below the threshold; false does not push the listing then.';
COMMENT ON COLUMN analytics.stock_ledger.on_demand IS 'True for a digital product from CodesWholesale, whose keys are bought when sold.';
COMMENT ON COLUMN analytics.stock_ledger.listed IS 'false when a listing rule took the product off the channel (it is sent 0 once).';

CREATE OR REPLACE VIEW analytics.channel_stock WITH (security_barrier) AS
SELECT s.code AS store, a.channel, p.sku, c.product_id, c.acknowledged_quantity, c.acknowledged_at
FROM core.channel_stock c
JOIN ops.accounts a ON a.account_id = c.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
JOIN core.products p ON p.product_id = c.product_id;

COMMENT ON VIEW analytics.channel_stock IS
    'One row per listing and stock channel: the quantity the channel last acknowledged.';
COMMENT ON COLUMN analytics.channel_stock.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.channel_stock.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.channel_stock.sku IS 'The store''s SKU.';
COMMENT ON COLUMN analytics.channel_stock.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.channel_stock.acknowledged_quantity IS 'Units the channel last acknowledged (an accepted or delivered push).';
COMMENT ON COLUMN analytics.channel_stock.acknowledged_at IS 'When that answer was recorded.';

CREATE OR REPLACE VIEW analytics.inventory_syncs WITH (security_barrier) AS
SELECT y.inventory_sync_id, s.code AS store, a.channel, y.mode, y.status, y.listings, y.processed,
       y.succeeded, y.failed, y.unanswered, jsonb_array_length(y.errors) AS error_count, y.errors,
       y.delivered_to, y.triggered_by, y.started_at, y.finished_at,
       extract(epoch FROM y.finished_at - y.started_at) AS duration_s
FROM ops.inventory_syncs y
JOIN ops.accounts a ON a.account_id = y.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id;

COMMENT ON VIEW analytics.inventory_syncs IS
    'One row per stock push to one store channel (the inventory sync log): mode, status, listing counts, errors and duration.';
COMMENT ON COLUMN analytics.inventory_syncs.inventory_sync_id IS 'Warehouse key of the push; increases with time.';
COMMENT ON COLUMN analytics.inventory_syncs.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.inventory_syncs.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.inventory_syncs.mode IS 'full (every listing), incremental (the listings whose number changed) or single (named SKUs).';
COMMENT ON COLUMN analytics.inventory_syncs.status IS 'running, succeeded, partially_succeeded (some listings rejected or unanswered) or failed.';
COMMENT ON COLUMN analytics.inventory_syncs.listings IS 'Listings of the channel when the push ran.';
COMMENT ON COLUMN analytics.inventory_syncs.processed IS 'Listings pushed.';
COMMENT ON COLUMN analytics.inventory_syncs.succeeded IS 'Listings the channel accepted or received.';
COMMENT ON COLUMN analytics.inventory_syncs.failed IS 'Listings rejected, unanswered, or all pushed when the delivery failed.';
COMMENT ON COLUMN analytics.inventory_syncs.unanswered IS 'Listings the channel''s answer did not mention.';
COMMENT ON COLUMN analytics.inventory_syncs.error_count IS 'Number of errors recorded.';
COMMENT ON COLUMN analytics.inventory_syncs.errors IS 'The errors, as a JSON array of texts.';
COMMENT ON COLUMN analytics.inventory_syncs.delivered_to IS 'Where a file-based adapter delivered (location and file name); null for API pushes.';
COMMENT ON COLUMN analytics.inventory_syncs.triggered_by IS 'What started it: cli, a sensor, a schedule or a Dagster job.';
COMMENT ON COLUMN analytics.inventory_syncs.started_at IS 'When the push started.';
COMMENT ON COLUMN analytics.inventory_syncs.finished_at IS 'When it finished; null while running.';
COMMENT ON COLUMN analytics.inventory_syncs.duration_s IS 'Duration in seconds; null while running.';

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

COMMENT ON VIEW analytics.inventory_sync_lag IS
    'One row per store channel with stock sync enabled: its last successful push and how long ago it was, computed at query time.';
COMMENT ON COLUMN analytics.inventory_sync_lag.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.inventory_sync_lag.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.inventory_sync_lag.strategy IS 'How pushes are triggered: realtime (on every change), batch (every batch interval) or manual.';
COMMENT ON COLUMN analytics.inventory_sync_lag.max_lag_minutes IS 'The longest the channel may go without a successful push, in minutes.';
COMMENT ON COLUMN analytics.inventory_sync_lag.last_success_at IS 'When the last successful (or partially successful) push finished; null when none.';
COMMENT ON COLUMN analytics.inventory_sync_lag.lag_minutes IS 'Minutes since then; null when none.';
COMMENT ON COLUMN analytics.inventory_sync_lag.stale IS 'True when there was no successful push or it is older than max_lag_minutes.';
