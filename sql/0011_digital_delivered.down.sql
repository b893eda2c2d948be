DROP VIEW ops.digital_units;
CREATE OR REPLACE FUNCTION core.order_status_from_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.status := (SELECT m.status FROM core.order_status_map m
                   WHERE m.channel = NEW.channel AND m.channel_state = NEW.channel_state);
    RETURN NEW;
END $$;
DROP TRIGGER order_status ON core.orders;
CREATE TRIGGER order_status BEFORE INSERT OR UPDATE OF channel, channel_state ON core.orders
    FOR EACH ROW EXECUTE FUNCTION core.order_status_from_channel();
UPDATE core.orders o SET status = m.status
FROM core.order_status_map m WHERE o.digital_delivered_at IS NOT NULL
  AND m.channel = o.channel AND m.channel_state = o.channel_state;
ALTER TABLE core.orders DROP COLUMN digital_delivered_at;
ALTER TABLE core.order_status_map DROP CONSTRAINT order_status_map_status_check;
ALTER TABLE core.order_status_map ADD CONSTRAINT order_status_map_status_check
    CHECK (status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered',
                      'cancelled', 'refunded', 'partially_refunded'));
