"""CodesWholesale v3 API sandbox: a seeded price list of digital keys behind OAuth client
credentials and continuation-token paging, an account balance that orders of keys are charged to
(text, image and pre-ordered codes, codes arriving late), able to misbehave (5xx, 429 with
Retry-After, access tokens expiring mid-paging, an order's answer lost after it was charged).

Typical use in a test::

    state = CodesWholesaleState(seed=42, size=1000, clients={"id": "secret"})
    with serve_in_thread(create_app(state)) as server:
        ...  # point the client at server.base_url with client credentials id / secret

Names are imported lazily, so using only the data generator does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "generate_products": "data",
    "single_unit_price": "data",
    "Anomalies": "data",
    "CodesWholesaleState": "state",
    "Fault": "state",
    "Charge": "orders",
    "OrderRefused": "orders",
    "DEFAULT_CLIENT_ID": "state",
    "DEFAULT_CLIENT_SECRET": "state",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
