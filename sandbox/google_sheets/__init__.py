"""Google Sheets v4 API sandbox: spreadsheets in memory behind the routes the real gspread client
calls (spreadsheets.get, values get / update / batchUpdate / clear, a little of Drive), with
Google's error bodies, per-token read and write quotas, and faults on demand.

Typical use in a test::

    state = GoogleSheetsState(read_quota=5)
    sheet_id = state.add_spreadsheet("Inbound Control", [["Merchant SKU", "Status"], ["SKU-1", ""]],
                                     worksheet="Inbound Control")
    with serve_in_thread(create_app(state)) as server:
        ...  # point GoogleSheetsResource(base_url=server.base_url, bearer_token="any") at it

Names are imported lazily, so using only the state does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "GoogleSheetsState": "state",
    "ApiError": "state",
    "Fault": "state",
    "seed_demo": "demo",
    "DEMO_SPREADSHEET_ID": "demo",
    "DEMO_WORKSHEET": "demo",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
