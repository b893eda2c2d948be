"""Amazon Selling Partner API sandbox: Login with Amazon's token endpoint, the Orders API v2026-01-01
(searchOrders, getOrder), confirmShipment (Orders v0), the Listings Items API (getListingsItem,
patchListingsItem) and the Feeds API (JSON_LISTINGS_FEED with its documents and processing report),
with the documented usage plans as token buckets, opaque paging tokens, a seeded selling partner of
any size and faults on demand (5xx, 429 storms, slow, hang, answers lost after a write), plus
Amazon's static sandbox answering the models' fixed request/response pairs.

Typical use in a test::

    state = AmazonState(seed=42, size=1000)
    refresh_token = state.authorize()                    # what the selling partner's consent yields
    with serve_in_thread(create_app(state)) as server:
        ...  # LWA at server.base_url + "/auth/o2/token", the SP-API at server.base_url

Names are imported lazily, so using only the data generator does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "STATIC_PREFIX": "app",
    "Catalogue": "data",
    "OrderBook": "data",
    "MARKETPLACE_IDS": "data",
    "DEFAULT_SELLER_ID": "data",
    "AmazonState": "state",
    "ApiError": "state",
    "Fault": "state",
    "Query": "state",
    "RATE_LIMITS": "state",
    "DEFAULT_CLIENT_ID": "state",
    "DEFAULT_CLIENT_SECRET": "state",
    "load_vectors": "vectors",
    "process_listings_feed": "feeds",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
