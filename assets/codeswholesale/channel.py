"""CodesWholesale, the supplier of digital keys: its price list in (an OAuth client per store source)."""
from assets.channel_registry import Channel, register

CHANNEL = register(Channel(
    name="codeswholesale",
    label="CodesWholesale",
    resource="resources.codeswholesale:CodesWholesaleResource",
    catalog=("core", "codeswholesale_products"),
    definitions="assets.codeswholesale.definitions:defs",
    connection_test="assets.codeswholesale.connection_check:check_connection",
))
