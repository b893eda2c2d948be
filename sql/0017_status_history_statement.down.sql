-- Back to migration 0016's row trigger.
DROP TRIGGER status_history_inserts ON core.orders;
DROP TRIGGER status_history_updates ON core.orders;
DROP FUNCTION core.record_order_status_inserts();
DROP FUNCTION core.record_order_status_updates();
ALTER TABLE core.order_status_history ADD CONSTRAINT order_status_history_store_id_fkey
    FOREIGN KEY (store_id) REFERENCES ops.stores;

CREATE FUNCTION core.record_order_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    what text := coalesce(nullif(current_setting('marketsync.cause', true), ''),
                          CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'changed' END);
    who text := nullif(current_setting('marketsync.actor', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO core.order_status_history (order_id, store_id, field, old_value, new_value, cause, actor)
        SELECT NEW.order_id, NEW.store_id, c.field, NULL, c.value, what, who
        FROM (VALUES ('sync_status', NEW.sync_status), ('channel_state', NEW.channel_state),
                     ('status', NEW.status)) c (field, value)
        WHERE c.value IS NOT NULL;
    ELSE
        INSERT INTO core.order_status_history (order_id, store_id, field, old_value, new_value, cause, actor)
        SELECT NEW.order_id, NEW.store_id, c.field, c.old_value, c.new_value, what, who
        FROM (VALUES ('sync_status', OLD.sync_status, NEW.sync_status),
                     ('channel_state', OLD.channel_state, NEW.channel_state),
                     ('status', OLD.status, NEW.status)) c (field, old_value, new_value)
        WHERE c.old_value IS DISTINCT FROM c.new_value;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER status_history AFTER INSERT OR UPDATE OF sync_status, channel_state, status ON core.orders
    FOR EACH ROW EXECUTE FUNCTION core.record_order_status_change();
