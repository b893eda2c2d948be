"""Letzshop seller API sandbox: seeded orders behind a GraphQL endpoint that can misbehave.

Typical use in a test::

    state = LetzshopState(seed=42, size=200, api_keys=["k"])
    with serve_in_thread(create_app(state)) as server:
        ...  # point the importer at f"{server.base_url}/graphql" with key "k"

Names are imported lazily, so using only the data generators does not load the web stack.
"""

from marketsync.sandbox.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "catalog_csv_rows": "data",
    "expected_figures": "data",
    "generate_catalog": "data",
    "generate_shipments": "data",
    "DEFAULT_API_KEY": "state",
    "Fault": "state",
    "InventoryFaults": "inventory",
    "InventoryUpload": "state",
    "LetzshopState": "state",
    "MutationRecord": "state",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
