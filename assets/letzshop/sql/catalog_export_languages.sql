-- The languages a store's catalog has text in (its products' own translations and those of the
-- marketplace products they list; placeholders never count), and the store's language fallback chain.
SELECT s.language_fallback,
       ARRAY(SELECT pt.language
             FROM core.product_translations pt
             JOIN core.products p USING (product_id)
             WHERE p.store_id = s.store_id AND NOT p.is_placeholder
               AND (pt.title IS NOT NULL OR pt.description IS NOT NULL)
             UNION
             SELECT mpt.language
             FROM core.marketplace_product_translations mpt
             JOIN core.products p USING (marketplace_product_id)
             WHERE p.store_id = s.store_id AND NOT p.is_placeholder
               AND (mpt.title IS NOT NULL OR mpt.description IS NOT NULL)
             ORDER BY 1) AS languages
FROM ops.stores s
WHERE s.code = :store;
