-- A key bought for a unit that has another key meanwhile: kept unassigned in the product's pool (it was
-- paid for), where the next unit of the product takes it.
INSERT INTO ops.digital_keys (store_id, product_id, source, kind, token, key_id, fingerprint, purchase_id)
VALUES (:s, :p, 'supplier', :kind, :t, :k, :f, :purchase)
ON CONFLICT DO NOTHING
RETURNING digital_key_id
