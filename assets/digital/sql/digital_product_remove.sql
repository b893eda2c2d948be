DELETE FROM ops.digital_products d
USING core.products p
WHERE p.product_id = d.product_id AND d.store_id = :s AND p.sku = :sku
