SELECT quantity_override, max_quantity, listed FROM core.stock_listing_rules
WHERE account_id = :a AND product_id = :p
