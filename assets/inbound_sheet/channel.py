"""Google Sheets: the operations team's sheet of inbound deliveries, read with a service account."""
from assets.channel_registry import Channel, register

CHANNEL = register(Channel(
    name="google_sheets",
    label="Google Sheets",
    resource="assets.inbound_sheet.sheets:sheets_resource",
    definitions="assets.inbound_sheet.definitions:defs",
))
