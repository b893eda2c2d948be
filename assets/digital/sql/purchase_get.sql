SELECT p.purchase_id, p.store_id, p.order_item_id, p.unit, p.client_order_id, p.supplier_product_id,
       p.listed_unit_price, p.status, p.supplier_order_id, p.charged_unit_price, p.reason, p.attempts,
       p.sent_at, p.created_at, d.max_unit_cost, d.price_margin_percent
FROM ops.digital_purchases p
JOIN core.order_items i ON i.order_item_id = p.order_item_id
LEFT JOIN ops.digital_products d ON d.product_id = i.product_id
WHERE p.purchase_id = :purchase_id
