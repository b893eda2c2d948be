SELECT product_id FROM core.products WHERE store_id = :s AND sku = :sku
