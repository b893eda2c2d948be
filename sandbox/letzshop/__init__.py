"""Letzshop seller API sandbox: seeded orders behind a GraphQL endpoint that can misbehave.

Typical use in a test::

    state = LetzshopState(seed=42, size=200, api_keys=["k"])
    with serve_in_thread(create_app(state)) as server:
        ...  # point the importer at f"{server.base_url}/graphql" with key "k"
"""

from .app import create_app
from .data import catalog_csv_rows, expected_figures, generate_catalog, generate_shipments
from .state import DEFAULT_API_KEY, Fault, LetzshopState, MutationRecord

__all__ = [
    "DEFAULT_API_KEY", "Fault", "LetzshopState", "MutationRecord", "catalog_csv_rows",
    "create_app", "expected_figures", "generate_catalog", "generate_shipments",
]
