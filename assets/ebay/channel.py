"""eBay (Sell APIs): orders in, shipping fulfilments and inventory out, through the installation's eBay
application and each seller's refresh token."""
from assets.channel_registry import ApplicationClient, Channel, Orders, Outbound, Stock, register

API_POOL = "ebay_api"

CHANNEL = register(Channel(
    name="ebay",
    label="eBay",
    application_client=ApplicationClient("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET",
                                         resource="resources.ebay:EbayResource"),
    definitions="assets.ebay.definitions:defs",
    partitions="assets.ebay.orders:ebay_accounts",
    orders=Orders(asset=("core", "ebay_orders"), assets="assets.ebay.orders:ebay_assets",
                  imported="orders changed since its cursor"),
    # eBay lists what the merchant listed there (known from sales, acknowledgements and rules).
    stock=Stock(adapters={"ebay_inventory": "assets.ebay.stock:adapter"}, listings="known"),
    outbound=Outbound(open="assets.ebay.outbound:open_outbound", pool=API_POOL),
    connection_test="assets.ebay.connection_check:check_connection",
))
