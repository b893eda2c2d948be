-- The attribute names of a store's catalog that a feed column can carry (text, or a list such as
-- additional_image_link): the store product's attributes over its marketplace product's.
SELECT DISTINCT e.key
FROM core.products p
JOIN ops.stores s USING (store_id)
LEFT JOIN core.marketplace_products mp USING (marketplace_product_id)
CROSS JOIN LATERAL jsonb_each(coalesce(mp.attributes, '{}'::jsonb) || p.attributes) AS e(key, value)
WHERE s.code = :store AND NOT p.is_placeholder
  AND jsonb_typeof(e.value) IN ('string', 'array')
ORDER BY 1;
