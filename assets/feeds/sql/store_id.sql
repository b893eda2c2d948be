SELECT store_id FROM ops.stores WHERE code = :store
