"""Where an FFN account's single-use refresh tokens are kept: `VaultTokenStore` (encrypted in the
account's `ops.credentials` row, refreshed under its row lock) and `MemoryTokenStore` (one process);
`store_refresh_token` for the refresh token a user entered."""
from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from resources.jtl_ffn.errors import JtlFfnError
from resources.jtl_ffn.tokens import TokenSet
from resources.vault import CredentialVault


class MemoryTokenStore:
    """Tokens held in this process only (scripts, the sandbox, tests); thread-safe."""

    def __init__(self, refresh_token: str, access_token: str | None = None, expires_at: float | None = None,
                 refresh_at: float | None = None):
        self._lock = threading.Lock()
        self._tokens = TokenSet(refresh_token, access_token, expires_at, refresh_at)
        self.saves = 0

    def load(self) -> TokenSet:
        with self._lock:
            return self._tokens

    def refresh(self, stale_access_token: str | None, exchange: Callable[[str], TokenSet]) -> TokenSet:
        with self._lock:
            current = self._tokens
            if current.usable() and current.access_token != stale_access_token:
                return current
            self._tokens = exchange(current.refresh_token)
            self.saves += 1
            return self._tokens


_FIELDS = ("refresh_token", "access_token", "access_token_expires_at", "access_token_refresh_at")


def _tokens_from(fields: dict[str, str]) -> TokenSet:
    if not fields.get("refresh_token"):
        raise JtlFfnError("no JTL FFN refresh token is stored for this account: authorise marketsync in FFN and "
                          "store the refresh token (`marketsync credentials set STORE jtl_ffn`)", "reauthorize")

    def number(name: str) -> float | None:
        try:
            return float(fields[name]) if fields.get(name) else None
        except ValueError:
            return None

    return TokenSet(fields["refresh_token"], fields.get("access_token") or None,
                    number("access_token_expires_at"), number("access_token_refresh_at"))


def store_refresh_token(conn, vault: CredentialVault, account_id: int, refresh_token: str) -> None:
    """Keep the refresh token a user entered for an FFN account (inside the caller's transaction),
    forgetting any access token stored with the previous one; other credential fields stay."""
    row = conn.execute(text("SELECT token FROM ops.credentials WHERE account_id = :a FOR UPDATE"),
                       {"a": account_id}).first()
    fields = _revealed(vault, row.token) if row is not None else {}
    for name in _FIELDS:
        fields.pop(name, None)
    vault.store(conn, account_id, {**fields, "refresh_token": refresh_token})


def _revealed(vault: CredentialVault, token: bytes) -> dict[str, str]:
    secrets = vault.decrypt(token)
    return {name: secrets.reveal(name) for name in secrets.masked()}


class VaultTokenStore:
    """An account's FFN tokens, encrypted in its `ops.credentials` row (fields refresh_token,
    access_token, access_token_expires_at, access_token_refresh_at; any other fields are kept).

    `refresh` runs in one transaction that holds the row lock from before the token call until the
    new pair is committed (see the package docstring for why, and for what a crash in between means).
    Waiting for another process's lock gives up after `lock_timeout` seconds (kind "busy")."""

    def __init__(self, engine: Engine, vault: CredentialVault, account_id: int, *, lock_timeout: float = 60.0):
        self.engine = engine
        self.vault = vault
        self.account_id = account_id
        self.lock_timeout = lock_timeout

    def load(self) -> TokenSet:
        with self._database("reading the FFN tokens"):
            with self.engine.begin() as conn:
                return _tokens_from(self._fields(conn, lock=False))

    def refresh(self, stale_access_token: str | None, exchange: Callable[[str], TokenSet]) -> TokenSet:
        with self._database("refreshing the FFN tokens"):
            with self.engine.begin() as conn:
                conn.execute(text(f"SET LOCAL lock_timeout = '{max(1, int(self.lock_timeout * 1000))}ms'"))
                fields = self._fields(conn, lock=True)
                current = _tokens_from(fields)
                if current.usable() and current.access_token != stale_access_token:
                    return current  # another process refreshed while we waited for the lock
                fresh = exchange(current.refresh_token)  # spends the stored refresh token
                self._save(conn, fields, fresh)
            return fresh

    def _fields(self, conn, *, lock: bool) -> dict[str, str]:
        row = conn.execute(text("SELECT token FROM ops.credentials WHERE account_id = :a"  # noqa: S608 - adds only a fixed FOR UPDATE
                                + (" FOR UPDATE" if lock else "")), {"a": self.account_id}).first()
        if row is None:
            return {}
        return _revealed(self.vault, row.token)

    def _save(self, conn, fields: dict[str, str], tokens: TokenSet) -> None:
        """Write the new pair in the transaction that holds the lock (runs after the token call)."""
        self.vault.store(conn, self.account_id, {
            **fields, "refresh_token": tokens.refresh_token, "access_token": tokens.access_token or "",
            "access_token_expires_at": repr(tokens.expires_at) if tokens.expires_at is not None else "",
            "access_token_refresh_at": repr(tokens.refresh_at) if tokens.refresh_at is not None else ""})

    class _database:
        """Turns a database failure into a one-line error without SQL parameters (they hold tokens)."""

        def __init__(self, what: str):
            self.what = what

        def __enter__(self):
            return self

        def __exit__(self, kind, error, traceback) -> bool:
            if isinstance(error, DBAPIError):
                if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
                    raise JtlFfnError(f"another process holds this account's FFN token lock ({self.what}): "
                                      "try again shortly", "busy") from None
                raise JtlFfnError(f"database error while {self.what} ({type(error.orig).__name__})",
                                  "server") from None
            return False  # VaultError (keys) and JtlFfnError are one-line already
