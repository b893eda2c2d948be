"""Letzshop, the Luxembourg marketplace: shipments in, confirmations and tracking out (GraphQL, an API key
per store)."""
from assets.channel_registry import Channel, Outbound, register

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
    outbound=Outbound(open="assets.letzshop.outbound:open_outbound", pool=API_POOL),
))
