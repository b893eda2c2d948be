-- The product's oldest unassigned key (the merchant's pool, or a spare bought key) goes to the order item
-- unit. Keys other fulfilments are taking right now are skipped, not waited for: concurrent fulfilments
-- never share a key and never block.
UPDATE ops.digital_keys SET order_item_id = :o, unit = :u, assigned_at = now()
WHERE digital_key_id = (
    SELECT digital_key_id FROM ops.digital_keys
    WHERE store_id = :s AND product_id = :p AND order_item_id IS NULL
      AND (NOT :spare_only OR source = 'supplier')
    ORDER BY digital_key_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING digital_key_id
