-- What every listing of a store may sell on one channel (account), term by term. The stock push reads
-- it inside one snapshot and pushes the rows whose pushed_quantity differs from what the channel last
-- acknowledged; analytics.stock_availability shows it for every channel with stock settings. Re-applied
-- after every upgrade (resources/migrations.py), so it always matches the current schema.
--
--   available = ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity
--               - reserved - shipped_uncounted - safety_stock
--   pushed    = core.listed_quantity(available, override, max, threshold, sync_zero_stock)
--               (null: at or below the threshold with sync_zero_stock off, not pushed at all)
--
-- Listings: every product of the store (settings.listings = 'catalog'), or only those the channel knows
-- ('known': acknowledged or sold there); a rule's `listed` includes or excludes a product either way.
-- A product a rule took off the channel (listed = false) is still returned, with pushed 0, while the
-- channel acknowledges a number other than 0 for it: it is sent 0 once, so the channel stops selling it.
--
-- ffn_on_hand           stockLevel in the store's FFN warehouses ("available for shipment"; blocked units are
--                       apart). The API does not say whether it still holds the units FFN reserved for
--                       outbounds; read as if it does, which can only ever understate: our own open orders
--                       are subtracted once, as `reserved`, whether or not they were handed to FFN yet...
-- ffn_foreign_reserved  ...and FFN's reservations beyond our open orders there (another system's outbounds).
-- feed_quantity         the listing's own quantity, else its supplier's (pulled or pushed feed,
--                       CodesWholesale). A marketplace's own catalog feed is not a stock source.
-- manual_quantity       the last manual count plus the manual deltas after it.
-- reserved              units of open orders: reserved on import, released on rejection or a declined
--                       unit, consumed when the order ships.
-- shipped_uncounted     units shipped after the product's stock sources last counted (they are still
--                       in those counts). Counted: FFN at the start of its last stock snapshot, a feed at
--                       the start of its last completed import or its last applied push, manual stock at
--                       its last count (or its first delta). The oldest count of the product's sources
--                       applies; shipments older than 90 days are assumed counted.
-- Units of the (shipped_at, units) pairs after `since` (all of them when it is null). A function, not a
-- subquery, so the availability query has no SubPlan and can run in parallel workers to the end.
CREATE OR REPLACE FUNCTION core.units_after(shipped_at timestamptz[], units integer[], since timestamptz)
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total integer := 0;
BEGIN
    FOR i IN 1 .. coalesce(array_length(shipped_at, 1), 0) LOOP
        IF since IS NULL OR shipped_at[i] > since THEN
            total := total + units[i];
        END IF;
    END LOOP;
    RETURN total;
END $$;

-- Units of a store's orders that hold stock, per order and product: reserved while the order is open
-- (imported, confirming, confirmed, or being rejected), consumed once it shipped (shipped_at set; the
-- last 90 days: older shipments count as counted). Declined, returned or cancelled units hold nothing,
-- nor do units a marketplace ships from its own warehouse (Amazon FBA), nor does an order the channel
-- cancelled or refunded in full (core.orders.status).
-- at_ffn: the order was handed to FFN as an outbound. Both availability and `stock explain` read this.
CREATE OR REPLACE FUNCTION core.stock_order_units(p_store_id bigint)
RETURNS TABLE (order_id bigint, product_id bigint, shipped_at timestamptz, at_ffn boolean, units integer)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT o.order_id, i.product_id, CASE WHEN o.sync_status = 'shipped' THEN o.shipped_at END,
           coalesce(fo.at_ffn, false), sum(i.quantity)::integer
    FROM core.orders o
    JOIN core.order_items i ON i.order_id = o.order_id
    LEFT JOIN LATERAL (SELECT true AS at_ffn FROM core.fulfillment_outbounds f
                       WHERE f.order_id = o.order_id AND f.outbound_id IS NOT NULL LIMIT 1) fo ON true
    WHERE o.store_id = p_store_id AND i.product_id IS NOT NULL
      AND o.status IS DISTINCT FROM 'cancelled' AND o.status IS DISTINCT FROM 'refunded'
      AND i.channel_state NOT IN ('confirmed_unavailable', 'returned', 'cancelled', 'canceled', 'FULFILLED_BY_AMAZON')
      AND (o.sync_status IN ('imported', 'confirming', 'confirmed', 'rejecting')
           OR (o.sync_status = 'shipped' AND o.shipped_at > now() - interval '90 days'))
    GROUP BY 1, 2, 3, 4
$$;

-- The store is a parameter of its own (not looked up from the account) so the planner sees a constant
-- and estimates each store's share of the tables; an account of another store yields nothing. No CTE
-- is referenced twice, so all are inlined and the plan may run in parallel.
CREATE OR REPLACE FUNCTION core.stock_availability(p_store_id bigint, p_account_id bigint)
RETURNS SETOF core.stock_terms
LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH ffn AS (
    SELECT fp.merchant_sku AS sku,
           floor(sum(fs.stock_level))::integer AS on_hand,
           ceil(sum(fs.reserved))::integer AS reserved,
           min(coalesce(a.stock_counted_at, '-infinity')) AS counted_at
    FROM ops.accounts a
    JOIN core.fulfillment_products fp ON fp.account_id = a.account_id
    JOIN core.fulfillment_stock fs ON fs.account_id = fp.account_id AND fs.jfsku = fp.jfsku
    WHERE a.store_id = p_store_id AND a.channel = 'jtl_ffn' AND a.enabled
    GROUP BY fp.merchant_sku
), sources AS (
    SELECT s.source_id, s.kind IN ('pull_feed', 'push_feed', 'codeswholesale') AS supplies_stock,
           s.kind = 'codeswholesale' AS on_demand,
           coalesce(greatest(runs.counted_at, pushes.counted_at), '-infinity') AS counted_at
    FROM ops.catalog_sources s
    LEFT JOIN LATERAL (SELECT max(r.started_at) AS counted_at FROM ops.import_runs r
                       WHERE r.source_id = s.source_id AND r.status IN ('completed', 'partially_completed')) runs ON true
    LEFT JOIN LATERAL (SELECT max(b.received_at) AS counted_at FROM ops.feed_inbox b
                       WHERE b.source_id = s.source_id AND b.status = 'applied') pushes ON true
    WHERE s.store_id = p_store_id
), manual AS (
    SELECT x.product_id,
           sum(x.quantity) FILTER (WHERE x.adjustment_id >= coalesce(x.last_count, 0))::integer AS quantity,
           coalesce(max(x.created_at) FILTER (WHERE x.adjustment_id = x.last_count), min(x.created_at)) AS counted_at
    FROM (SELECT adj.product_id, adj.adjustment_id, adj.quantity, adj.created_at,
                 max(adj.adjustment_id) FILTER (WHERE adj.kind = 'count') OVER (PARTITION BY adj.product_id) AS last_count
          FROM core.stock_adjustments adj WHERE adj.store_id = p_store_id) x
    GROUP BY x.product_id
), order_units AS (
    SELECT h.product_id, h.shipped_at IS NOT NULL AS shipped, h.shipped_at, h.at_ffn, sum(h.units)::integer AS units
    FROM core.stock_order_units(p_store_id) h
    GROUP BY 1, 2, 3, 4
), units AS (
    SELECT u.product_id,
           coalesce(sum(u.units) FILTER (WHERE NOT u.shipped), 0)::integer AS reserved,
           coalesce(sum(u.units) FILTER (WHERE NOT u.shipped AND u.at_ffn), 0)::integer AS at_ffn,
           array_agg(u.shipped_at) FILTER (WHERE u.shipped) AS shipped_at,
           array_agg(u.units) FILTER (WHERE u.shipped) AS shipped_units
    FROM order_units u GROUP BY u.product_id
), sold AS (
    -- Products sold on this channel: listings it knows (read only when the channel lists what it knows).
    SELECT DISTINCT i.product_id
    FROM core.orders o JOIN core.order_items i ON i.order_id = o.order_id
    WHERE o.account_id = p_account_id AND i.product_id IS NOT NULL
      AND (SELECT st.listings FROM ops.stock_settings st WHERE st.account_id = p_account_id) = 'known'
), terms AS (
    SELECT p.product_id, p.sku,
           coalesce(f.on_hand, 0) AS ffn_on_hand,
           greatest(coalesce(f.reserved, 0) - coalesce(u.at_ffn, 0), 0) AS ffn_foreign_reserved,
           greatest(coalesce(p.quantity, CASE WHEN src.supplies_stock THEN m.quantity END, 0), 0) AS feed_quantity,
           coalesce(man.quantity, 0) AS manual_quantity,
           coalesce(u.reserved, 0) AS reserved,
           u.shipped_at, u.shipped_units,
           t.safety_stock, r.quantity_override, r.max_quantity, t.out_of_stock_threshold, t.sync_zero_stock,
           coalesce(src.on_demand AND coalesce(p.product_type, m.product_type) = 'digital', false) AS on_demand,
           cs.acknowledged_quantity,
           coalesce(r.listed, t.listings = 'catalog' OR cs.product_id IS NOT NULL OR sold.product_id IS NOT NULL)
               AS listed,
           -- LEAST skips nulls: only the sources this listing has take part.
           least(f.counted_at,
                 CASE WHEN p.quantity IS NULL AND src.supplies_stock THEN src.counted_at END,
                 man.counted_at) AS counted_at
    FROM ops.stock_settings t
    JOIN ops.accounts acc ON acc.account_id = t.account_id AND acc.store_id = p_store_id
    JOIN core.products p ON p.store_id = p_store_id AND NOT p.is_placeholder
    LEFT JOIN core.marketplace_products m ON m.marketplace_product_id = p.marketplace_product_id
    LEFT JOIN sources src ON src.source_id = m.source_id
    LEFT JOIN ffn f ON f.sku = p.sku
    LEFT JOIN manual man ON man.product_id = p.product_id
    LEFT JOIN units u ON u.product_id = p.product_id
    LEFT JOIN core.stock_listing_rules r ON r.account_id = t.account_id AND r.product_id = p.product_id
    LEFT JOIN core.channel_stock cs ON cs.account_id = t.account_id AND cs.product_id = p.product_id
    LEFT JOIN sold ON sold.product_id = p.product_id
    WHERE t.account_id = p_account_id
      AND (coalesce(r.listed, t.listings = 'catalog' OR cs.product_id IS NOT NULL OR sold.product_id IS NOT NULL)
           OR cs.acknowledged_quantity <> 0)
), deducted AS (
    SELECT terms.*,
           CASE WHEN terms.shipped_at IS NULL THEN 0
                ELSE core.units_after(terms.shipped_at, terms.shipped_units, terms.counted_at) END AS shipped_uncounted
    FROM terms
), summed AS (
    SELECT d.*, d.ffn_on_hand - d.ffn_foreign_reserved + d.feed_quantity + d.manual_quantity
                - d.reserved - d.shipped_uncounted - d.safety_stock AS available
    FROM deducted d
    -- Evaluated once per listing, not once per use: inlined, the rule would repeat the whole sum.
    OFFSET 0
)
SELECT s.product_id, s.sku, s.ffn_on_hand, s.ffn_foreign_reserved, s.feed_quantity, s.manual_quantity,
       s.reserved, s.shipped_uncounted, s.safety_stock, s.available, s.quantity_override, s.max_quantity,
       s.out_of_stock_threshold, s.sync_zero_stock, s.on_demand,
       CASE WHEN s.listed THEN core.listed_quantity(s.available, s.quantity_override, s.max_quantity,
                                                    s.out_of_stock_threshold, s.sync_zero_stock)
            ELSE 0 END AS pushed_quantity,
       s.acknowledged_quantity, s.counted_at, s.listed
FROM summed s
$$;
