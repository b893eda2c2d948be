-- What must hold after the demo's digital sales: purchases per client order id, charged purchases, keys
-- per unit, and units without a key.
SELECT (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM ops.digital_purchases WHERE store_id = :s
                                         GROUP BY client_order_id) p) AS purchases_per_client_order,
       (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM ops.digital_keys WHERE store_id = :s
                                           AND order_item_id IS NOT NULL GROUP BY order_item_id, unit) k)
           AS keys_per_unit,
       (SELECT count(*) FROM ops.digital_units WHERE store_id = :s AND digital_key_id IS NULL) AS units_without_key,
       (SELECT count(*) FROM ops.digital_purchases WHERE store_id = :s) AS purchases
