-- The store's products named by SKU in a key file, with where their keys come from (sources is NULL for
-- a product that is not digital).
SELECT p.sku, p.product_id, d.sources
FROM core.products p
LEFT JOIN ops.digital_products d ON d.product_id = p.product_id
WHERE p.store_id = :s AND p.sku = ANY(:skus)
