SELECT sku FROM core.products
WHERE store_id = :s AND NOT is_placeholder
ORDER BY sku
LIMIT 3
