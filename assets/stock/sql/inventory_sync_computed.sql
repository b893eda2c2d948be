UPDATE ops.inventory_syncs
SET snapshot = CAST(:snap AS pg_snapshot), listings = :l, processed = :p
WHERE inventory_sync_id = :s
