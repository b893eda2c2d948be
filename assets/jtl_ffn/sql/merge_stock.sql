-- Stock per jfsku and warehouse as the fulfiller reports it now: only changed levels are rewritten.
WITH upserted AS (
    INSERT INTO core.fulfillment_stock AS s (account_id, jfsku, warehouse_id, stock_level, reserved, blocked, announced)
    SELECT DISTINCT ON (jfsku, warehouse_id) :account_id, jfsku, warehouse_id, stock_level, reserved, blocked, announced
    FROM ffn_stock ORDER BY jfsku, warehouse_id
    ON CONFLICT (account_id, jfsku, warehouse_id) DO UPDATE
        SET stock_level = excluded.stock_level, reserved = excluded.reserved, blocked = excluded.blocked,
            announced = excluded.announced, updated_at = now()
        WHERE (s.stock_level, s.reserved, s.blocked, s.announced)
              IS DISTINCT FROM (excluded.stock_level, excluded.reserved, excluded.blocked, excluded.announced)
    RETURNING 1
),
removed AS (
    DELETE FROM core.fulfillment_stock s
    WHERE s.account_id = :account_id
      AND NOT EXISTS (SELECT 1 FROM ffn_stock n WHERE n.jfsku = s.jfsku AND n.warehouse_id = s.warehouse_id)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) AS written, (SELECT count(*) FROM removed) AS removed
