DROP INDEX IF EXISTS ops.alerts_open_streak;
ALTER TABLE ops.alerts DROP COLUMN IF EXISTS closed_at, DROP COLUMN IF EXISTS last_seen_at,
    DROP COLUMN IF EXISTS occurrences, DROP COLUMN IF EXISTS account_id;
DROP INDEX IF EXISTS core.orders_awaiting_followup;
ALTER TABLE core.orders DROP COLUMN IF EXISTS followed_up_at;
