-- A store's catalog as its Letzshop product feed writes it, one row per store product (never a
-- placeholder), by SKU: the store's overrides over the marketplace product's values (a null inherits,
-- as in analytics.store_catalog), and every language's title and description, the store's own
-- translation over the marketplace product's, field by field.
-- The price is the one the price push last put on Letzshop (core.channel_prices, the store's price rule
-- applied), where there is one: the product file and the price file must not tell Letzshop two prices.
SELECT p.sku,
       coalesce(p.gtin14, mp.gtin14)             AS gtin14,
       coalesce(p.mpn, mp.mpn)                   AS mpn,
       coalesce(p.brand, mp.brand)               AS brand,
       coalesce(cp.acknowledged_price, p.price, mp.price) AS price,
       CASE WHEN cp.acknowledged_price IS NOT NULL THEN cp.currency
            ELSE coalesce(p.currency, mp.currency) END AS currency,
       coalesce(p.availability, mp.availability) AS availability,
       coalesce(p.quantity, mp.quantity)         AS quantity,
       coalesce(mp.attributes, '{}'::jsonb) || p.attributes AS attributes,
       p.title                                   AS own_title,
       texts.by_language
FROM core.products p
JOIN ops.stores s USING (store_id)
LEFT JOIN core.marketplace_products mp USING (marketplace_product_id)
LEFT JOIN ops.accounts la ON la.store_id = s.store_id AND la.channel = 'letzshop'
LEFT JOIN core.channel_prices cp ON cp.account_id = la.account_id AND cp.product_id = p.product_id
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(t.language, jsonb_build_array(t.title, t.description)) AS by_language
    FROM (SELECT language,
                 coalesce(pt.title, mpt.title)             AS title,
                 coalesce(pt.description, mpt.description) AS description
          FROM (SELECT language, title, description FROM core.product_translations
                WHERE product_id = p.product_id) pt
          FULL JOIN (SELECT language, title, description FROM core.marketplace_product_translations
                     WHERE marketplace_product_id = p.marketplace_product_id) mpt USING (language)) t
    WHERE t.title IS NOT NULL OR t.description IS NOT NULL
) texts ON true
WHERE s.code = :store AND NOT p.is_placeholder
ORDER BY p.sku;
