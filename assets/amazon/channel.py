"""Amazon (Selling Partner API): orders in, shipment confirmations and listings' stock out, through the
installation's Login with Amazon application and each seller's refresh token."""
from marketsync.assets.channel_registry import ApplicationClient, Channel, Orders, Outbound, Prices, Stock, register

API_POOL = "amazon_sp_api"

CHANNEL = register(Channel(
    name="amazon",
    label="Amazon",
    application_client=ApplicationClient("AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET",
                                         resource="marketsync.resources.amazon_sp_api:AmazonSpApiResource"),
    definitions="marketsync.assets.amazon.definitions:defs",
    partitions="marketsync.assets.amazon.orders:amazon_accounts",
    orders=Orders(asset=("core", "amazon_orders"), assets="marketsync.assets.amazon.orders:amazon_assets",
                  import_store="marketsync.assets.amazon.orders:import_store",
                  imported="orders changed since its cursor",
                  digital_delivered="marketsync.assets.amazon.digital:ask_merchant_to_confirm",
                  reconcile="marketsync.assets.amazon.reconcile:orders_created"),
    # Amazon lists what the merchant listed there (known from sales, acknowledgements and rules).
    stock=Stock(adapters={"amazon_listings": "marketsync.assets.amazon.stock:adapter"}, listings="known"),
    # Prices: purchasable_offer by patchListingsItem (a few) or JSON_LISTINGS_FEED (many).
    prices=Prices(adapter="marketsync.assets.amazon.prices:adapter", listings="known"),
    outbound=Outbound(open="marketsync.assets.amazon.outbound:open_outbound", pool=API_POOL),
    connection_test="marketsync.assets.amazon.connection:check_connection",
))
