DROP TABLE ops.api_idempotency_keys;
DELETE FROM core.order_status_map WHERE channel = 'storefront';
