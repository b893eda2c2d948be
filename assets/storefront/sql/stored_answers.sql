-- What earlier requests with these Idempotency-Keys were answered.
SELECT k.account_id, k.idempotency_key, k.request_sha, k.status_code, k.answer
FROM ops.api_idempotency_keys k
JOIN unnest(CAST(:accounts AS bigint[]), CAST(:keys AS text[])) AS w(account_id, idempotency_key)
  ON w.account_id = k.account_id AND w.idempotency_key = k.idempotency_key
