-- The answers of the requests whose keys this transaction claimed (by the ctids the claim returned: the
-- rows are this transaction's own, so they have not moved), stored for their retries.
UPDATE ops.api_idempotency_keys k
SET status_code = a.status_code, answer = a.answer, order_id = a.order_id
FROM unnest(CAST(:ctids AS tid[]), CAST(:codes AS smallint[]), CAST(:answers AS json[]), CAST(:orders AS bigint[]))
     AS a(row_ctid, status_code, answer, order_id)
WHERE k.ctid = a.row_ctid
