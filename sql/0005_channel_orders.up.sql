-- One order status across channels. Each channel reports its own states (Letzshop: shipment states,
-- Amazon: fulfillment statuses, eBay: fulfillment, payment and cancel states, which the importer folds
-- into one channel_state); this table says what each means, and a trigger keeps core.orders.status in
-- step with channel_state, whichever importer wrote the row. An unmapped state leaves status null (and
-- is visible in analytics as such) rather than guessing.
CREATE TABLE core.order_status_map (
    channel        text NOT NULL,
    channel_state  text NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered',
                                                   'cancelled', 'refunded', 'partially_refunded')),
    meaning        text,
    PRIMARY KEY (channel, channel_state)
);

INSERT INTO core.order_status_map (channel, channel_state, status, meaning) VALUES
    ('letzshop', 'unconfirmed', 'pending', 'waiting for the seller to confirm or decline its units'),
    ('letzshop', 'confirmed', 'confirmed', 'at least one unit confirmed available'),
    ('letzshop', 'declined', 'cancelled', 'every unit declined'),
    ('amazon', 'PENDING_AVAILABILITY', 'pending', 'pre-order, payment not authorised yet'),
    ('amazon', 'PENDING', 'pending', 'placed, payment not authorised yet'),
    ('amazon', 'UNSHIPPED', 'confirmed', 'paid, ready to ship'),
    ('amazon', 'PARTIALLY_SHIPPED', 'processing', 'some items shipped'),
    ('amazon', 'SHIPPED', 'shipped', 'every item shipped'),
    ('amazon', 'DELIVERED', 'delivered', 'every package delivered'),
    ('amazon', 'CANCELLED', 'cancelled', 'cancelled'),
    ('amazon', 'UNFULFILLABLE', 'cancelled', 'cannot be fulfilled (multi-channel fulfillment)'),
    ('amazon', 'REFUNDED', 'refunded', 'refunded in full'),
    ('amazon', 'PARTIALLY_REFUNDED', 'partially_refunded', 'part of it refunded'),
    ('ebay', 'PAYMENT_PENDING', 'pending', 'orderPaymentStatus PENDING'),
    ('ebay', 'NOT_STARTED', 'confirmed', 'paid, nothing shipped'),
    ('ebay', 'IN_PROGRESS', 'processing', 'some line items shipped'),
    ('ebay', 'FULFILLED', 'shipped', 'every line item shipped'),
    ('ebay', 'DELIVERED', 'delivered', 'every line item delivered'),
    ('ebay', 'CANCELED', 'cancelled', 'cancelStatus.cancelState CANCELED'),
    ('ebay', 'FULLY_REFUNDED', 'refunded', 'orderPaymentStatus FULLY_REFUNDED'),
    ('ebay', 'PARTIALLY_REFUNDED', 'partially_refunded', 'orderPaymentStatus PARTIALLY_REFUNDED');

ALTER TABLE core.orders ADD COLUMN status text;

CREATE FUNCTION core.order_status_from_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.status := (SELECT m.status FROM core.order_status_map m
                   WHERE m.channel = NEW.channel AND m.channel_state = NEW.channel_state);
    RETURN NEW;
END $$;
CREATE TRIGGER order_status BEFORE INSERT OR UPDATE OF channel, channel_state ON core.orders
    FOR EACH ROW EXECUTE FUNCTION core.order_status_from_channel();

UPDATE core.orders o SET status = m.status
FROM core.order_status_map m WHERE m.channel = o.channel AND m.channel_state = o.channel_state;

-- ---------------------------------------------------------------- Amazon and eBay orders as received
-- One row per distinct version of an order: re-fetching an unchanged order adds nothing.
CREATE TABLE raw.channel_orders (
    raw_id            bigserial PRIMARY KEY,
    account_id        bigint NOT NULL REFERENCES ops.accounts,
    channel_order_id  text NOT NULL,
    payload           jsonb NOT NULL,
    payload_sha       text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    run_id            text,
    UNIQUE (account_id, channel_order_id, payload_sha)
);

-- Where each account's incremental order import resumes: the newest last-modified time it has merged.
-- The next import asks from this minus an overlap window, so an order updated while a page was read is
-- never skipped (and merging it twice changes nothing).
CREATE TABLE ops.order_cursors (
    account_id       bigint PRIMARY KEY REFERENCES ops.accounts ON DELETE CASCADE,
    last_modified_at timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
