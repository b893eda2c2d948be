-- Buyers' personal data (GDPR): how long each store keeps it, which orders had it removed and why,
-- and a record of every access request, erasure and retention run, with counts and never the data.

-- How long a store keeps a buyer's personal data after the order's last change. The minimum keeps
-- an order that is still being shipped, returned or disputed from losing its address.
ALTER TABLE ops.stores
    ADD COLUMN personal_data_retention interval NOT NULL DEFAULT interval '24 months',
    ADD CONSTRAINT stores_personal_data_retention_minimum
        CHECK (personal_data_retention >= interval '30 days');

-- An order whose buyer's personal data was removed keeps its ids, dates, amounts, country and items;
-- the triggers of privacy_functions.sql keep it removed when the channel sends the order again.
ALTER TABLE core.orders
    ADD COLUMN personal_data_removed_at timestamptz,
    ADD COLUMN personal_data_removed_by text
        CHECK (personal_data_removed_by IN ('erasure', 'retention')),
    ADD CONSTRAINT orders_removed_personal_data_stays_removed CHECK (
        personal_data_removed_at IS NULL
        OR (customer_email IS NULL AND customer_name IS NULL AND personal_data_removed_by IS NOT NULL));

-- Finding a buyer's orders by e-mail address (an access or erasure request), and the orders whose
-- retention ran out.
CREATE INDEX orders_buyer_email ON core.orders (store_id, lower(customer_email))
    WHERE customer_email IS NOT NULL;
CREATE INDEX orders_retention_due ON core.orders (store_id, updated_at)
    WHERE personal_data_removed_at IS NULL;
-- The raw payloads and follow-up rows of an order, by the order.
CREATE INDEX channel_orders_order ON raw.channel_orders (account_id, channel_order_id);
CREATE INDEX quarantine_record ON ops.quarantine (account_id, record_ref);
CREATE INDEX fulfillment_shipments_outbound ON core.fulfillment_shipments (account_id, merchant_outbound_number);

-- One row per access request, erasure or retention run: who asked, when, how many orders and rows it
-- touched per place. Nothing that identifies the buyer: not the address asked for, not a hash of it.
CREATE TABLE ops.privacy_requests (
    request_id    bigserial PRIMARY KEY,
    store_id      bigint NOT NULL REFERENCES ops.stores,
    kind          text NOT NULL CHECK (kind IN ('export', 'erasure', 'retention')),
    requested_by  text NOT NULL,
    orders        integer NOT NULL DEFAULT 0,
    rows_changed  jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX privacy_requests_store ON ops.privacy_requests (store_id, started_at DESC);
