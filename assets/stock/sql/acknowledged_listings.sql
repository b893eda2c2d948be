SELECT p.sku, c.product_id, c.acknowledged_quantity
FROM core.channel_stock c JOIN core.products p USING (product_id)
WHERE c.account_id = :a
ORDER BY p.sku
