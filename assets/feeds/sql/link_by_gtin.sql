-- The store's own products not linked yet, linked to this source's product with the same GTIN when
-- exactly one has it.
WITH candidate AS (
    SELECT p.product_id, hit.marketplace_product_id
    FROM core.products p
    CROSS JOIN LATERAL (
        SELECT min(m.marketplace_product_id) AS marketplace_product_id
        FROM (SELECT m.marketplace_product_id
              FROM core.marketplace_products m
              WHERE m.gtin14 = p.gtin14 AND m.source_id = :source_id
              LIMIT 2) m
        HAVING count(*) = 1
    ) hit
    WHERE p.store_id = :store_id AND NOT p.is_placeholder AND p.marketplace_product_id IS NULL
      AND p.gtin14 IS NOT NULL
)
UPDATE core.products p
SET marketplace_product_id = c.marketplace_product_id, updated_at = now()
FROM candidate c
WHERE p.product_id = c.product_id
RETURNING p.product_id
