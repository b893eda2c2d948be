-- The purchase of one order item unit, planned once: a second plan of the same unit changes nothing.
INSERT INTO ops.digital_purchases (store_id, order_item_id, unit, client_order_id, supplier_product_id,
                                   listed_unit_price)
VALUES (:store_id, :order_item_id, :unit, :client_order_id, :supplier_product_id, :listed_unit_price)
ON CONFLICT (order_item_id, unit) DO NOTHING
