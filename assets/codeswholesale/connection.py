"""`marketsync test-connection STORE codeswholesale`: the store source's client credentials and one
authorised call."""
from __future__ import annotations

from marketsync.assets.codeswholesale.catalog import get_codeswholesale_source
from marketsync.resources.codeswholesale import CodesWholesaleResource
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def check_connection(warehouse: Warehouse, vault: CredentialVault, codeswholesale: CodesWholesaleResource,
                     store: str) -> str:
    """Pings CodesWholesale with the store source's client; returns where it answered from."""
    with warehouse.begin() as conn:
        source = get_codeswholesale_source(conn, store)
        secrets = vault.load_source(conn, source.source_id)
    if secrets is None:
        raise MarketsyncError(f"no client credentials stored for the CodesWholesale source of '{store}'")
    with codeswholesale.session(source.base_url, secrets.reveal("client_id"), secrets.reveal("client_secret")) as api:
        api.ping()
    return f" ({source.base_url})"
