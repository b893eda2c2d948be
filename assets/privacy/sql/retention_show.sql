SELECT s.code AS store, s.personal_data_retention::text AS retention,
       count(o.order_id) FILTER (WHERE o.personal_data_removed_at IS NULL
                                 AND o.updated_at < now() - s.personal_data_retention) AS orders_due,
       count(o.order_id) FILTER (WHERE o.personal_data_removed_by = 'retention') AS orders_expired,
       count(o.order_id) FILTER (WHERE o.personal_data_removed_by = 'erasure') AS orders_erased
FROM ops.stores s LEFT JOIN core.orders o ON o.store_id = s.store_id
WHERE CAST(:store AS text) IS NULL OR s.code = CAST(:store AS text)
GROUP BY s.store_id ORDER BY s.code
