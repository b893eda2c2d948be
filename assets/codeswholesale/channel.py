"""CodesWholesale, the supplier of digital keys: its price list in (an OAuth client per store source)."""
from marketsync.assets.channel_registry import Channel, register

CHANNEL = register(Channel(
    name="codeswholesale",
    label="CodesWholesale",
    resource="marketsync.resources.codeswholesale:CodesWholesaleResource",
    catalog=("core", "codeswholesale_products"),
    definitions="marketsync.assets.codeswholesale.definitions:defs",
    connection_test="marketsync.assets.codeswholesale.connection:check_connection",
))
