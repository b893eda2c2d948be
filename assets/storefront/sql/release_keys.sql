-- Release the keys of requests that were refused: the shop may correct the body and send it again.
DELETE FROM ops.api_idempotency_keys k
USING unnest(CAST(:accounts AS bigint[]), CAST(:keys AS text[])) AS r(account_id, idempotency_key)
WHERE k.account_id = r.account_id AND k.idempotency_key = r.idempotency_key
