-- The exception about to be decided, locked so two people cannot decide it at once.
SELECT e.exception_id, e.store_id, e.order_item_id, e.status, e.resolution, e.resolved_by,
       rp.sku AS resolved_sku
FROM ops.order_exceptions e
LEFT JOIN core.products rp ON rp.product_id = e.resolved_product_id
WHERE e.exception_id = :exception_id
FOR UPDATE OF e
