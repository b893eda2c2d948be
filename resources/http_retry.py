"""Retrying HTTP calls: the Retry-After header, and tenacity retries that honour it (`RetryPolicy`;
resources.http_client sends every client's requests with one).

Every client of the project retries transient failures (429, 5xx, a dropped connection) the same way:
full-jitter exponential backoff, but never sooner than the server asked for in Retry-After (capped by
the same maximum wait). The failure a client raises (an `HttpCallError`, or any exception with the
same two attributes) carries the server's hint as `retry_after` (seconds or None) and says whether
it is worth another try with `transient`.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Self

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_limits import TRANSIENT_LIMIT_KINDS
from marketsync.resources.scrubbing import SecretScrubber


class HttpCallError(MarketsyncError):
    """A failed call to a remote service, classified by `kind`; the kinds in TRANSIENT (and the
    transient kinds every client shares for its bounds, resources.http_limits) may succeed later.
    Any other kind is permanent: a configuration or credentials problem, or a refusal, that the same
    call will meet again. `retry_after`: the seconds the server asked us to wait, or None."""

    TRANSIENT: ClassVar[frozenset[str]] = frozenset()
    args: tuple[Any, ...]  # BaseException's; said here so that a type checker sees `scrubbed` replace it

    def __init__(self, message: str, kind: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.kind in self.TRANSIENT or self.kind in TRANSIENT_LIMIT_KINDS

    def scrubbed(self, scrubber: SecretScrubber) -> Self:
        """This error with every known form of the session's secrets masked in its message."""
        if self.args and isinstance(self.args[0], str):
            self.args = (scrubber.scrub(self.args[0]), *self.args[1:])
        return self


def retry_after_seconds(response_or_headers: Any) -> float | None:
    """Seconds the server asks us to wait, from a response (anything with `.headers`) or a headers
    mapping: either form of Retry-After (delta seconds, or an HTTP date, which counts from now).
    Never negative; None when there is no response or header, or it cannot be read."""
    if response_or_headers is None:
        return None
    headers: Mapping[str, str] = getattr(response_or_headers, "headers", response_or_headers)
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000": an HTTP date is always GMT
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def wait_honouring_retry_after(multiplier: float, max_wait: float) -> Callable[[RetryCallState], float]:
    """A tenacity wait: full-jitter exponential backoff (random in [0, multiplier * 2**n], at most
    `max_wait`), or the failure's `retry_after` hint when that is longer (also capped at `max_wait`)."""
    backoff = wait_random_exponential(multiplier=multiplier, max=max_wait)

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        hinted = getattr(failure, "retry_after", None) or 0.0
        return max(backoff(state), min(hinted, max_wait))

    return wait


def backoff_seconds(number: int, multiplier: float, max_wait: float, hinted: float | None = None) -> float:
    """The wait before try `number` + 1 after `number` failures, by the rule of `wait_honouring_retry_after`:
    random in [0, multiplier * 2**(number - 1)] (full jitter, at most `max_wait`), or the server's hint
    when that is longer (also capped at `max_wait`). For a client that counts its failures itself."""
    high = min(max_wait, multiplier * 2 ** max(0, number - 1))
    return max(random.uniform(0, max(0.0, high)), min(hinted or 0.0, max_wait))  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries: up to `attempts` tries in all (and, with `max_total`, no new try once that
    many seconds have passed), waiting as `wait_honouring_retry_after(backoff, max_wait)` says between
    them. `kinds`: the failure kinds worth another try (None: every `transient` one)."""

    attempts: int = 5
    backoff: float = 0.5
    max_wait: float = 60.0
    max_total: float | None = None
    kinds: frozenset[str] | None = None

    def retries(self, failure: BaseException) -> bool:
        """Whether `failure` is worth another try under this policy."""
        if self.kinds is not None:
            return getattr(failure, "kind", None) in self.kinds
        return bool(getattr(failure, "transient", False))

    def retrying(self, error_type: type[BaseException], *, stop: Callable[[RetryCallState], bool] | None = None,
                 wait: Callable[[RetryCallState], float] | None = None, **options: Any) -> Retrying:
        """The tenacity Retrying of this policy for failures of `error_type`; `stop` and `wait` replace the
        policy's own, `options` go to tenacity (sleep, before_sleep). The last failure is re-raised as it was."""
        if stop is None:
            stop = stop_after_attempt(max(1, self.attempts))
            if self.max_total is not None:
                stop = stop | stop_before_delay(self.max_total)
        return Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, error_type) and self.retries(e)),
            wait=wait or wait_honouring_retry_after(self.backoff, self.max_wait),
            stop=stop,
            reraise=True,
            **options,
        )


def retrying(error_type: type[BaseException], attempts: int, multiplier: float, max_wait: float,
             **options: Any) -> Retrying:
    """Retries of failures of `error_type` that are `transient`, up to `attempts` tries in all, waiting
    as `wait_honouring_retry_after` says; the last failure is re-raised as it was. `options` go to
    tenacity (e.g. before_sleep). Call it with the function (`retrying(...)(fn, *args)`) or iterate it."""
    return RetryPolicy(attempts, multiplier, max_wait).retrying(error_type, **options)
