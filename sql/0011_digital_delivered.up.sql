-- A fully digital order is fulfilled once its buyer has every key: the cross-channel status gains
-- `fulfilled`, and core.orders records when the last key of such an order reached the buyer. The
-- channel's own state still decides cancellations and refunds; a delivered digital order that the
-- channel reports as anything still open (or shipped, or delivered) is `fulfilled`.
ALTER TABLE core.order_status_map DROP CONSTRAINT order_status_map_status_check;
ALTER TABLE core.order_status_map ADD CONSTRAINT order_status_map_status_check
    CHECK (status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered', 'fulfilled',
                      'cancelled', 'refunded', 'partially_refunded'));

-- When every item of an order was a digital product and the last of its keys reached the buyer; NULL
-- for any order with a physical item (its physical flow decides).
ALTER TABLE core.orders ADD COLUMN digital_delivered_at timestamptz;

CREATE OR REPLACE FUNCTION core.order_status_from_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.status := (SELECT m.status FROM core.order_status_map m
                   WHERE m.channel = NEW.channel AND m.channel_state = NEW.channel_state);
    IF NEW.digital_delivered_at IS NOT NULL
       AND NEW.status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered') THEN
        NEW.status := 'fulfilled';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER order_status ON core.orders;
CREATE TRIGGER order_status BEFORE INSERT OR UPDATE OF channel, channel_state, digital_delivered_at ON core.orders
    FOR EACH ROW EXECUTE FUNCTION core.order_status_from_channel();

-- Every unit of a digital product on an order that still wants a key (not declined, cancelled or
-- returned at the channel), with its key if it has one: what fulfilment sources, delivery waits for,
-- and what makes an order fully delivered.
CREATE VIEW ops.digital_units AS
SELECT o.store_id, o.order_id, i.order_item_id, u.unit, i.product_id,
       k.digital_key_id, k.delivered_at
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id
JOIN ops.digital_products d ON d.product_id = i.product_id
CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
LEFT JOIN ops.digital_keys k ON k.order_item_id = i.order_item_id AND k.unit = u.unit
WHERE i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled', 'returned');
