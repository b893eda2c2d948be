-- A key bought from the supplier, kept on the order item unit it was bought for. Nothing is written when
-- the purchase or the unit already has a key, or the store already holds this key (the caller says which).
INSERT INTO ops.digital_keys (store_id, product_id, source, kind, token, key_id, fingerprint,
                              purchase_id, order_item_id, unit, assigned_at)
VALUES (:s, :p, 'supplier', :kind, :t, :k, :f, :purchase, :o, :u, now())
ON CONFLICT DO NOTHING
RETURNING digital_key_id
