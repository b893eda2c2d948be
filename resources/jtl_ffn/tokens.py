"""An FFN account's tokens (`TokenSet`) and where they are kept (`TokenStore`, the protocol the
stores in `resources.jtl_ffn.token_store` implement)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, repr=False)
class TokenSet:
    """An account's tokens. `expires_at` and `refresh_at` are wall-clock Unix seconds (processes share
    them): the access token expires at the first and is replaced from the second on."""

    refresh_token: str
    access_token: str | None = None
    expires_at: float | None = None
    refresh_at: float | None = None

    def usable(self, now: float | None = None) -> bool:
        """Whether the access token may still be used (it exists and its refresh time has not come)."""
        return bool(self.access_token) and self.refresh_at is not None and (now or time.time()) < self.refresh_at

    def __repr__(self) -> str:
        return f"TokenSet(refresh_token=****, access_token={'****' if self.access_token else None}, " \
               f"expires_at={self.expires_at!r})"


class TokenStore(Protocol):
    """Where one FFN account's tokens live, shared by every process that works for the account."""

    def load(self) -> TokenSet:
        """The stored tokens (the refresh token, and the last access token when there is one).
        Raises JtlFfnError(kind="reauthorize") when no refresh token is stored."""
        ...

    def refresh(self, stale_access_token: str | None, exchange: Callable[[str], TokenSet]) -> TokenSet:
        """Replace the access token, atomically and exclusively for the account: take the lock, read
        the stored tokens; if they hold a usable access token other than `stale_access_token`, someone
        else refreshed meanwhile: return them. Otherwise call `exchange(stored refresh token)` (the token
        endpoint), store what it returns and release the lock only once the new pair is stored."""
        ...
