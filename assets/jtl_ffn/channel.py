"""JTL-FFN, the fulfilment network: holdings in, fulfilment orders (outbounds) out, through the
installation's OAuth client and each merchant's single-use refresh tokens."""
from assets.channel_registry import ApplicationClient, Channel, Outbound, register

API_POOL = "jtl_ffn_api"

CHANNEL = register(Channel(
    name="jtl_ffn",
    label="JTL-FFN",
    application_client=ApplicationClient("JTL_FFN_CLIENT_ID", "JTL_FFN_CLIENT_SECRET",
                                         resource="assets.jtl_ffn.outbound:application_resource"),
    definitions="assets.jtl_ffn.definitions:defs",
    stock_levels=("core", "fulfillment_stock"),
    partitions="assets.jtl_ffn.assets:jtl_ffn_accounts",
    outbound=Outbound(open="assets.jtl_ffn.outbound:open_outbound", pool=API_POOL),
    connection_test="assets.jtl_ffn.connection_check:check_connection",
))
