-- The answers of the requests whose keys this transaction claimed, stored for their retries.
UPDATE ops.api_idempotency_keys k
SET status_code = a.status_code, answer = a.answer, order_id = a.order_id
FROM unnest(CAST(:accounts AS bigint[]), CAST(:keys AS text[]), CAST(:codes AS smallint[]),
            CAST(:answers AS json[]), CAST(:orders AS bigint[]))
     AS a(account_id, idempotency_key, status_code, answer, order_id)
WHERE k.account_id = a.account_id AND k.idempotency_key = a.idempotency_key
