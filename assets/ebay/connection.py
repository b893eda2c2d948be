"""Opening an eBay session for one store account: the account's endpoint and the seller's refresh token
(from the vault) go to the installation's eBay application client (resources.ebay) as plain values, and
a refresh token eBay hands out in their place is kept in the account's credentials."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from marketsync.assets.accounts import Account
from marketsync.assets.channel_clients import check_seller_connection, seller_credentials
from marketsync.resources.ebay import EbayApi, EbayError, EbayResource
from marketsync.resources.oauth import store_refresh_token
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def ebay_session(ebay: EbayResource, conn_or_engine: Connection | Engine, vault: CredentialVault,
                 account: Account | int, on_refresh_token: Callable[[str], None] | None = None) -> EbayApi:
    """A session for an eBay account (an Account, or its id). A new refresh token in a token answer (eBay
    does not rotate them, but would be obeyed) is stored in the account's credentials: through the engine
    in its own transaction, or on the given connection (inside the caller's transaction)."""
    ebay.require_client()
    endpoint, refresh_token, account_id = _credentials(conn_or_engine, vault, account)

    def store(token: str) -> None:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.begin() as conn:
                store_refresh_token(conn, vault, account_id, token)
        else:
            store_refresh_token(conn_or_engine, vault, account_id, token)

    return ebay.open_session(refresh_token, endpoint, on_refresh_token=on_refresh_token or store)


def _credentials(conn: Connection | Engine, vault: CredentialVault,
                 account: Account | int) -> tuple[str | None, str, int]:
    """(endpoint, refresh token, account id) of an eBay account."""
    account, refresh_token = seller_credentials(conn, vault, account, "ebay", EbayError, "eBay", "on eBay")
    return account.endpoint or None, refresh_token, account.account_id


def check_connection(warehouse: Warehouse, vault: CredentialVault, client: EbayResource, store: str) -> str:
    """`marketsync test-connection STORE ebay`: the token exchange and one page of the orders changed in
    the last hour, with the seller's stored refresh token; returns where it answered from."""
    since = datetime.now(UTC) - timedelta(hours=1)
    return check_seller_connection("ebay", warehouse, vault, client, store, ebay_session,
                                   lambda api: api.orders_modified(since))
