"""`marketsync test-connection STORE jtl_ffn`: the merchant's tokens and one authorised read."""
from __future__ import annotations

from marketsync.assets.jtl_ffn.assets import ffn_session
from marketsync.resources.jtl_ffn import JtlFfnResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def check_connection(warehouse: Warehouse, vault: CredentialVault, jtl_ffn: JtlFfnResource, store: str) -> str:
    """Lists the merchant's warehouses; returns how many there are and where it answered from."""
    with ffn_session(warehouse, vault, jtl_ffn, store) as (account, api):
        warehouses = api.test_connection()["warehouses"]
    return f", {warehouses} warehouse(s) ({account.endpoint or 'production endpoint'})"
