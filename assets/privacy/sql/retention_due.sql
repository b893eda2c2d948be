-- A batch of the store's orders whose last change is older than its retention period and that still
-- hold a buyer's data; an order another session holds is left for the next run.
SELECT order_id FROM core.orders
WHERE store_id = :store_id AND personal_data_removed_at IS NULL AND updated_at < :cutoff
ORDER BY updated_at, order_id
LIMIT :batch
FOR UPDATE SKIP LOCKED
