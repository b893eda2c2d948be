-- The store's own products that no marketplace product stands behind yet, linked to this source's
-- product with the same SKU when exactly one has it (an ambiguous SKU links nothing). A store product
-- without a GTIN of its own inherits the feed's for matching (core.products_with_gtin), so its GTIN is
-- left null: the listing then follows later changes of the feed's GTIN.
WITH candidate AS (
    SELECT p.product_id, hit.marketplace_product_id, hit.gtin14
    FROM core.products p
    CROSS JOIN LATERAL (
        SELECT min(m.marketplace_product_id) AS marketplace_product_id, min(m.gtin14) AS gtin14
        FROM (SELECT m.marketplace_product_id, m.gtin14
              FROM core.marketplace_products m
              WHERE m.source_id = :source_id AND m.sku = p.sku
              LIMIT 2) m
        HAVING count(*) = 1
    ) hit
    WHERE p.store_id = :store_id AND NOT p.is_placeholder AND p.marketplace_product_id IS NULL
)
UPDATE core.products p
SET marketplace_product_id = c.marketplace_product_id, updated_at = now()
FROM candidate c
WHERE p.product_id = c.product_id
RETURNING p.product_id
