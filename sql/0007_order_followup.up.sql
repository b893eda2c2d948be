-- Follow-up of new orders and alert streaks (issue 11).
--
-- core.orders.followed_up_at: set by an order's follow-up run (matching, then the auto-confirm rule)
-- once it has handled the order. The new-orders sensor asks for a follow-up of every account that has
-- orders without it, so an order is followed up whatever the commit order of concurrent imports.
-- Orders already in the warehouse count as followed up (their matching ran inline or by the old sensor).
ALTER TABLE core.orders ADD COLUMN followed_up_at timestamptz;
UPDATE core.orders SET followed_up_at = imported_at;
CREATE INDEX orders_awaiting_followup ON core.orders (account_id) WHERE followed_up_at IS NULL;

-- ops.alerts: a failure streak of one store account raises one alert, kept open (closed_at null) while
-- the streak lasts; later failures count on it (occurrences, last_message) instead of adding rows.
ALTER TABLE ops.alerts
    ADD COLUMN account_id   bigint REFERENCES ops.accounts ON DELETE SET NULL,
    ADD COLUMN occurrences  integer NOT NULL DEFAULT 1,
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN closed_at    timestamptz;
CREATE UNIQUE INDEX alerts_open_streak ON ops.alerts (source, account_id)
    WHERE closed_at IS NULL AND account_id IS NOT NULL;
