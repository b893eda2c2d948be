-- The enabled accounts of the given channels whose credentials are stored: (channel, store code).
SELECT a.channel, s.code FROM ops.accounts a JOIN ops.stores s USING (store_id)
WHERE a.enabled AND a.channel = ANY(:channels)
  AND EXISTS (SELECT 1 FROM ops.credentials c WHERE c.account_id = a.account_id)
