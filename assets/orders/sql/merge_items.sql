-- Upsert one row per item: an inventory unit (Letzshop) or a line with its quantity (Amazon, eBay). A unit whose barcode or SKU changed goes back to matching.
-- A new unit whose GTIN-14 names exactly one product of the store is matched as it is written (the
-- matching step's first rule, applied here so the common case costs no second write); every other
-- unit stays pending for the matching step, which remains the authority.
INSERT INTO core.order_items AS i (
    order_id, channel_item_id, channel_variant_id, sku, mpn, barcode, barcode_type, gtin14, title, brand,
    unit_price, channel_state, quantity, product_id, match_status, matched_by)
SELECT o.order_id, s.channel_item_id, s.channel_variant_id, s.sku, s.mpn, s.barcode, s.barcode_type,
       s.gtin14, s.title, s.brand, s.unit_price, s.channel_state, coalesce(s.quantity, 1), g.product_id,
       CASE WHEN g.product_id IS NULL THEN 'pending' ELSE 'matched' END,
       CASE WHEN g.product_id IS NULL THEN NULL ELSE 'gtin' END
FROM stage_items s
JOIN core.orders o ON o.account_id = s.account_id AND o.channel_shipment_id = s.channel_shipment_id
LEFT JOIN LATERAL (
    SELECT CASE WHEN count(*) = 1 THEN min(c.product_id) END AS product_id
    FROM (SELECT g.product_id FROM core.products_with_gtin(o.store_id, s.gtin14) AS g(product_id) LIMIT 2) c
) g ON s.gtin14 IS NOT NULL
ORDER BY o.order_id, s.channel_item_id
ON CONFLICT (order_id, channel_item_id) DO UPDATE SET
    channel_variant_id = excluded.channel_variant_id,
    title         = excluded.title,
    brand         = excluded.brand,
    unit_price    = excluded.unit_price,
    channel_state = excluded.channel_state,
    quantity      = excluded.quantity,
    sku           = excluded.sku,
    mpn           = excluded.mpn,
    barcode       = excluded.barcode,
    barcode_type  = excluded.barcode_type,
    gtin14        = excluded.gtin14,
    match_status  = CASE WHEN (i.gtin14, i.barcode, i.sku) IS DISTINCT FROM (excluded.gtin14, excluded.barcode, excluded.sku)
                         THEN 'pending' ELSE i.match_status END,
    updated_at    = now()
WHERE (i.channel_state, i.unit_price, i.title, i.brand, i.gtin14, i.barcode, i.sku, i.mpn, i.channel_variant_id,
       i.quantity)
      IS DISTINCT FROM
      (excluded.channel_state, excluded.unit_price, excluded.title, excluded.brand, excluded.gtin14,
       excluded.barcode, excluded.sku, excluded.mpn, excluded.channel_variant_id, excluded.quantity)
RETURNING (xmax = 0) AS inserted;
