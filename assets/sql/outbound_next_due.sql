-- The next item due for an attempt among :ops (of :accounts when given), locked for the claim. :now
-- fixes the clock (tests); null: the database's clock decides.
-- Writes for one order go out in the order they were asked for (tracking never overtakes the
-- confirmation it depends on), so an item waits while an earlier one for its order is unfinished.
SELECT outbound_id, status = 'in_flight' AS lease_expired
FROM ops.outbound_queue q
WHERE operation = ANY(:ops)
  AND NOT EXISTS (SELECT 1 FROM ops.outbound_queue earlier
                  WHERE earlier.order_id = q.order_id AND earlier.outbound_id < q.outbound_id
                    AND earlier.status IN ('pending', 'in_flight'))
  AND (CAST(:accounts AS bigint[]) IS NULL OR account_id = ANY(CAST(:accounts AS bigint[])))
  AND account_id <> ALL(CAST(:throttled AS bigint[]))
  AND outbound_id <> ALL(CAST(:skip AS bigint[]))
  AND ((status = 'pending' AND next_attempt_at <= coalesce(CAST(:now AS timestamptz), clock_timestamp()))
       OR (status = 'in_flight' AND lease_expires_at < coalesce(CAST(:now AS timestamptz), clock_timestamp())))
ORDER BY next_attempt_at, outbound_id
LIMIT 1
FOR UPDATE SKIP LOCKED
