-- Upsert one row per inventory unit. A unit whose barcode or SKU changed goes back to matching.
INSERT INTO core.order_items AS i (
    order_id, channel_item_id, channel_variant_id, sku, mpn, barcode, barcode_type, gtin14, title, brand,
    unit_price, channel_state)
SELECT o.order_id, s.channel_item_id, s.channel_variant_id, s.sku, s.mpn, s.barcode, s.barcode_type,
       s.gtin14, s.title, s.brand, s.unit_price, s.channel_state
FROM stage_items s
JOIN core.orders o ON o.account_id = :account_id AND o.channel_shipment_id = s.channel_shipment_id
ORDER BY o.order_id, s.channel_item_id
ON CONFLICT (order_id, channel_item_id) DO UPDATE SET
    channel_variant_id = excluded.channel_variant_id,
    title         = excluded.title,
    brand         = excluded.brand,
    unit_price    = excluded.unit_price,
    channel_state = excluded.channel_state,
    sku           = excluded.sku,
    mpn           = excluded.mpn,
    barcode       = excluded.barcode,
    barcode_type  = excluded.barcode_type,
    gtin14        = excluded.gtin14,
    match_status  = CASE WHEN (i.gtin14, i.barcode, i.sku) IS DISTINCT FROM (excluded.gtin14, excluded.barcode, excluded.sku)
                         THEN 'pending' ELSE i.match_status END,
    updated_at    = now()
WHERE (i.channel_state, i.unit_price, i.title, i.brand, i.gtin14, i.barcode, i.sku, i.mpn, i.channel_variant_id)
      IS DISTINCT FROM
      (excluded.channel_state, excluded.unit_price, excluded.title, excluded.brand, excluded.gtin14,
       excluded.barcode, excluded.sku, excluded.mpn, excluded.channel_variant_id)
RETURNING (xmax = 0) AS inserted;
