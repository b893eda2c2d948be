"""What a download comes to: a `DownloadResult` (the feed on local disk), or a `FeedTransportError`
whose `kind` says what an import run should do about it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from marketsync.resources.http_retry import HttpCallError


@dataclass(frozen=True)
class DownloadResult:
    """A feed on local disk: `bytes` as written (after gzip inflation), `seconds` of wall time
    including retries, the server's `content_type` (guessed from the name for FTP and files)."""

    path: Path
    bytes: int
    seconds: float
    content_type: str | None
    attempts: int = 1

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else float("inf")


class FeedTransportError(HttpCallError):
    """A feed that could not be fetched, as one sentence naming the URL (redacted) and the cause.

    `kind` tells an import run what to do: auth (fix the credentials), not_found (fix the URL),
    rejected, tls, too_large, corrupt (the supplier must fix the file), or the transient ones it
    already retried: server, rate_limited, unreachable, timeout, broken."""

    TRANSIENT = frozenset({"server", "rate_limited", "unreachable", "timeout", "broken"})

    def __init__(self, where: str, reason: str, kind: str, *, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(f"could not download {where}: {reason}", kind, retry_after)
        self.where, self.reason = where, reason
        self.status = status
        self.attempts = 1

    def after_attempts(self, attempts: int) -> FeedTransportError:
        self.attempts = attempts
        if attempts > 1:
            self.args = (f"{self.args[0]} (gave up after {attempts} attempts)",)
        return self
