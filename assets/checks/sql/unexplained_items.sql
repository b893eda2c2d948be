-- Order items neither matched to a product nor explained by an exception (pending, or ignored by a
-- person): matching said "unmatched" without opening one, or the item waited for matching for more than
-- :grace_minutes after its order landed (its follow-up never ran).
WITH unexplained AS (
    SELECT o.order_number, i.channel_item_id
    FROM core.order_items i JOIN core.orders o USING (order_id)
    WHERE o.channel = :channel
      AND i.match_status <> 'matched'
      AND (i.match_status = 'unmatched' OR o.imported_at < now() - make_interval(mins => :grace_minutes))
      AND NOT EXISTS (SELECT 1 FROM ops.order_exceptions e
                      WHERE e.order_item_id = i.order_item_id AND e.status IN ('pending', 'ignored'))
)
SELECT count(*) AS failing,
       (array_agg(order_number || ' item ' || channel_item_id ORDER BY order_number))[1:5] AS examples
FROM unexplained
