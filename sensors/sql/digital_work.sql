-- Stores with digital work to do, and a digest of that work (a run key that changes only when the work
-- does): units of digital products on confirmed orders without a key or a purchase, purchases with a
-- step due, keys not delivered yet, and delivered, fully digital orders not
-- recorded as fulfilled yet (assets/digital/sql/orders_delivered_unsettled.sql).
WITH wanted AS MATERIALIZED (
    -- Gathered apart (see assets/digital/sql/units_to_source.sql): checked by the unique indexes after.
    SELECT o.store_id, i.order_item_id, u.unit
    FROM core.orders o
    JOIN core.order_items i ON i.order_id = o.order_id
    JOIN ops.digital_products d ON d.product_id = i.product_id
    CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
    WHERE (o.status IN ('confirmed', 'processing') OR o.sync_status IN ('confirming', 'confirmed'))
      AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
      AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled', 'returned')
), work AS (
    SELECT w.store_id, 'u' || w.order_item_id || '.' || w.unit AS ref
    FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM ops.digital_keys k WHERE k.order_item_id = w.order_item_id AND k.unit = w.unit)
      AND NOT EXISTS (SELECT 1 FROM ops.digital_purchases p
                      WHERE p.order_item_id = w.order_item_id AND p.unit = w.unit)
    UNION ALL
    SELECT store_id, 'p' || purchase_id || '.' || status || '.' || attempts || '.' || extract(epoch FROM next_check_at)
    FROM ops.digital_purchases
    WHERE status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling', 'waiting') AND next_check_at <= now()
    UNION ALL
    SELECT k.store_id, 'k' || k.digital_key_id
    FROM ops.digital_keys k WHERE k.order_item_id IS NOT NULL AND k.delivered_at IS NULL
    UNION ALL
    -- delivered, fully digital orders not yet recorded as fulfilled (their marketplace not told yet)
    SELECT o.store_id, 'd' || o.order_id
    FROM core.orders o
    WHERE o.digital_delivered_at IS NULL AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
      AND EXISTS (SELECT 1 FROM ops.digital_units du WHERE du.order_id = o.order_id)
      AND NOT EXISTS (SELECT 1 FROM ops.digital_units du WHERE du.order_id = o.order_id AND du.delivered_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM core.order_items i
                      WHERE i.order_id = o.order_id
                        AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled',
                                                    'returned')
                        AND NOT EXISTS (SELECT 1 FROM ops.digital_products d WHERE d.product_id = i.product_id))
)
SELECT s.code AS store, md5(string_agg(w.ref, ',' ORDER BY w.ref)) AS digest
FROM work w JOIN ops.stores s USING (store_id)
GROUP BY s.code
ORDER BY s.code
