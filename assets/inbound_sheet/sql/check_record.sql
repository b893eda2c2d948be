INSERT INTO ops.inbound_checks (store_id, run_id, rows_checked, matched, mismatched, problems, cells_written)
VALUES (:s, :r, :n, :m, :x, :p, :w)
