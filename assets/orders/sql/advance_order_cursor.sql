-- The account's cursor moves to the end of a window whose every page committed; never backwards.
INSERT INTO ops.order_cursors (account_id, last_modified_at) VALUES (:a, :t)
ON CONFLICT (account_id) DO UPDATE SET updated_at = now(),
    last_modified_at = greatest(ops.order_cursors.last_modified_at, excluded.last_modified_at)
RETURNING last_modified_at
