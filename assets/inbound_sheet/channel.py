"""Google Sheets: the operations team's sheet of inbound deliveries, read with a service account."""
from marketsync.assets.channel_registry import Channel, register

CHANNEL = register(Channel(
    name="google_sheets",
    label="Google Sheets",
    resource="marketsync.assets.inbound_sheet.sheets:sheets_resource",
    definitions="marketsync.assets.inbound_sheet.definitions:defs",
))
