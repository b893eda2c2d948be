SELECT m.external_id, m.gtin14, m.sku, m.mpn, m.brand, m.price, m.currency, m.availability, m.quantity,
       m.product_type, m.platform, m.regions, m.languages, m.attributes, m.source_updated_at,
       coalesce((SELECT jsonb_object_agg(t.language, jsonb_build_object('title', t.title,
                                                                       'description', t.description))
                 FROM core.marketplace_product_translations t
                 WHERE t.marketplace_product_id = m.marketplace_product_id), '{}'::jsonb) AS translations
FROM core.marketplace_products m
WHERE m.source_id = :s AND m.external_id = ANY(:ids)
