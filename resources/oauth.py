"""The one OAuth token manager every client with bearer tokens uses: `OAuthTokens`.

It holds a session's access token with the moment it should be replaced, replaces it a margin before it
expires and once more when the API refuses it anyway (a 401, or what the provider says instead), and
never asks twice for what another session or process has just fetched. The tokens live in a
`TokenStore`:

* `MemoryTokenStore`: in this process (client credentials, or a refresh token that is not rotated);
  a new refresh token in an answer is handed to `on_rotate` (to be stored by the caller).
* `VaultTokenStore`: encrypted in the account's `ops.credentials` row (the vault's own table), for
  providers whose refresh tokens are single-use: the row is locked (`SELECT ... FOR UPDATE`), the
  stored refresh token spent at the token endpoint and the new pair written in that same transaction,
  so two processes never spend one refresh token (the second waits on the lock, then finds a fresh
  access token and uses it without a token call).

A provider's token call is the client's own (`exchange(refresh_token) -> TokenSet`, built with
`issued`); it is called under the store's lock and is never retried there: a transient failure goes
to the retries of the request the token serves, so no backoff ever holds a lock.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.vault import CredentialVault

R = TypeVar("R")
Exchange = Callable[[str | None], "TokenSet"]


@dataclass(frozen=True, repr=False)
class TokenSet:
    """A session's tokens. `expires_at` and `refresh_at` are seconds on the clock of the store that
    holds them (wall-clock Unix seconds when processes share them): the access token expires at the
    first and is replaced from the second on. `refresh_token` is None for client credentials."""

    refresh_token: str | None
    access_token: str | None = None
    expires_at: float | None = None
    refresh_at: float | None = None

    def usable(self, now: float | None = None) -> bool:
        """Whether the access token may still be used (it exists and its refresh time has not come)."""
        return bool(self.access_token) and self.refresh_at is not None and (now or time.time()) < self.refresh_at

    def __repr__(self) -> str:
        return f"TokenSet(refresh_token=****, access_token={'****' if self.access_token else None}, " \
               f"expires_at={self.expires_at!r})"


def lifetime_of(body: Mapping[str, Any], default: float, *names: str) -> float:
    """The seconds a token answer says its access token lives (`expires_in`, or the first of `names`
    present), or `default` when it says nothing usable."""
    for name in names or ("expires_in",):
        if name in body:
            try:
                return float(body[name])
            except (TypeError, ValueError):
                return default
    return default


def issued(access_token: str, lifetime: float, sent: float, margin: float,
           refresh_token: str | None = None) -> TokenSet:
    """The tokens of a token answer sent at `sent` (on the store's clock): the access token is replaced
    `margin` seconds before it expires, but never planned on for less than half its life."""
    return TokenSet(refresh_token, access_token, sent + lifetime, sent + lifetime - min(margin, lifetime / 2))


class TokenStore(Protocol):
    """Where one account's tokens live, shared by every session (and process) that works for it."""

    def load(self) -> TokenSet:
        """The stored tokens (the refresh token, and the last access token when there is one)."""
        ...

    def refresh(self, stale_access_token: str | None, exchange: Exchange) -> TokenSet:
        """Replace the access token, exclusively for the account: take the lock, read the stored tokens;
        if they hold a usable access token other than `stale_access_token`, someone else refreshed
        meanwhile: return them. Otherwise call `exchange(stored refresh token)` (the token endpoint),
        store what it returns and release the lock only once the new tokens are stored."""
        ...


class MemoryTokenStore:
    """Tokens held in this process only; thread-safe. `clock`: the clock of the tokens' times.
    `on_rotate(new_refresh_token)`: called (under the lock) when a token answer replaces the refresh
    token, to keep it where it came from."""

    def __init__(self, refresh_token: str | None = None, access_token: str | None = None,
                 expires_at: float | None = None, refresh_at: float | None = None, *,
                 clock: Callable[[], float] = time.time, on_rotate: Callable[[str], None] | None = None):
        self._lock = threading.Lock()
        self._tokens = TokenSet(refresh_token, access_token, expires_at, refresh_at)
        self.clock = clock
        self._on_rotate = on_rotate
        self.saves = 0

    def load(self) -> TokenSet:
        with self._lock:
            return self._tokens

    def refresh(self, stale_access_token: str | None, exchange: Exchange) -> TokenSet:
        with self._lock:
            current = self._tokens
            if current.usable(self.clock()) and current.access_token != stale_access_token:
                return current
            fresh = exchange(current.refresh_token)
            if not fresh.refresh_token:  # an answer without one keeps the one we have
                fresh = TokenSet(current.refresh_token, fresh.access_token, fresh.expires_at, fresh.refresh_at)
            elif fresh.refresh_token != current.refresh_token and self._on_rotate is not None:
                self._on_rotate(fresh.refresh_token)
            self._tokens = fresh
            self.saves += 1
            return fresh


class OAuthTokens:
    """A session's access token, through `store` (a MemoryTokenStore of its own when none is given).
    `exchange(refresh_token)` is the provider's token call; `clock` the store's clock; `remember(token)`
    sees every token the session learns (the client's scrubber). Thread-safe when the store is."""

    def __init__(self, exchange: Exchange, store: TokenStore | None = None, *,
                 clock: Callable[[], float] | None = None, remember: Callable[[str | None], None] | None = None):
        self._exchange = exchange
        self._clock = clock or getattr(store, "clock", None) or time.time
        self.store: TokenStore = store if store is not None else MemoryTokenStore(clock=self._clock)
        self._remember = remember or (lambda token: None)
        self._tokens: TokenSet | None = None

    def _hold(self, tokens: TokenSet) -> TokenSet:
        self._remember(tokens.refresh_token)
        self._remember(tokens.access_token)
        self._tokens = tokens
        return tokens

    def bearer(self) -> str:
        """A usable access token: the one held, the store's, or a new one a margin before expiry."""
        tokens = self._tokens
        if tokens is None:
            tokens = self._hold(self.store.load())
        if not tokens.usable(self._clock()):
            tokens = self._hold(self.store.refresh(tokens.access_token, self._exchange))
        return tokens.access_token  # type: ignore[return-value]

    def renew(self, stale_access_token: str | None) -> str:
        """A new access token in place of `stale_access_token`, which the API refused (unless another
        session already replaced it)."""
        return self._renewed(stale_access_token)[0]

    def _renewed(self, stale_access_token: str | None) -> tuple[str, bool]:
        """renew(), and whether this session made the token (True) or found another session's (False)."""
        exchanged = False

        def exchange(refresh_token: str | None) -> TokenSet:
            nonlocal exchanged
            exchanged = True
            return self._exchange(refresh_token)

        tokens = self._hold(self.store.refresh(stale_access_token, exchange))
        return tokens.access_token, exchanged  # type: ignore[return-value]

    def authorised(self, send: Callable[[str], R], refused: Callable[[R], bool]) -> R:
        """`send(access token)`, and once more with a new token when the answer is `refused` (expired or
        revoked early). A new token that another session exchanged may expire on its way here (its clock
        margin is the other session's), so its refusal earns one exchange of this session's own; the answer
        to a token this session exchanged is returned whatever it is."""
        bearer = self.bearer()
        answer = send(bearer)
        if refused(answer):
            bearer, exchanged = self._renewed(bearer)
            answer = send(bearer)
            if refused(answer) and not exchanged:
                answer = send(self._renewed(bearer)[0])
        return answer


def unauthorized(response: Any) -> bool:
    """The usual way an API refuses a token: HTTP 401."""
    return response.status_code == 401


# ------------------------------------------------------------------------------- tokens in the vault
TOKEN_FIELDS = ("refresh_token", "access_token", "access_token_expires_at", "access_token_refresh_at")
_TOKEN = text("SELECT token FROM ops.credentials WHERE account_id = :a")
_TOKEN_LOCKED = text("SELECT token FROM ops.credentials WHERE account_id = :a FOR UPDATE")


def _revealed(vault: CredentialVault, token: bytes) -> dict[str, str]:
    secrets = vault.decrypt(token)
    return {name: secrets.reveal(name) for name in secrets.masked()}


def store_refresh_token(conn: Connection, vault: CredentialVault, account_id: int, refresh_token: str) -> None:
    """Keep a refresh token a user entered (inside the caller's transaction), forgetting any access token
    stored with the previous one; the account's other credential fields stay."""
    row = conn.execute(_TOKEN_LOCKED, {"a": account_id}).first()
    fields = _revealed(vault, row.token) if row is not None else {}
    for name in TOKEN_FIELDS:
        fields.pop(name, None)
    vault.store(conn, account_id, {**fields, "refresh_token": refresh_token})


class VaultTokenStore:
    """An account's tokens, encrypted in its `ops.credentials` row (fields TOKEN_FIELDS; any other fields
    are kept), on the wall clock. `refresh` runs in one transaction that holds the row lock from before
    the token call until the new pair is committed. Waiting for another process's lock gives up after
    `lock_timeout` seconds (kind "busy"). A provider's store names its error type (`error`), its tokens
    in messages (`label`) and what to do when none is stored (`missing`)."""

    error: ClassVar[type[HttpCallError]] = HttpCallError
    label: ClassVar[str] = "OAuth"
    missing: ClassVar[str] = "no refresh token is stored for this account: authorise marketsync and store it"

    clock = staticmethod(time.time)

    def __init__(self, engine: Engine, vault: CredentialVault, account_id: int, *, lock_timeout: float = 60.0):
        self.engine = engine
        self.vault = vault
        self.account_id = account_id
        self.lock_timeout = lock_timeout

    def load(self) -> TokenSet:
        with self._database("reading the"):
            with self.engine.begin() as conn:
                return self._tokens_from(self._fields(conn, lock=False))

    def refresh(self, stale_access_token: str | None, exchange: Exchange) -> TokenSet:
        with self._database("refreshing the"):
            with self.engine.begin() as conn:
                conn.execute(text(f"SET LOCAL lock_timeout = '{max(1, int(self.lock_timeout * 1000))}ms'"))
                fields = self._fields(conn, lock=True)
                current = self._tokens_from(fields)
                if current.usable() and current.access_token != stale_access_token:
                    return current  # another process refreshed while we waited for the lock
                fresh = exchange(current.refresh_token)  # spends the stored refresh token
                self._save(conn, fields, fresh)
            return fresh

    def _tokens_from(self, fields: dict[str, str]) -> TokenSet:
        if not fields.get("refresh_token"):
            raise self.error(self.missing, "reauthorize")

        def number(name: str) -> float | None:
            try:
                return float(fields[name]) if fields.get(name) else None
            except ValueError:
                return None

        return TokenSet(fields["refresh_token"], fields.get("access_token") or None,
                        number("access_token_expires_at"), number("access_token_refresh_at"))

    def _fields(self, conn: Connection, *, lock: bool) -> dict[str, str]:
        row = conn.execute(_TOKEN_LOCKED if lock else _TOKEN, {"a": self.account_id}).first()
        return {} if row is None else _revealed(self.vault, row.token)

    def _save(self, conn: Connection, fields: dict[str, str], tokens: TokenSet) -> None:
        """Write the new pair in the transaction that holds the lock (runs after the token call)."""
        self.vault.store(conn, self.account_id, {
            **fields, "refresh_token": tokens.refresh_token or "", "access_token": tokens.access_token or "",
            "access_token_expires_at": repr(tokens.expires_at) if tokens.expires_at is not None else "",
            "access_token_refresh_at": repr(tokens.refresh_at) if tokens.refresh_at is not None else ""})

    def _database(self, doing: str) -> _DatabaseErrors:
        return _DatabaseErrors(doing, self.label, self.error)


class _DatabaseErrors:
    """Turns a database failure into a one-line error without SQL parameters (they hold tokens)."""

    def __init__(self, doing: str, label: str, error: type[HttpCallError]):
        self.what, self.label, self.error = f"{doing} {label} tokens", label, error

    def __enter__(self) -> _DatabaseErrors:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if isinstance(error, DBAPIError):
            if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise self.error(f"another process holds this account's {self.label} token lock "
                                 f"({self.what}): try again shortly", "busy") from None
            raise self.error(f"database error while {self.what} ({type(error.orig).__name__})", "server") from None
        # VaultError (keys) and the client's errors are one-line already: they pass through as they are.
