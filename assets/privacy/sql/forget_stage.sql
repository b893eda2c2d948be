-- The orders whose buyer's personal data is being removed in this transaction, with the buyer's own
-- values (searched for in free text and payload strings) read before anything is removed.
CREATE TEMP TABLE IF NOT EXISTS forget_orders (
    order_id bigint PRIMARY KEY, store_id bigint, account_id bigint, channel_order_id text,
    channel_shipment_id text, known text[]
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS forget_known (known text[]) ON COMMIT DELETE ROWS;
