-- An order's status history, oldest first: each change of its status, channel state or sync status.
SELECT h.changed_at, h.field, h.old_value, h.new_value, h.cause, h.actor
FROM core.order_status_history h
WHERE h.order_id = :o
ORDER BY h.changed_at, h.history_id
