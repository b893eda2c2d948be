"""JTL-FFN, the fulfilment network: holdings in, fulfilment orders (outbounds) out, through the
installation's OAuth client and each merchant's single-use refresh tokens."""
from marketsync.assets.channel_registry import ApplicationClient, Channel, Outbound, register

API_POOL = "jtl_ffn_api"

CHANNEL = register(Channel(
    name="jtl_ffn",
    label="JTL-FFN",
    application_client=ApplicationClient("JTL_FFN_CLIENT_ID", "JTL_FFN_CLIENT_SECRET",
                                         resource="marketsync.assets.jtl_ffn.outbound:application_resource"),
    definitions="marketsync.assets.jtl_ffn.definitions:defs",
    stock_levels=("core", "fulfillment_stock"),
    partitions="marketsync.assets.jtl_ffn.assets:jtl_ffn_accounts",
    outbound=Outbound(open="marketsync.assets.jtl_ffn.outbound:open_outbound", pool=API_POOL),
    connection_test="marketsync.assets.jtl_ffn.connection:check_connection",
))
