-- Accounts with outbound writes due now: pending ones whose next attempt has come, and in-flight ones
-- whose worker's lease expired (it died). Only :account_id's when given.
SELECT DISTINCT q.account_id, a.channel
FROM ops.outbound_queue q JOIN ops.accounts a USING (account_id)
WHERE ((q.status = 'pending' AND q.next_attempt_at <= now())
       OR (q.status = 'in_flight' AND q.lease_expires_at < now()))
  AND (CAST(:account_id AS bigint) IS NULL OR q.account_id = :account_id)
ORDER BY q.account_id
