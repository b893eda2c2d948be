"""The API key a store's shop authenticates with: made here, shown once, kept in the vault.

An account has a current key and, while the shop switches over, the previous one: both are accepted, so
a rotation never refuses an order the shop sent a moment before. Retiring the previous key ends the
overlap. The keys are encrypted with the vault's keys (ops.credentials, like every channel's
credentials) and never written anywhere else: not to logs, errors or answers.
"""
from __future__ import annotations

import hmac
import secrets as _random
from dataclasses import dataclass

from sqlalchemy import Connection, text

from marketsync.assets.accounts import Account
from marketsync.resources.credentials import VaultError, VaultOperations

# Recognisable in a leaked-secret scan, and says what it is for.
KEY_PREFIX = "mssf_"
_CURRENT, _PREVIOUS = "api_key", "api_key_previous"


@dataclass(frozen=True)
class ApiKeys:
    """The keys that authenticate a shop: the current one, and the previous while rotating."""

    current: str
    previous: str | None = None

    def accepts(self, presented: str) -> bool:
        """Whether `presented` is one of the keys; every comparison runs in constant time."""
        found = False
        for key in (self.current, self.previous):
            if key is not None:
                found |= hmac.compare_digest(key.encode(), presented.encode())
        return found

    def __repr__(self) -> str:
        return f"ApiKeys(current=****, previous={'****' if self.previous else None})"

    __str__ = __repr__


def load_api_keys(conn: Connection, vault: VaultOperations, account_id: int) -> ApiKeys | None:
    """The account's keys, or None when none was ever made (then no request is accepted)."""
    try:
        fields = vault.load(conn, account_id)
        current = fields.reveal(_CURRENT)
    except VaultError:
        return None
    try:
        previous = fields.reveal(_PREVIOUS)
    except VaultError:
        previous = None
    return ApiKeys(current, previous)


def _lock(conn: Connection, account: Account) -> None:
    # Two rotations at once would each keep a different "previous": serialise them.
    conn.execute(text("SELECT 1 FROM ops.accounts WHERE account_id = :a FOR UPDATE"), {"a": account.account_id})


def _store(conn: Connection, vault: VaultOperations, account: Account, keys: ApiKeys) -> None:
    fields = {_CURRENT: keys.current}
    if keys.previous is not None:
        fields[_PREVIOUS] = keys.previous
    vault.store(conn, account.account_id, fields)


def rotate_api_key(conn: Connection, vault: VaultOperations, account: Account) -> str:
    """Make a new key for the shop and return it: the only time it is ever shown. The key it replaces
    stays valid as the previous one until `retire_previous_api_key`; at most two are valid at once."""
    _lock(conn, account)
    existing = load_api_keys(conn, vault, account.account_id)
    key = KEY_PREFIX + _random.token_urlsafe(32)
    _store(conn, vault, account, ApiKeys(key, existing.current if existing else None))
    return key


def retire_previous_api_key(conn: Connection, vault: VaultOperations, account: Account) -> bool:
    """End a rotation: only the current key is accepted from now on. False if there was none to retire."""
    _lock(conn, account)
    existing = load_api_keys(conn, vault, account.account_id)
    if existing is None or existing.previous is None:
        return False
    _store(conn, vault, account, ApiKeys(existing.current))
    return True
