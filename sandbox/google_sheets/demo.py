"""The demo spreadsheet: an inbound-shipment control sheet a merchant keeps by hand.

One row per SKU expected in an inbound delivery to the warehouse; the status column is the one
marketsync fills in. Fixed content, so the demo and the docs can name its cells.
"""

from __future__ import annotations

from .state import GoogleSheetsState

DEMO_SPREADSHEET_ID = "1msDemoInboundControl_sandbox-00000000000000"
DEMO_TITLE = "Inbound Control (demo)"
DEMO_WORKSHEET = "Inbound Control"
DEMO_HEADER = ["Merchant SKU", "Product", "Expected units", "Inbound reference", "Expected on", "Status"]
DEMO_ROWS = [
    ["DEMO-TSHIRT-BLK-M", "T-shirt black M", 24, "INB-2024-0117", "2024-11-04", ""],
    ["DEMO-TSHIRT-BLK-L", "T-shirt black L", 24, "INB-2024-0117", "2024-11-04", ""],
    ["DEMO-HOODIE-GRY-M", "Hoodie grey M", 12, "INB-2024-0117", "2024-11-04", ""],
    ["DEMO-MUG-WHT", "Mug white", 48, "INB-2024-0118", "2024-11-06", ""],
    ["DEMO-CAP-NVY", "Cap navy", 30, "INB-2024-0118", "2024-11-06", ""],
    ["DEMO-SOCKS-3P", "Socks 3-pack", 60, "INB-2024-0119", "2024-11-08", ""],
    ["DEMO-TOTE-NAT", "Tote bag natural", 40, "INB-2024-0119", "2024-11-08", ""],
    ["DEMO-POSTER-A2", "Poster A2", 15, "INB-2024-0120", "2024-11-12", ""],
]


def seed_demo(state: GoogleSheetsState) -> str:
    """Add the demo spreadsheet (with a second, empty "Notes" tab); returns its id."""
    spreadsheet_id = state.add_spreadsheet(DEMO_TITLE, [DEMO_HEADER, *DEMO_ROWS], worksheet=DEMO_WORKSHEET,
                                           spreadsheet_id=DEMO_SPREADSHEET_ID, frozen_rows=1)
    state.add_worksheet(spreadsheet_id, "Notes", [["Filled in by marketsync: the Status column."]])
    return spreadsheet_id
