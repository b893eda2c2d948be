"""Opening an Amazon SP-API session for one store account: the account's endpoint, its seller id and
marketplaces (settings) and the seller's LWA refresh token (from the vault) go to the installation's
Amazon application client (resources.amazon_sp_api) as plain values."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import NoResultFound

from marketsync.assets.accounts import Account, get_account_by_id
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApi, AmazonSpApiResource
from marketsync.resources.vault import CredentialVault, VaultError


def amazon_session(amazon: AmazonSpApiResource, conn_or_engine: Connection | Engine, vault: CredentialVault,
                   account: Account | int, *, sleep: Callable[[float], None] | None = None,
                   clock: Callable[[], float] | None = None, **options: Any) -> AmazonSpApi:
    """A session for an Amazon account (an Account, or its id). `sleep`, `clock` and `options` as
    AmazonSpApiResource.open_session takes them."""
    amazon.require_client()
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            account, refresh_token = _credentials(conn, vault, account)
    else:
        account, refresh_token = _credentials(conn_or_engine, vault, account)
    settings = account.settings or {}
    return amazon.open_session(refresh_token, str(settings.get("seller_id") or ""),
                               settings.get("marketplace_ids") or [], account.endpoint or None, sleep=sleep,
                               clock=clock, **options)


def _credentials(conn: Connection, vault: CredentialVault, account: Account | int) -> tuple[Account, str]:
    """The Amazon account and its LWA refresh token."""
    if isinstance(account, int):
        try:
            account = get_account_by_id(conn, account)
        except NoResultFound:
            raise AmazonError(f"account {account} is not an Amazon account", "rejected") from None
    if account.channel != "amazon":
        raise AmazonError(f"account {account.account_id} is not an Amazon account", "rejected")
    try:
        return account, vault.load(conn, account.account_id).reveal("refresh_token")
    except VaultError:
        raise AmazonError(f"no LWA refresh token is stored for account {account.account_id}: authorise marketsync "
                          "in Seller Central and store it (`marketsync credentials set STORE amazon`)",
                          "reauthorize") from None
