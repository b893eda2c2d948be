-- The intake's own quick match, so that a shop's order reserves its units the moment it is accepted: a
-- line without a barcode whose SKU names a product of the store. (A line with a GTIN was matched by it
-- as it was written, when the GTIN names one product.) Everything else waits for the follow-up's
-- matching step, which stays the authority and opens the exceptions.
UPDATE core.order_items i
SET product_id = p.product_id, match_status = 'matched', matched_by = 'sku', updated_at = now()
FROM core.orders o, core.products p
WHERE o.order_id = ANY(:order_ids) AND i.order_id = o.order_id
  AND i.match_status = 'pending' AND i.barcode IS NULL
  AND p.store_id = o.store_id AND p.sku = btrim(i.sku) AND NOT p.is_placeholder
