"""`marketsync test-connection STORE amazon`: the token exchange and one authorised read with the
seller's stored refresh token, through the installation's Amazon application."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketsync.assets.accounts import get_account
from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.channel_clients import not_configured
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def check_connection(warehouse: Warehouse, vault: CredentialVault, client, store: str) -> str:
    """Reads one page of the orders changed in the last hour; returns where it answered from."""
    if not getattr(client, "client_id", None) or not getattr(client, "client_secret", None):
        raise MarketsyncError(not_configured("amazon"))
    with warehouse.begin() as conn:
        account = get_account(conn, store, "amazon")
    since = datetime.now(UTC) - timedelta(hours=1)
    with amazon_session(client, warehouse.engine, vault, account) as api:
        next(iter(api.search_orders(last_updated_after=since)), None)
    return f" ({account.endpoint or 'production endpoint'})"
