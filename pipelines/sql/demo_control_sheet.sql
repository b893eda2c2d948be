SELECT i.spreadsheet_id, i.worksheet
FROM ops.inbound_sheets i JOIN ops.stores s USING (store_id)
WHERE s.code = :c
