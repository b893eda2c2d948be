"""The operations team's inbound control sheet as the demo writes it into the Google Sheets simulator, and
as `make dev` restores it in a fresh simulator (whose spreadsheets live in memory)."""
from __future__ import annotations

from marketsync.resources.sql_files import query_beside

HEADER = ["Merchant SKU", "Expected units", "Inbound reference", "Status"]
SHEET_TITLE, WORKSHEET = "Inbound Control (demo)", "Inbound Control"


def control_sheet_rows(conn, account_id: int) -> list[list[str]]:
    """The operations team's sheet as the demo writes it: a row per received inbound line (every line
    names its inbound but one, compared with all receipts of its SKU; one count is wrong), then rows that
    cannot be checked (no SKU, a SKU the warehouse never stocked, a count that is not a number)."""
    lines = conn.execute(query_beside(__file__, "demo_received_inbound_lines.sql"), {"a": account_id}).all()
    rows = [HEADER] + [[sku, str(int(received) + (2 if k == 1 else 0)), "" if k == 4 else reference, ""]
                       for k, (reference, sku, received) in enumerate(lines)]
    return [*rows, ["", "4", "", ""], ["NOT-STOCKED-1", "3", "", ""],
            [lines[0][1] if lines else "X", "a dozen", "", ""]]


def restore_control_sheet(conn, store: str, account_id: int, sheets_state) -> str | None:
    """`make dev`: the control sheet the demo configured, under its stored id, in a fresh Sheets
    simulator (its spreadsheets live in memory), so the store's scheduled check finds it."""
    stored = conn.execute(query_beside(__file__, "demo_control_sheet.sql"), {"c": store}).first()
    if stored is None:
        return None
    return sheets_state.add_spreadsheet(SHEET_TITLE, control_sheet_rows(conn, account_id), worksheet=stored.worksheet,
                                        spreadsheet_id=stored.spreadsheet_id)
