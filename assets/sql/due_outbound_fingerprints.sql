-- Per account with writes due now: how many, the newest and the attempts so far. The fingerprint of
-- that work names a drain's run_key: unchanged while a drain works on it, new when a retry comes due.
-- Longest waiting first: a sensor tick requests a bounded number of drains.
SELECT q.account_id, a.channel, s.code AS store, count(*) AS due, max(q.outbound_id) AS newest,
       sum(q.attempts) AS attempts
FROM ops.outbound_queue q
JOIN ops.accounts a USING (account_id)
JOIN ops.stores s ON s.store_id = a.store_id
WHERE (q.status = 'pending' AND q.next_attempt_at <= now())
   OR (q.status = 'in_flight' AND q.lease_expires_at < now())
GROUP BY q.account_id, a.channel, s.code
ORDER BY min(q.next_attempt_at), q.account_id  -- the account waiting longest first
