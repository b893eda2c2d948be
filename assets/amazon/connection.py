"""Opening an Amazon SP-API session for one store account: the account's endpoint, its seller id and
marketplaces (settings) and the seller's LWA refresh token (from the vault) go to the installation's
Amazon application client (resources.amazon_sp_api) as plain values."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from marketsync.assets.accounts import Account
from marketsync.assets.channel_clients import check_seller_connection, seller_credentials
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApi, AmazonSpApiResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def amazon_session(amazon: AmazonSpApiResource, conn_or_engine: Connection | Engine, vault: CredentialVault,
                   account: Account | int, *, sleep: Callable[[float], None] | None = None,
                   clock: Callable[[], float] | None = None, **options: Any) -> AmazonSpApi:
    """A session for an Amazon account (an Account, or its id). `sleep`, `clock` and `options` as
    AmazonSpApiResource.open_session takes them."""
    amazon.require_client()
    account, refresh_token = _credentials(conn_or_engine, vault, account)
    settings = account.settings or {}
    return amazon.open_session(refresh_token, str(settings.get("seller_id") or ""),
                               settings.get("marketplace_ids") or [], account.endpoint or None, sleep=sleep,
                               clock=clock, **options)


def _credentials(conn: Connection | Engine, vault: CredentialVault, account: Account | int) -> tuple[Account, str]:
    """The Amazon account and its LWA refresh token."""
    return seller_credentials(conn, vault, account, "amazon", AmazonError, "LWA", "in Seller Central")


def check_connection(warehouse: Warehouse, vault: CredentialVault, client: AmazonSpApiResource, store: str) -> str:
    """`marketsync test-connection STORE amazon`: the token exchange and one page of the orders changed in
    the last hour, with the seller's stored refresh token; returns where it answered from."""
    since = datetime.now(UTC) - timedelta(hours=1)
    return check_seller_connection("amazon", warehouse, vault, client, store, amazon_session,
                                   lambda api: api.search_orders(last_updated_after=since))
