"""Letzshop, the Luxembourg marketplace: shipments in, confirmations and tracking out (GraphQL, an API key
per store)."""
from marketsync.assets.channel_registry import Channel, Orders, Outbound, Prices, Stock, register

API_POOL = "letzshop_api"

CHANNEL = register(Channel(
    name="letzshop",
    label="Letzshop",
    account_defaults={
        "endpoint": "https://letzshop.lu/graphql",
        "settings": {
            "page_size": 100,
            "import_states": ["unconfirmed"],
            "auto_confirm": False,
            "currency": "EUR",
            "request_timeout_seconds": 30,
            "default_carrier": "greco",
            # Label URL = prefix + shipment number, per carrier.
            "carrier_label_prefixes": {"greco": "https://dispatchweb.fr/Tracky/Home/"},
        },
    },
    resource="marketsync.resources.letzshop:LetzshopResource",
    definitions="marketsync.assets.letzshop.definitions:defs",
    partitions="marketsync.assets.letzshop.orders:letzshop_accounts",
    orders=Orders(asset=("core", "letzshop_orders"), assets="marketsync.assets.letzshop.orders:letzshop_assets",
                  imported="shipments", confirms=True,
                  import_asset="marketsync.assets.letzshop.orders:letzshop_order_import",
                  import_store="marketsync.assets.letzshop.orders:import_store_orders",
                  states="marketsync.assets.letzshop.orders:import_run_config",
                  digital_delivered="marketsync.assets.letzshop.digital:confirm_digital_delivery",
                  reconcile="marketsync.assets.letzshop.reconcile:shipments_completed"),
    # Letzshop lists the store's catalog. Its GraphQL schema has no stock mutation today: stock goes out
    # as an inventory file; the GraphQL adapter is for the day it has one.
    catalog=("core", "letzshop_catalog"),
    stock=Stock(adapters={"letzshop_csv": "marketsync.assets.letzshop.stock:csv_adapter",
                          "letzshop_graphql": "marketsync.assets.letzshop.stock:graphql_adapter"}, listings="catalog"),
    # Prices: the product file (Google Shopping's `price`) carries them, the inventory file has none.
    prices=Prices(adapter="marketsync.assets.letzshop.prices:adapter", listings="catalog"),
    outbound=Outbound(open="marketsync.assets.letzshop.outbound:open_outbound", pool=API_POOL),
    connection_test="marketsync.assets.letzshop.connection:check_connection",
))
