"""What a push feed may send: requests per client and minute, bytes per request, SKU updates per day.

The limits protect the warehouse from a supplier's runaway integration (a loop re-sending its whole
catalog, a retry storm) without penalising normal traffic:

- **request rate**: 100 requests per 60 s per client (feed + remote address) in a sliding window, so a
  burst at the end of one minute cannot be followed by a full burst at the start of the next; over it,
  429 with `Retry-After` (the seconds until the oldest request in the window leaves it);
- **body size**: a request body over `max_body_bytes` is refused with 413 before it is read whole;
- **daily SKU updates**: every item accepted counts one update against the feed's quota for the UTC day
  (`ops.feed_daily_usage`); over it, 429 with `Retry-After` until midnight UTC.
"""
from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection, text

from marketsync.resources.sql_files import query_beside

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PushLimits:
    """The intake's limits. A feed may lower or raise its daily quota in its settings
    (`daily_sku_update_limit` in ops.catalog_sources.settings)."""

    requests_per_window: int = 100
    window_seconds: int = 60
    max_body_bytes: int = 1024 * 1024
    max_batch_items: int = 50
    daily_sku_updates: int = 100_000
    # How far a delivery's signed timestamp may be from our clock (either way) before it is refused.
    replay_window_seconds: int = 300


# ---------------------------------------------------------------------------------------- request rate
class _Stamp:
    """One request in a moving window; the shape limits' MemoryStorage keeps (newest first)."""

    __slots__ = ("atime", "expiry")

    def __init__(self, atime: float, expiry: float):
        self.atime = atime
        self.expiry = atime + expiry


class ClockedMemoryStorage(MemoryStorage):
    """limits' in-memory storage whose moving window reads an injected clock instead of time.time().

    The strategy (MovingWindowRateLimiter), the keys and the locks stay the library's; only the time
    source changes, so the tests can drive a minute of traffic without waiting a minute and production
    runs the very same code with the system clock.
    """

    def __init__(self, clock: Clock):
        super().__init__()
        self._clock = clock
        self._last_sweep = 0.0

    def _now(self) -> float:
        return self._clock().timestamp()

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self._now()
        self._sweep(now, expiry)
        with self.locks[key]:
            events = self.events.setdefault(key, [])
            # The window is full when the `limit - amount`-th newest request is still inside it.
            boundary = events[limit - amount] if len(events) > limit - amount else None
            # A request leaves the window exactly `expiry` seconds after it was made.
            if boundary is not None and boundary.atime > now - expiry:
                return False
            events[:0] = [_Stamp(now, expiry)] * amount
            del events[limit:]  # older requests can no longer decide anything
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._now()
        with self.locks[key]:
            events = self.events.get(key, [])
            inside = [e for e in events if e.atime > now - expiry]
            if not inside:
                return now, 0
            return inside[-1].atime, len(inside)

    def _sweep(self, now: float, expiry: float) -> None:
        # Forget clients idle for a whole window, at most once per window, so memory follows the
        # number of active clients rather than every address ever seen.
        if now - self._last_sweep < expiry:
            return
        self._last_sweep = now
        for key in list(self.events):
            with self.locks[key]:
                events = self.events.get(key)
                if not events or events[0].expiry <= now:
                    self.events.pop(key, None)
                    self.locks.pop(key, None)

    def _MemoryStorage__expire_events(self) -> None:
        # The parent's background expiry compares with the system clock; ours sweeps in acquire_entry.
        pass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused


class RequestRateLimiter:
    """The sliding window of requests per client: limits' moving-window strategy, in memory.

    In memory means per process: run the intake as one process (uvicorn's default), or put a shared
    store behind it before scaling out.
    """

    def __init__(self, limits: PushLimits, clock: Clock = utc_now):
        self._item = RateLimitItemPerSecond(limits.requests_per_window, limits.window_seconds)
        self._clock = clock
        self._limiter = MovingWindowRateLimiter(ClockedMemoryStorage(clock))
        self._lock = threading.Lock()

    def hit(self, *client: str) -> RateDecision:
        """Count one request of `client` if the window has room; a refused request is not counted, so a
        client that waits `retry_after` seconds gets through."""
        with self._lock:
            if self._limiter.hit(self._item, *client):
                return RateDecision(True)
            reset_at, _ = self._limiter.get_window_stats(self._item, *client)
        wait = reset_at - self._clock().timestamp()
        return RateDecision(False, max(1, math.ceil(wait)))


# ------------------------------------------------------------------------------------------ body size
class BodyTooLarge(Exception):
    """The request body is over the limit; nothing more of it is read."""


async def read_limited(declared_length: str | None, chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed `max_bytes`: from Content-Length when
    the client sends one, else by counting while streaming (chunked uploads, or a length that lies)."""
    if declared_length is not None:
        try:
            if int(declared_length) > max_bytes:
                raise BodyTooLarge
        except ValueError:
            pass  # the server rejects a malformed length before we see the request
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge
    return bytes(body)


# -------------------------------------------------------------------------------- daily SKU updates
class DailyLimitExceeded(Exception):
    """The feed has used its SKU updates for the UTC day. Carries no secret, only counts."""

    def __init__(self, limit: int, used: int, requested: int, retry_after: int):
        self.limit, self.used, self.requested, self.retry_after = limit, used, requested, retry_after
        super().__init__(
            f"daily SKU update limit reached: {used} of {limit} used today (UTC), this delivery has "
            f"{requested}; the quota resets at midnight UTC, in {retry_after} s")


def seconds_until_midnight_utc(now: datetime) -> int:
    now = now.astimezone(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def utc_day(now: datetime) -> date:
    return now.astimezone(UTC).date()


def charge_sku_updates(conn: Connection, source_id: int, count: int, limit: int, now: datetime) -> int:
    """Count `count` SKU updates against the feed's quota for today; returns today's total.

    Atomic check-and-add in one statement, so parallel deliveries cannot overrun the quota together.
    Runs inside the delivery's transaction: a delivery that fails later un-charges itself.
    """
    day = utc_day(now)
    if count > limit:
        used = conn.execute(text("SELECT sku_updates FROM ops.feed_daily_usage WHERE source_id = :s AND day = :d"),
                            {"s": source_id, "d": day}).scalar() or 0
        raise DailyLimitExceeded(limit, used, count, seconds_until_midnight_utc(now))
    total = conn.execute(query_beside(__file__, "charge_sku_updates.sql"),
                         {"s": source_id, "d": day, "n": count, "limit": limit}).scalar()
    if total is None:
        used = conn.execute(text("SELECT sku_updates FROM ops.feed_daily_usage WHERE source_id = :s AND day = :d"),
                            {"s": source_id, "d": day}).scalar() or 0
        raise DailyLimitExceeded(limit, used, count, seconds_until_midnight_utc(now))
    return total
