-- Stores with digital work to do, and a digest of that work (a run key that changes only when the work
-- does): units of digital products on confirmed orders without a key or a purchase, purchases with a
-- step due, keys not delivered yet.
WITH work AS (
    SELECT o.store_id, 'u' || i.order_item_id || '.' || u.unit AS ref
    FROM core.orders o
    JOIN core.order_items i ON i.order_id = o.order_id
    JOIN ops.digital_products d ON d.product_id = i.product_id
    CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
    WHERE (o.status IN ('confirmed', 'processing') OR o.sync_status IN ('confirming', 'confirmed'))
      AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
      AND NOT EXISTS (SELECT 1 FROM ops.digital_keys k WHERE k.order_item_id = i.order_item_id AND k.unit = u.unit)
      AND NOT EXISTS (SELECT 1 FROM ops.digital_purchases p
                      WHERE p.order_item_id = i.order_item_id AND p.unit = u.unit)
    UNION ALL
    SELECT store_id, 'p' || purchase_id || '.' || status || '.' || attempts || '.' || extract(epoch FROM next_check_at)
    FROM ops.digital_purchases
    WHERE status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling', 'waiting') AND next_check_at <= now()
    UNION ALL
    SELECT k.store_id, 'k' || k.digital_key_id
    FROM ops.digital_keys k WHERE k.order_item_id IS NOT NULL AND k.delivered_at IS NULL
)
SELECT s.code AS store, md5(string_agg(w.ref, ',' ORDER BY w.ref)) AS digest
FROM work w JOIN ops.stores s USING (store_id)
GROUP BY s.code
ORDER BY s.code
