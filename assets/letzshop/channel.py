"""Letzshop, the Luxembourg marketplace: shipments in, confirmations and tracking out (GraphQL, an API key
per store)."""
from assets.channel_registry import Channel, Orders, Outbound, Stock, register

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
    resource="resources.letzshop:LetzshopResource",
    definitions="assets.letzshop.definitions:defs",
    partitions="assets.letzshop.orders:letzshop_accounts",
    orders=Orders(asset=("core", "letzshop_orders"), assets="assets.letzshop.orders:letzshop_assets",
                  imported="shipments", confirms=True,
                  import_asset="assets.letzshop.orders:letzshop_order_import",
                  states="assets.letzshop.orders:import_run_config"),
    # Letzshop lists the store's catalog. Its GraphQL schema has no stock mutation today: stock goes out
    # as an inventory file; the GraphQL adapter is for the day it has one.
    catalog=("core", "letzshop_catalog"),
    stock=Stock(adapters={"letzshop_csv": "assets.letzshop.stock:csv_adapter",
                          "letzshop_graphql": "assets.letzshop.stock:graphql_adapter"}, listings="catalog"),
    outbound=Outbound(open="assets.letzshop.outbound:open_outbound", pool=API_POOL),
    connection_test="assets.letzshop.connection_check:check_connection",
))
