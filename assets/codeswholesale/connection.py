"""A session with CodesWholesale for one store: the store source's URL and client credentials (from the
vault) to the CodesWholesale client; and `marketsync test-connection STORE codeswholesale`."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marketsync.assets.codeswholesale.catalog import get_codeswholesale_source
from marketsync.resources.codeswholesale import CodesWholesaleApi, CodesWholesaleResource
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


@contextmanager
def source_session(warehouse: Warehouse, vault: CredentialVault, codeswholesale: CodesWholesaleResource,
                   store: str) -> Iterator[tuple[int, CodesWholesaleApi]]:
    """(store_id, a session) for the store's CodesWholesale source."""
    with warehouse.begin() as conn:
        source = get_codeswholesale_source(conn, store)
        secrets = vault.load_source(conn, source.source_id)
    if secrets is None:
        raise MarketsyncError(f"no client credentials stored for the CodesWholesale source of '{store}'")
    with codeswholesale.session(source.base_url, secrets.reveal("client_id"), secrets.reveal("client_secret")) as api:
        yield source.store_id, api


def check_connection(warehouse: Warehouse, vault: CredentialVault, codeswholesale: CodesWholesaleResource,
                     store: str) -> str:
    """Pings CodesWholesale with the store source's client; returns where it answered from."""
    with source_session(warehouse, vault, codeswholesale, store) as (_store_id, api):
        api.ping()
        return f" ({api.base_url})"
