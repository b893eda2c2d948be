-- Two products of the demo store the shop sells (its catalog, not placeholders): the demo order's lines.
SELECT sku FROM core.products WHERE store_id = :s AND NOT is_placeholder AND sku IS NOT NULL ORDER BY sku LIMIT 2
