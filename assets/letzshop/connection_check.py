"""`marketsync test-connection STORE letzshop`: one cheap authorised call with the store's API key."""
from __future__ import annotations

from marketsync.assets.accounts import get_account
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.resources.letzshop import LetzshopResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def check_connection(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, store: str) -> str:
    """Pings Letzshop with the store's key; returns where it answered from."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "letzshop")
    with letzshop_session(warehouse, vault, letzshop, account) as api:
        api.ping()
    return f" ({account.endpoint or 'production endpoint'})"
