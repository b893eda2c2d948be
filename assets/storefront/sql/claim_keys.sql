-- Claim each request's Idempotency-Key for this transaction. A key another transaction holds makes this
-- wait until it ends: if it committed, the key is not returned here and its stored answer is read; if
-- it rolled back, the key is claimed here. status_code and answer are filled in before the commit, by
-- the row's ctid (record_answers.sql): a direct read of the row whatever the statistics say.
-- The requests come as one JSON document: [{"account_id", "idempotency_key", "request_sha"}, ...].
INSERT INTO ops.api_idempotency_keys (account_id, idempotency_key, request_sha, status_code, answer)
SELECT k.account_id, k.idempotency_key, k.request_sha, 202, '{}'::json
FROM json_to_recordset(CAST(:requests AS json)) AS k(account_id bigint, idempotency_key text, request_sha text)
ORDER BY k.account_id, k.idempotency_key
ON CONFLICT (account_id, idempotency_key) DO NOTHING
RETURNING account_id, idempotency_key, ctid::text AS row_ctid
