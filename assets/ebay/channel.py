"""eBay (Sell APIs): orders in, shipping fulfilments and inventory out, through the installation's eBay
application and each seller's refresh token."""
from marketsync.assets.channel_registry import ApplicationClient, Channel, Orders, Outbound, Prices, Stock, register

API_POOL = "ebay_api"

CHANNEL = register(Channel(
    name="ebay",
    label="eBay",
    application_client=ApplicationClient("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET",
                                         resource="marketsync.resources.ebay:EbayResource"),
    definitions="marketsync.assets.ebay.definitions:defs",
    partitions="marketsync.assets.ebay.orders:ebay_accounts",
    orders=Orders(asset=("core", "ebay_orders"), assets="marketsync.assets.ebay.orders:ebay_assets",
                  import_store="marketsync.assets.ebay.orders:import_store",
                  imported="orders changed since its cursor",
                  digital_delivered="marketsync.assets.ebay.digital:fulfil_digital_lines",
                  reconcile="marketsync.assets.ebay.reconcile:orders_created"),
    # eBay lists what the merchant listed there (known from sales, acknowledgements and rules).
    stock=Stock(adapters={"ebay_inventory": "marketsync.assets.ebay.stock:adapter"}, listings="known"),
    # Prices: the published offers' price by bulkUpdatePriceQuantity.
    prices=Prices(adapter="marketsync.assets.ebay.prices:adapter", listings="known"),
    outbound=Outbound(open="marketsync.assets.ebay.outbound:open_outbound", pool=API_POOL),
    connection_test="marketsync.assets.ebay.connection:check_connection",
))
