"""Opening an eBay session for one store account: the account's endpoint and the seller's refresh token
(from the vault) go to the installation's eBay application client (resources.ebay) as plain values, and
a refresh token eBay hands out in their place is kept in the account's credentials."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import NoResultFound

from marketsync.assets.accounts import Account, get_account_by_id
from marketsync.resources.ebay import EbayApi, EbayError, EbayResource
from marketsync.resources.oauth import store_refresh_token
from marketsync.resources.vault import CredentialVault, VaultError


def ebay_session(ebay: EbayResource, conn_or_engine: Connection | Engine, vault: CredentialVault,
                 account: Account | int, on_refresh_token: Callable[[str], None] | None = None) -> EbayApi:
    """A session for an eBay account (an Account, or its id). A new refresh token in a token answer (eBay
    does not rotate them, but would be obeyed) is stored in the account's credentials: through the engine
    in its own transaction, or on the given connection (inside the caller's transaction)."""
    ebay.require_client()
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            endpoint, refresh_token, account_id = _credentials(conn, vault, account)
    else:
        endpoint, refresh_token, account_id = _credentials(conn_or_engine, vault, account)

    def store(token: str) -> None:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.begin() as conn:
                store_refresh_token(conn, vault, account_id, token)
        else:
            store_refresh_token(conn_or_engine, vault, account_id, token)

    return ebay.open_session(refresh_token, endpoint, on_refresh_token=on_refresh_token or store)


def _credentials(conn: Connection, vault: CredentialVault, account: Account | int) -> tuple[str | None, str, int]:
    """(endpoint, refresh token, account id) of an eBay account."""
    if isinstance(account, int):
        try:
            account = get_account_by_id(conn, account)
        except NoResultFound:
            raise EbayError(f"account {account} is not an eBay account", "rejected") from None
    if account.channel != "ebay":
        raise EbayError(f"account {account.account_id} is not an eBay account", "rejected")
    try:
        refresh_token = vault.load(conn, account.account_id).reveal("refresh_token")
    except VaultError:
        raise EbayError(f"no eBay refresh token is stored for account {account.account_id}: authorise marketsync "
                        "on eBay and store it (`marketsync credentials set STORE ebay`)", "reauthorize") from None
    return account.endpoint or None, refresh_token, account.account_id
