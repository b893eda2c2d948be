-- The purchase of one order item unit, planned once: a second plan of the same unit changes nothing, and
-- a unit that has a key is never bought for.
INSERT INTO ops.digital_purchases (store_id, order_item_id, unit, client_order_id, supplier_product_id,
                                   listed_unit_price)
SELECT :store_id, :order_item_id, :unit, :client_order_id, :supplier_product_id, :listed_unit_price
WHERE NOT EXISTS (SELECT 1 FROM ops.digital_keys WHERE order_item_id = :order_item_id AND unit = :unit)
ON CONFLICT (order_item_id, unit) DO NOTHING
