"""`marketsync test-connection STORE letzshop`: one cheap authorised call with the store's API key."""
from __future__ import annotations

from assets.accounts import get_account
from assets.letzshop.connection import letzshop_session
from resources.letzshop import LetzshopResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse


def check_connection(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, store: str) -> str:
    """Pings Letzshop with the store's key; returns where it answered from."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "letzshop")
    with letzshop_session(warehouse, vault, letzshop, account) as api:
        api.ping()
    return f" ({account.endpoint or 'production endpoint'})"
