"""Where an FFN account's single-use refresh tokens are kept: `VaultTokenStore` (encrypted in the
account's `ops.credentials` row, refreshed under its row lock: resources.oauth's store, worded for
FFN) and `MemoryTokenStore` (one process); `store_refresh_token` for the refresh token a user entered."""
from __future__ import annotations

from typing import ClassVar

from marketsync.resources import oauth
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from marketsync.resources.oauth import MemoryTokenStore, store_refresh_token

__all__ = ["MemoryTokenStore", "VaultTokenStore", "store_refresh_token"]


class VaultTokenStore(oauth.VaultTokenStore):
    """An FFN account's tokens in its `ops.credentials` row (see resources.oauth.VaultTokenStore, and the
    package docstring for why the refresh runs under the row lock and what a crash in between means)."""

    error: ClassVar[type[JtlFfnError]] = JtlFfnError
    label: ClassVar[str] = "FFN"
    missing: ClassVar[str] = ("no JTL FFN refresh token is stored for this account: authorise marketsync in FFN "
                              "and store the refresh token (`marketsync credentials set STORE jtl_ffn`)")
