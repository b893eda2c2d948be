-- What earlier requests with these Idempotency-Keys were answered ([{"account_id", "idempotency_key"}]).
SELECT k.account_id, k.idempotency_key, k.request_sha, k.status_code, k.answer
FROM json_to_recordset(CAST(:keys AS json)) AS w(account_id bigint, idempotency_key text)
JOIN ops.api_idempotency_keys k ON k.account_id = w.account_id AND k.idempotency_key = w.idempotency_key
