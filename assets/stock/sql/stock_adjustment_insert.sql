INSERT INTO core.stock_adjustments (store_id, product_id, kind, quantity, reason, created_by)
VALUES (:s, :p, :k, :q, :r, :b)
RETURNING adjustment_id, created_at
