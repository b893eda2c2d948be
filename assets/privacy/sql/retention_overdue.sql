-- Orders of any store still holding a buyer's data past the store's retention period (the check).
SELECT count(*) FROM core.orders o JOIN ops.stores s USING (store_id)
WHERE o.personal_data_removed_at IS NULL AND o.updated_at < now() - s.personal_data_retention
