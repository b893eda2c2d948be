"""Which store account a request's API key opens: read from the vault, kept for a short while.

Decrypting the account's keys for every order would cost a database read and a Fernet decryption per
request; a shop sends orders in bursts, so each store's keys are kept in memory for `ttl_seconds`.
A new key works at once (a key the cache does not know reads the vault again); a retired key, or an
account disabled, is refused at the latest `ttl_seconds` later.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from marketsync.assets.accounts import Account, list_accounts
from marketsync.assets.storefront.api_keys import ApiKeys, load_api_keys
from marketsync.assets.stores import validate_store_code
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault

TTL_SECONDS = 30.0


@dataclass(frozen=True)
class Shop:
    account: Account
    keys: ApiKeys | None
    read_at: float


class ShopKeys:
    def __init__(self, engine: Engine, vault: CredentialVault, *, ttl_seconds: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.engine, self.vault, self.ttl, self.clock = engine, vault, ttl_seconds, clock
        self._shops: dict[str, Shop] = {}

    def cached(self, store: str) -> Shop | None:
        """The store's shop as last read, while it is fresh (no database work: safe on the event loop)."""
        shop = self._shops.get(store)
        return shop if shop is not None and self.clock() - shop.read_at < self.ttl else None

    def read(self, store: str) -> Shop | None:
        """The store's storefront account and keys from the database (None: no such store or account)."""
        try:
            validate_store_code(store)
        except MarketsyncError:
            return None
        with self.engine.begin() as conn:
            accounts = list_accounts(conn, channel="storefront", store=store)
            if not accounts:
                self._shops.pop(store, None)
                return None
            account = accounts[0]
            shop = Shop(account, load_api_keys(conn, self.vault, account.account_id), self.clock())
        self._shops[store] = shop
        return shop
