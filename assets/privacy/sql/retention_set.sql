UPDATE ops.stores SET personal_data_retention = CAST(:retention AS interval) WHERE store_id = :store_id
RETURNING personal_data_retention::text
