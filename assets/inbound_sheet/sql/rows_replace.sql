-- The sheet's rows as just read replace the previous reading of the store's sheet.
DELETE FROM raw.inbound_sheet_rows WHERE store_id = :store_id
