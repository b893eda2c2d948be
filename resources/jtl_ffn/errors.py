"""`JtlFfnError`: how every failed FFN call, token refresh or token-store access is reported."""
from __future__ import annotations

from marketsync.resources.http_retry import HttpCallError


class JtlFfnError(HttpCallError):
    """A failed FFN call. `kind`: reauthorize (the stored refresh token is spent or revoked: the
    merchant must authorise marketsync again), auth (the application's client id/secret, or a token
    the API refuses), forbidden (the authorisation lacks a scope), not_found, duplicate (a key that
    exists already), rejected (the API refused the request itself), busy (another process holds the
    account's token lock), rate_limited, server and unreachable (transient: try later).
    `code`: FFN's error code (e.g. Shared_ModelValidation) or the OAuth error, when there is one."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable", "busy"})

    def __init__(self, message: str, kind: str, retry_after: float | None = None, code: str | None = None):
        super().__init__(message, kind, retry_after)
        self.code = code
