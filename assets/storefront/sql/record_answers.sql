-- The answers of the requests whose keys this transaction claimed (by the ctids the claim returned: the
-- rows are this transaction's own, so they have not moved), stored for their retries. One JSON
-- document: [{"row_ctid", "status_code", "answer", "order_id"}, ...].
UPDATE ops.api_idempotency_keys k
SET status_code = a.status_code, answer = a.answer, order_id = a.order_id
FROM json_to_recordset(CAST(:answers AS json)) AS a(row_ctid tid, status_code smallint, answer json, order_id bigint)
WHERE k.ctid = a.row_ctid
