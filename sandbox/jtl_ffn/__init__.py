"""JTL Fulfillment Network (FFN) sandbox: the Merchant API (products, stock per warehouse, inbounds,
outbounds and their shipping notifications) behind FFN's OAuth token endpoint, with single-use
refresh tokens, `$top`/`$skip` paging and a seeded merchant of any size, able to misbehave (5xx, 429
with Retry-After, tokens expiring mid-paging, answers lost after a write).

Typical use in a test::

    state = JtlFfnState(seed=42, size=1000, clients={"app": "secret"})
    refresh_token = state.grant()["refresh_token"]       # what the merchant's consent yields
    with serve_in_thread(create_app(state)) as server:
        ...  # the API at server.base_url, the token endpoint at server.base_url + "/token"

Names are imported lazily, so using only the data generator does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "Catalogue": "data",
    "JtlFfnState": "state",
    "ApiError": "state",
    "Fault": "state",
    "DEFAULT_CLIENT_ID": "state",
    "DEFAULT_CLIENT_SECRET": "state",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
