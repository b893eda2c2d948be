-- Indexes that keep the operations metrics (sql/operations_metrics.sql), /metrics and the status page as
-- fast with a year of history as with a day (benchmarks/operations.py: 1,000 stores x 3 accounts).

-- Each account's last successful stock push, found by one backward probe (the inventory sync lag).
CREATE INDEX inventory_syncs_succeeded ON ops.inventory_syncs (account_id, finished_at)
    WHERE status IN ('succeeded', 'partially_succeeded');

-- The writes the outbound queue still holds (queue depth, dead letters, /metrics' outbound items): a few
-- hundred entries, however many writes have succeeded before them.
CREATE INDEX outbound_queue_open ON ops.outbound_queue (account_id, status) WHERE status <> 'succeeded';

-- Orders per hour of the last day (the status page's chart), by when the buyer ordered.
CREATE INDEX orders_ordered_at ON core.orders (ordered_at);
