"""eBay sandbox: the Sell Fulfillment API (orders, shipping fulfillments) and the Sell Inventory API
(inventory items, offers, bulk price and quantity updates) behind eBay's OAuth token endpoint, with
refresh tokens and scopes, daily call quotas, a seeded seller of any size (50,000 orders start in a
fraction of a second) and faults on demand (5xx, 429 storms, slow and hung answers, answers lost after
the request took effect).

Typical use in a test::

    state = EbayState(seed=42, orders=1000, clients={"app-id": "cert-id"})
    refresh_token = state.grant()["refresh_token"]       # what the seller's consent yields
    with serve_in_thread(create_app(state)) as server:
        ...  # every API, and the token endpoint, at server.base_url

Names are imported lazily, so using only the data generator does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "Catalogue": "data",
    "OrderBook": "data",
    "EbayState": "state",
    "ApiError": "state",
    "Fault": "state",
    "Rejection": "state",
    "scope": "state",
    "DEFAULT_CLIENT_ID": "state",
    "DEFAULT_CLIENT_SECRET": "state",
    "DEFAULT_USER": "state",
    "DEFAULT_GRANT_SCOPES": "state",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
