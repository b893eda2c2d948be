-- An ignored exception still blocks, as a pending one does: ignoring one is not answering it.
SELECT o.order_id FROM core.orders o
WHERE o.account_id = :a AND o.sync_status = 'imported' AND o.channel_state = 'unconfirmed'
  AND NOT EXISTS (SELECT 1 FROM core.order_items i
                  WHERE i.order_id = o.order_id AND i.match_status <> 'matched')
  AND NOT EXISTS (SELECT 1 FROM ops.order_exceptions e
                  WHERE e.order_id = o.order_id AND e.status IN ('pending', 'ignored'))
ORDER BY o.order_id
