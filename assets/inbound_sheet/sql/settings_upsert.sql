INSERT INTO ops.inbound_sheets (store_id, spreadsheet_id, worksheet, header_row, sku_column, expected_column,
                                status_column, reference_column, compare_with, check_cron, check_timezone, enabled)
VALUES (:store_id, :spreadsheet_id, :worksheet, :header_row, :sku_column, :expected_column, :status_column,
        :reference_column, :compare_with, :check_cron, :check_timezone, :enabled)
ON CONFLICT (store_id) DO UPDATE SET
    spreadsheet_id = excluded.spreadsheet_id, worksheet = excluded.worksheet, header_row = excluded.header_row,
    sku_column = excluded.sku_column, expected_column = excluded.expected_column,
    status_column = excluded.status_column, reference_column = excluded.reference_column,
    compare_with = excluded.compare_with, check_cron = excluded.check_cron,
    check_timezone = excluded.check_timezone, enabled = excluded.enabled, updated_at = now()
RETURNING *
