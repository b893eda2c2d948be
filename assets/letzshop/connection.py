"""Opening an authenticated Letzshop session for one store account."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marketsync.assets.accounts import Account, get_account
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.letzshop import LetzshopApi, LetzshopResource
from marketsync.resources.vault import CredentialVault, VaultError
from marketsync.resources.warehouse import Warehouse


@contextmanager
def letzshop_session(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource,
                     account: Account) -> Iterator[LetzshopApi]:
    if not account.endpoint:
        raise MarketsyncError(f"letzshop account of store '{account.store}' has no endpoint")
    try:
        with warehouse.begin() as conn:
            api_key = vault.load(conn, account.account_id).reveal("api_key")
    except VaultError as exc:  # permanent: no retry brings a key back
        raise VaultError(f"no usable Letzshop API key for store '{account.store}' ({exc}): store one with "
                         f"`marketsync credentials set {account.store} letzshop`") from None
    timeout = account.setting("request_timeout_seconds")
    with letzshop.session(account.endpoint, api_key, timeout=float(timeout) if timeout else None) as api:
        yield api


def check_connection(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, store: str) -> str:
    """`marketsync test-connection STORE letzshop`: pings Letzshop with the store's API key; returns where it
    answered from."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "letzshop")
    with letzshop_session(warehouse, vault, letzshop, account) as api:
        api.ping()
    return f" ({account.endpoint or 'production endpoint'})"
