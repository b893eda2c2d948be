-- Inbounds and their items as the fulfiller reports them now (received = quantity - quantity still open).
WITH inbounds AS (
    INSERT INTO core.fulfillment_inbounds AS b (account_id, inbound_id, merchant_inbound_number, warehouse_id, status,
                                                created_at_fulfiller)
    SELECT DISTINCT ON (inbound_id) :account_id, inbound_id, merchant_inbound_number, warehouse_id, status,
           created_at_fulfiller
    FROM ffn_inbounds ORDER BY inbound_id
    ON CONFLICT (account_id, inbound_id) DO UPDATE
        SET merchant_inbound_number = excluded.merchant_inbound_number, warehouse_id = excluded.warehouse_id,
            status = excluded.status, created_at_fulfiller = excluded.created_at_fulfiller, updated_at = now()
        WHERE (b.merchant_inbound_number, b.warehouse_id, b.status)
              IS DISTINCT FROM (excluded.merchant_inbound_number, excluded.warehouse_id, excluded.status)
    RETURNING 1
),
items AS (
    INSERT INTO core.fulfillment_inbound_items AS i (account_id, inbound_id, jfsku, merchant_sku, quantity, received)
    SELECT :account_id, s.inbound_id, s.jfsku, p.merchant_sku, sum(s.quantity), sum(s.received)
    FROM ffn_inbound_items s
    LEFT JOIN core.fulfillment_products p ON p.account_id = :account_id AND p.jfsku = s.jfsku
    GROUP BY s.inbound_id, s.jfsku, p.merchant_sku
    ON CONFLICT (account_id, inbound_id, jfsku) DO UPDATE
        SET merchant_sku = excluded.merchant_sku, quantity = excluded.quantity, received = excluded.received
        WHERE (i.merchant_sku, i.quantity, i.received)
              IS DISTINCT FROM (excluded.merchant_sku, excluded.quantity, excluded.received)
    RETURNING 1
)
SELECT (SELECT count(*) FROM inbounds) AS inbounds_written, (SELECT count(*) FROM items) AS items_written
