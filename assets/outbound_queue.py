"""The outbound queue: every write we make to a marketplace (confirm, reject, tracking, ...) as a durable,
at-most-once-applied work item in ops.outbound_queue.

Why a queue and not a direct call: a confirmation or a rejection that reaches a marketplace twice costs
money or confuses a customer, and a network failure leaves us not knowing whether it arrived. So:

* the idempotency key is made when the work is queued, before any attempt; queueing the same request
  twice is one row (and, in the caller's transaction, atomic with the order change that asked for it);
* an attempt is recorded (status in_flight, attempts + 1, a lease) and committed before the request
  leaves, so a worker that dies mid-request leaves evidence;
* whenever an earlier attempt's outcome is unknown (a timeout after sending, a dropped connection, a
  worker that died holding the lease) the handler re-reads the channel first and we only send again
  when the write is known not to have happened;
* retries span runs and processes: their schedule lives in Postgres, not in memory.

The queue is channel-agnostic: a `Handler` per operation knows how to send and how to re-read.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, Engine, TextClause, text

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.session_context import set_cause
from marketsync.resources.sql_files import query_beside, sql_beside

log = logging.getLogger(__name__)

STATUSES = ("pending", "in_flight", "succeeded", "dead")
MAX_ERROR_CHARS = 2000


# ---------------------------------------------------------------- what handlers raise
class OutboundError(MarketsyncError):
    """A failed attempt at an outbound write. Like every MarketsyncError its message is shown to people
    and stored in ops.outbound_queue.last_error, so it must never contain secrets."""


class RetryableError(OutboundError):
    """The write certainly did not happen and may succeed later: 5xx, 429, connection refused before the
    request was sent. `retry_after` (seconds) is the channel's Retry-After, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = None if retry_after is None else max(0.0, float(retry_after))


class OutcomeUnknown(OutboundError):
    """The request left and we did not see the answer (timeout after sending, connection dropped
    mid-response): the write may have happened. The next attempt re-reads the channel first."""


class PermanentError(OutboundError):
    """The channel refused the request itself (4xx validation): retrying cannot help, so the item is
    dead-lettered at once for a person to look at."""


# ---------------------------------------------------------------- items and handlers
@dataclass(frozen=True)
class QueuedItem:
    """One outbound write as stored. `created` tells whether `enqueue` just made it (False: the same
    request was already queued, and this is that row)."""

    outbound_id: int
    account_id: int
    order_id: int | None
    operation: str
    payload: dict[str, Any]
    idempotency_key: str
    status: str
    outcome_unknown: bool
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    lease_expires_at: datetime | None
    last_error: str | None
    response: dict[str, Any] | None
    triggered_by: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    created: bool = False

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], created: bool = False) -> QueuedItem:
        return cls(**{name: row[name] for name in _COLUMNS}, created=created)


_COLUMNS = tuple(name for name in QueuedItem.__dataclass_fields__ if name != "created")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM ops.outbound_queue"  # noqa: S608 - QueuedItem's field names


@cache
def _with_columns(name: str) -> TextClause:
    """The statement of sql/<name> with QueuedItem's field names (our own, never input) as its {columns}."""
    return text(sql_beside(__file__, name).format(columns=", ".join(_COLUMNS)))


@runtime_checkable
class Handler(Protocol):
    """Performs one kind of outbound write (one `operation`) for one channel.

    `send` performs the write and returns the channel's answer (stored as the item's `response`). It
    raises RetryableError, OutcomeUnknown or PermanentError; any other exception is taken as
    OutcomeUnknown, since it may come after the write happened. It may pass `item.idempotency_key` on to
    channels that accept one.

    `already_applied` re-reads the channel and says whether the write this item describes has taken
    effect: called before sending whenever an earlier attempt's outcome is unknown. It must answer from
    the channel's current state, never from our own tables.
    """

    def send(self, item: QueuedItem) -> dict[str, Any]: ...

    def already_applied(self, item: QueuedItem) -> bool: ...


# A handler may also define `on_success(conn, item)`: it runs in the transaction that marks the item
# succeeded, to record the write's local consequences (an order's new status) atomically with it.


# ---------------------------------------------------------------- enqueue
def idempotency_key(account_id: int, operation: str, payload: Mapping[str, Any] | None = None,
                    key_parts: tuple | None = None) -> str:
    """`{account_id}:{operation}:{sha256[:32]}` of a canonical JSON of `key_parts`, else of the payload.

    Canonical: sorted keys, no whitespace, and strict JSON types only (no silent `str()` of a Decimal or
    a datetime), so the same request always gives the same key in every process and release."""
    basis = list(key_parts) if key_parts is not None else payload
    try:
        canonical = json.dumps(basis, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MarketsyncError(f"outbound {operation}: the key material is not plain JSON ({exc})") from None
    return f"{account_id}:{operation}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def enqueue(
    conn: Connection,
    account_id: int,
    operation: str,
    payload: dict[str, Any],
    order_id: int | None = None,
    triggered_by: str = "cli",
    key_parts: tuple | None = None,
    max_attempts: int = 8,
) -> QueuedItem:
    """Queue one outbound write, or find the identical one already queued.

    Runs in the caller's transaction so that, e.g., an order's move to 'confirming' and the queued
    confirmation commit together. The same request (same account, operation and payload, or the same
    `key_parts` when given) is one row forever: once it has succeeded, queueing it again sends nothing.
    A deliberate second write of the same kind needs different `key_parts`."""
    if not operation:
        raise MarketsyncError("outbound operation must be named")
    if max_attempts < 1:
        raise MarketsyncError("max_attempts must be at least 1")
    key = idempotency_key(account_id, operation, payload, key_parts)
    inserted = conn.execute(
        query_beside(__file__, "outbound_enqueue.sql"),
        {"a": account_id, "o": order_id, "op": operation, "p": json.dumps(payload, allow_nan=False),
         "k": key, "m": max_attempts, "t": triggered_by},
    ).scalar()
    # After ON CONFLICT DO NOTHING, read-committed sees the row a concurrent transaction committed.
    row = conn.execute(text(_SELECT + " WHERE idempotency_key = :k"), {"k": key}).mappings().one()
    return QueuedItem.from_row(row, created=inserted is not None)



def extend_or_enqueue(conn: Connection, account_id: int, operation: str, payload: dict[str, Any], *,
                      list_field: str, key_parts: tuple, due_at: datetime, triggered_by: str = "cli") -> bool:
    """Queue a write that collects items until `due_at` (a digest): the first call queues it with
    `payload`, due then; later calls with the same `key_parts` append their `payload[list_field]` to it.
    Returns False when the write already went out or is on its way (no longer pending and untried): its
    items are then the caller's to put elsewhere. In the caller's transaction."""
    key = idempotency_key(account_id, operation, None, key_parts)
    return conn.execute(query_beside(__file__, "outbound_extend.sql"), {
        "a": account_id, "op": operation, "p": json.dumps(payload, allow_nan=False), "k": key,
        "f": list_field, "due": due_at, "t": triggered_by,
    }).first() is not None

# ---------------------------------------------------------------- backoff
@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1))).

    Full jitter spreads retries of many items that failed together (a channel outage) instead of sending
    them back in lockstep. A channel's Retry-After is a floor: we never come back sooner than asked.
    (tenacity's wait_random_exponential computes the same, but draws from the global `random`, which
    tests cannot seed per call.)"""

    base: float = 2.0
    cap: float = 15 * 60.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        # Exponent clamped: 2**1024 would overflow a float long after the cap has taken over anyway.
        ceiling = min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 60))
        wait = (rng or random).uniform(0.0, ceiling)
        return max(wait, retry_after or 0.0)


# ---------------------------------------------------------------- draining
@dataclass
class DrainSummary:
    """What one `process_queue` run did. processed = succeeded + failed + dead (items attempted);
    failed items were rescheduled for a later attempt; deferred items were due but left alone this run
    (their account asked us to slow down, or another live worker still holds them)."""

    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    already_applied: int = 0  # of `succeeded`: found applied on re-read, so not sent again
    errors: list[str] = field(default_factory=list)


# An attempt is also guarded by a session-level advisory lock on its item, held while the handler runs.
# The lease alone cannot tell a dead worker from a slow one; the lock can: Postgres drops it when the
# holder's connection ends, so an expired lease whose lock is still held is a live worker, not evidence
# of a crash, and is left alone instead of being re-read and sent a second time.
_LOCK_CLASS = 0x6F75  # "ou": keeps these locks apart from other advisory-lock users of the database


def _lock_key(outbound_id: int) -> int:
    # pg_try_advisory_lock(int, int): fold the bigint id into int4; a collision only skips an item.
    return ((outbound_id + 2**31) % 2**32) - 2**31


def process_queue(
    engine: Engine,
    handlers: Mapping[str, Handler],
    *,
    account_ids: Iterable[int] | None = None,
    limit: int | None = None,
    worker_id: str | None = None,
    lease_seconds: float = 120,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff = Backoff(),
    rng: random.Random | None = None,
    max_inline_wait: float = 5.0,
) -> DrainSummary:
    """Attempt every due item whose operation has a handler (optionally only for `account_ids`, at most
    `limit` items), each at most once per run.

    `now` fixes the clock for tests; by default the database's clock decides what is due, so workers
    on different hosts agree. `lease_seconds` must exceed the longest a handler call can take (its
    request timeouts). When a channel answers with a Retry-After of at most `max_inline_wait` seconds we
    `sleep` that long and go on; a longer one defers the rest of that account's items to a later run
    rather than spending their attempts on certain refusals.
    """
    summary = DrainSummary()
    worker = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
    accounts = None if account_ids is None else list(account_ids)
    operations = list(handlers)
    skip: list[int] = []  # attempted (or found busy) this run: never twice in one run
    throttled: list[int] = []
    if not operations:
        return summary

    with engine.connect() as guard:
        guard.execution_options(isolation_level="AUTOCOMMIT")
        try:
            while limit is None or summary.processed < limit:
                claim = _claim(engine, guard, operations, accounts, throttled, skip, lease_seconds, now)
                if claim is None:
                    break
                skip.append(claim.outbound_id)
                if claim.item is None:  # a live worker holds it: a slow request past its lease, or finishing
                    summary.deferred += 1
                    continue
                _attempt(engine, claim.item, handlers[claim.item.operation], claim.lease_expired, summary, worker,
                         backoff, rng, now, throttled, sleep, max_inline_wait)
                guard.execute(text("SELECT pg_advisory_unlock(:c, :k)"),
                              {"c": _LOCK_CLASS, "k": _lock_key(claim.outbound_id)})
            if throttled:
                summary.deferred += _count_due(engine, operations, throttled, now)
        except BaseException:
            # A run that dies (or is killed) mid-attempt must not leave its lock on a pooled connection;
            # closing the session releases it, and the item stays in_flight as evidence.
            guard.invalidate()
            raise
    return summary


@dataclass(frozen=True)
class _Claim:
    outbound_id: int
    item: QueuedItem | None  # None: due, but held by a live worker
    lease_expired: bool


def _claim(engine: Engine, guard: Connection, operations: list[str], accounts: list[int] | None,
           throttled: list[int], skip: list[int], lease_seconds: float, now: datetime | None) -> _Claim | None:
    """Claim the next due item in its own short transaction, committed before anything is sent.
    None when nothing is due."""
    with engine.begin() as conn:
        candidate = conn.execute(
            query_beside(__file__, "outbound_next_due.sql"),
            {"ops": operations, "accounts": accounts, "throttled": throttled, "skip": skip, "now": now},
        ).first()
        if candidate is None:
            return None
        locked: bool = guard.execute(
            text("SELECT pg_try_advisory_lock(:c, :k)"), {"c": _LOCK_CLASS, "k": _lock_key(candidate.outbound_id)}
        ).scalar_one()
        if not locked:
            return _Claim(candidate.outbound_id, None, candidate.lease_expired)
        row = conn.execute(
            _with_columns("outbound_claim.sql"),
            {"id": candidate.outbound_id, "lease": float(lease_seconds), "lease_expired": candidate.lease_expired,
             "now": now},
        ).mappings().one()
    return _Claim(candidate.outbound_id, QueuedItem.from_row(row), candidate.lease_expired)


def _attempt(engine: Engine, item: QueuedItem, handler: Handler, lease_expired: bool, summary: DrainSummary,
             worker: str, backoff: Backoff, rng: random.Random | None, now: datetime | None,
             throttled: list[int], sleep: Callable[[float], None], max_inline_wait: float) -> None:
    """One attempt at one claimed item: re-read if the last outcome is unknown, send if not applied,
    and record what happened."""
    summary.processed += 1
    label = f"outbound {item.outbound_id} ({item.operation})"
    try:
        if (item.outcome_unknown or lease_expired) and handler.already_applied(item):
            _finish(engine, "outbound_succeed.sql", item, summary, worker, response={"already_applied": True},
                    now=now, on_success=getattr(handler, "on_success", None))
            summary.succeeded += 1
            summary.already_applied += 1
            return
        if item.attempts > item.max_attempts:
            # Only reachable after a worker died on the last attempt: the re-read says it did not apply.
            raise PermanentError(f"gave up after {item.max_attempts} attempts")
        response = handler.send(item)
    except RetryableError as exc:
        _fail(engine, item, exc, summary, worker, backoff, rng, now, exc.retry_after, unknown=False)
        if exc.retry_after is not None:
            if exc.retry_after <= max_inline_wait:
                sleep(exc.retry_after)
            elif item.account_id not in throttled:
                throttled.append(item.account_id)
        return
    except OutcomeUnknown as exc:
        _fail(engine, item, exc, summary, worker, backoff, rng, now, None, unknown=True)
        return
    except PermanentError as exc:
        _bury(engine, item, exc, summary, worker, now, unknown=False)
        return
    except Exception as exc:
        # A bug in a handler may strike after the write went out; treat it as not knowing.
        # Its text is not a message written for storage and may quote secrets: keep it in the log only.
        log.exception("%s: unexpected error from the %s handler", label, item.operation)
        unexpected = OutcomeUnknown(f"unexpected {type(exc).__name__} in the {item.operation} handler "
                                    "(details in the worker's log)")
        _fail(engine, item, unexpected, summary, worker, backoff, rng, now, None, unknown=True)
        return
    _finish(engine, "outbound_succeed.sql", item, summary, worker, response=response, now=now,
            on_success=getattr(handler, "on_success", None))
    summary.succeeded += 1


def _fail(engine: Engine, item: QueuedItem, exc: OutboundError, summary: DrainSummary, worker: str,
          backoff: Backoff, rng: random.Random | None, now: datetime | None, retry_after: float | None,
          unknown: bool) -> None:
    if item.attempts >= item.max_attempts:
        _bury(engine, item, exc, summary, worker, now, unknown=unknown, exhausted=True)
        return
    delay = backoff.delay(item.attempts, retry_after, rng)
    _finish(engine, "outbound_reschedule.sql", item, summary, worker, error=_error_text(exc), delay=delay,
            unknown=unknown, now=now)
    summary.failed += 1
    summary.errors.append(_summary_line(item, exc, f"retry in {delay:.0f}s"))


def _bury(engine: Engine, item: QueuedItem, exc: OutboundError, summary: DrainSummary, worker: str,
          now: datetime | None, unknown: bool, exhausted: bool = False) -> None:
    error = _error_text(exc)
    if exhausted:
        error = f"after {item.attempts} attempts: {error}"[:MAX_ERROR_CHARS]
    _finish(engine, "outbound_bury.sql", item, summary, worker, error=error, unknown=unknown, now=now)
    summary.dead += 1
    summary.errors.append(_summary_line(item, exc, "dead-lettered"))


def _finish(engine: Engine, sql_file: str, item: QueuedItem, summary: DrainSummary, worker: str, *,
            now: datetime | None, response: Any = None, error: str | None = None, delay: float = 0.0,
            unknown: bool = False, on_success: Callable[[Connection, QueuedItem], None] | None = None) -> None:
    params = {"id": item.outbound_id, "attempt": item.attempts, "now": now, "error": error,
              "delay": float(delay), "unknown": unknown,
              # default=str: a response we cannot serialise must not turn a done write into a retry
              "response": json.dumps(response if response is not None else {}, default=str)}
    with engine.begin() as conn:
        updated = conn.execute(query_beside(__file__, sql_file), params).rowcount
        if updated and on_success is not None:
            # In the same transaction: the local record of the write commits with its success.
            set_cause(conn, f"outbound write {item.outbound_id} ({item.operation})")
            on_success(conn, item)
    if not updated:
        message = (f"outbound {item.outbound_id}: {worker} lost its lease on attempt {item.attempts}; "
                   "result not recorded")
        log.warning(message)
        summary.errors.append(message)


def _count_due(engine: Engine, operations: list[str], account_ids: list[int], now: datetime | None) -> int:
    with engine.connect() as conn:
        return conn.execute(
            query_beside(__file__, "outbound_count_due.sql"),
            {"ops": operations, "a": account_ids, "now": now},
        ).scalar_one()


def _error_text(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS]


def _summary_line(item: QueuedItem, exc: BaseException, what: str) -> str:
    return f"outbound {item.outbound_id} ({item.operation}, attempt {item.attempts}): {type(exc).__name__}: " \
           f"{_error_text(exc)[:300]} -> {what}"


# ---------------------------------------------------------------- operating the queue
def requeue(conn: Connection, outbound_id: int | None = None, *, all_dead: bool = False,
            account_id: int | None = None, now: datetime | None = None) -> int:
    """Give dead-lettered items a fresh set of attempts, due now. Returns how many.

    The idempotency key stays, and so does `outcome_unknown`: an item that might have been applied is
    still re-read before it is sent again. `last_error` is kept until the next attempt replaces it.
    Only dead items move; anything else is left as it is. `now` (tests) sets when they fall due."""
    if (outbound_id is None) == (not all_dead):
        raise MarketsyncError("requeue one item by its id, or all dead items (optionally of one account)")
    return conn.execute(
        query_beside(__file__, "outbound_requeue_dead.sql"),
        {"id": outbound_id, "a": account_id, "now": now},
    ).rowcount


def list_items(conn: Connection, status: str | None = None, account_id: int | None = None,
               order_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Queue rows, oldest first, optionally of one status, account or order."""
    if status is not None and status not in STATUSES:
        raise MarketsyncError(f"unknown outbound status '{status}' (known: {', '.join(STATUSES)})")
    rows = conn.execute(
        _with_columns("outbound_items_list.sql"),
        {"s": status, "a": account_id, "o": order_id, "lim": limit},
    ).mappings().all()
    return [dict(row) for row in rows]


def queue_stats(conn: Connection) -> dict[str, Any]:
    """Counts per status plus what needs attention: items due now, in-flight items whose lease expired
    (a worker died), unsettled items whose last outcome is unknown, and the oldest due time."""
    row = conn.execute(query_beside(__file__, "outbound_stats.sql")).mappings().one()
    return dict(row)
