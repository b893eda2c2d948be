"""A session with JTL-FFN for one store (the merchant's stored tokens through the installation's API
client), and `marketsync test-connection STORE jtl_ffn`: the tokens and one authorised read. No Dagster
here: the assets wrap the session in their worded failure, the CLI prints its error as it is."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marketsync.assets.accounts import Account, get_account
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.jtl_ffn import JtlFfnApi, JtlFfnResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


@contextmanager
def account_session(warehouse: Warehouse, vault: CredentialVault, jtl_ffn: JtlFfnResource,
                    store: str) -> Iterator[tuple[Account, JtlFfnApi]]:
    """The store's FFN account and an API session for it; a worded MarketsyncError when it has none."""
    if not jtl_ffn.client_id or not jtl_ffn.client_secret:
        raise MarketsyncError("no JTL-FFN API client configured: set JTL_FFN_CLIENT_ID and JTL_FFN_CLIENT_SECRET")
    with warehouse.begin() as conn:
        account = get_account(conn, store, "jtl_ffn")
    with jtl_ffn.account_session(warehouse.engine, vault, account.account_id, base_url=account.endpoint) as api:
        yield account, api


def check_connection(warehouse: Warehouse, vault: CredentialVault, jtl_ffn: JtlFfnResource, store: str) -> str:
    """Lists the merchant's warehouses; returns how many there are and where it answered from."""
    with account_session(warehouse, vault, jtl_ffn, store) as (account, api):
        warehouses = api.test_connection()["warehouses"]
    return f", {warehouses} warehouse(s) ({account.endpoint or 'production endpoint'})"
