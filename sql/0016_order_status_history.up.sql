-- Every change of an order's cross-channel status, its channel state and our sync status, as a row:
-- old, new, when, and what caused it (an import, an outbound write, a person through the CLI, a Dagster
-- run). The writers tell the database who and what they are for the transaction (resources/
-- session_context.py: marketsync.actor, marketsync.cause); a trigger on core.orders records the change,
-- whichever code made it. Orders that exist already get what is known of their past (backfill below).
CREATE TABLE core.order_status_history (
    history_id  bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES core.orders ON DELETE CASCADE,
    store_id    bigint NOT NULL REFERENCES ops.stores,
    field       text NOT NULL CHECK (field IN ('status', 'channel_state', 'sync_status')),
    old_value   text,
    new_value   text,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    cause       text NOT NULL,
    actor       text
);
CREATE INDEX order_status_history_order ON core.order_status_history (order_id, history_id);
CREATE INDEX order_status_history_store_time ON core.order_status_history (store_id, changed_at);

-- What is known of the existing orders' past: when each was imported, confirmed (its confirmation's
-- successful write) and shipped, and the state and status they have now, as of their last change.
WITH known AS (
    SELECT o.order_id, o.store_id, o.sync_status, o.status, o.channel_state, o.imported_at, o.updated_at,
           o.shipped_at,
           (SELECT min(q.completed_at) FROM ops.outbound_queue q
            WHERE q.order_id = o.order_id AND q.status = 'succeeded' AND strpos(q.operation, 'confirm') > 0) AS confirmed_at
    FROM core.orders o
), steps AS (
    SELECT order_id, store_id, 'sync_status' AS field, NULL AS old_value, 'imported' AS new_value,
           imported_at AS changed_at, 1 AS step
    FROM known
    UNION ALL
    SELECT order_id, store_id, 'sync_status', 'imported', 'confirmed', coalesce(confirmed_at, updated_at), 2
    FROM known WHERE sync_status = 'confirmed' OR (sync_status = 'shipped' AND confirmed_at IS NOT NULL)
    UNION ALL
    SELECT order_id, store_id, 'sync_status', CASE WHEN confirmed_at IS NULL THEN 'imported' ELSE 'confirmed' END,
           'shipped', coalesce(shipped_at, updated_at), 3
    FROM known WHERE sync_status = 'shipped'
    UNION ALL
    SELECT order_id, store_id, 'sync_status', 'imported', sync_status, updated_at, 3
    FROM known WHERE sync_status NOT IN ('imported', 'confirmed', 'shipped')
    UNION ALL
    SELECT order_id, store_id, 'channel_state', NULL, channel_state, updated_at, 4 FROM known
    UNION ALL
    SELECT order_id, store_id, 'status', NULL, status, updated_at, 5 FROM known WHERE status IS NOT NULL
)
INSERT INTO core.order_status_history (order_id, store_id, field, old_value, new_value, changed_at, cause)
SELECT order_id, store_id, field, old_value, new_value, changed_at,
       'backfill: known from the order when its history began'
FROM steps ORDER BY order_id, changed_at, step;

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

-- A store role reads its stores' history only (as every core table: migration 0015).
ALTER TABLE core.order_status_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.order_status_history FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR store_id IN (SELECT v.store_id FROM core.visible_stores v));
