-- Release the keys of requests that were refused: the shop may correct the body and send it again.
DELETE FROM ops.api_idempotency_keys k
USING unnest(CAST(:ctids AS tid[])) AS r(row_ctid)
WHERE k.ctid = r.row_ctid
