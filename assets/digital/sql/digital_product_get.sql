SELECT sources, supplier_product_id, max_unit_cost, price_margin_percent, low_pool_threshold
FROM ops.digital_products WHERE product_id = :p
