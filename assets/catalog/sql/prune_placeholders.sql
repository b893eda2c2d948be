-- Of the given products, the placeholders no order line points at any more (each of their lines
-- was resolved to a real product): they stood for "an unknown code we saw" and stand for nothing now.
DELETE FROM core.products p
WHERE p.product_id = ANY (CAST(:product_ids AS bigint[]))
  AND p.is_placeholder
  AND NOT EXISTS (SELECT 1 FROM core.order_items i WHERE i.product_id = p.product_id)
  AND NOT EXISTS (SELECT 1 FROM ops.order_exceptions e WHERE e.resolved_product_id = p.product_id)
