"""Pushing absolute values per listing to a channel (stock quantities, prices): the answer types and the
steps the stock push and the price push share, so each channel's adapters speak one language and both
pushes deliver, record and fail the same way.

Per SKU the answer is accepted (the channel confirmed it), delivered (a file reached the channel, which
gives no per-row answer) or rejected (with the channel's reason). A SKU the answer does not mention is
unanswered: it stays unacknowledged and the next delta push sends it again.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from marketsync.assets.sync_log import describe_error
from marketsync.resources.errors import MarketsyncError

ANSWERS = ("accepted", "delivered", "rejected")


@dataclass(frozen=True, slots=True)
class ListingAnswer:
    """The channel's answer for one listing."""

    sku: str
    answer: str
    message: str | None = None

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"a listing's answer must be one of {ANSWERS}, not {self.answer!r}")


@dataclass
class PushOutcome:
    """A push that reached the channel: its answers, and where it went (for the log and the ledger)."""

    answers: list[ListingAnswer] = field(default_factory=list)
    delivered_to: str | None = None


class ChannelPushError(MarketsyncError):
    """The push as a whole did not reach the channel (nothing is acknowledged). `retryable` says whether
    trying again later can help (network, 5xx) or a person must act (credentials, configuration)."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class PushFigures(Protocol):
    """What a push's result tallies (the stock push's PushResult, the price push's PricePushResult)."""

    status: str
    pushed: int
    acknowledged: int
    rejected: int
    unanswered: int
    error: str | None
    retryable: bool
    delivered_to: str | None
    timings: dict


class PushAdapter(Protocol):
    snapshot: bool

    def push(self, updates: Sequence[Any], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome: ...


@dataclass(frozen=True)
class PushSteps:
    """The steps of one push that differ between stock and prices; `run_push` runs them in order."""

    compute: Callable[[], list]  # every listing's value in one snapshot, ledger rows written: the updates
    adapter: Callable[[Connection], PushAdapter]  # the channel's adapter
    # (conn, updates) -> the updates plus every other listing at its acknowledged value, for an adapter
    # whose delivery replaces the one before it
    restate: Callable[[Connection, list], list]
    record: Callable[[list[ListingAnswer]], None]  # the answers recorded; acknowledged values moved
    fail_pending: Callable[[Connection, str], None]  # the ledger rows of a push that did not go out
    finish: Callable[[], None]  # the sync row closed with the result's figures


def run_push(engine: Engine, figures: PushFigures, steps: PushSteps, sync_log: Any, idempotency_key: str,
             sync_id: int) -> None:
    """Compute, deliver (one idempotency key for the push), record, in that order, timing each; a push
    that did not reach the channel is recorded as failed (retryable or not) with its ledger rows closed;
    any other error closes the sync row and is raised. The figures go to the sync log."""
    try:
        clock = time.perf_counter()
        updates = steps.compute()
        figures.timings["compute"] = round(time.perf_counter() - clock, 3)
        if updates:
            clock = time.perf_counter()
            with engine.begin() as conn:
                adapter = steps.adapter(conn)
                if adapter.snapshot:
                    updates = steps.restate(conn, updates)
            outcome = adapter.push(updates, idempotency_key=idempotency_key, sync_id=sync_id)
            figures.delivered_to = outcome.delivered_to
            figures.timings["deliver"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            steps.record(outcome.answers)
            figures.timings["record"] = round(time.perf_counter() - clock, 3)
        figures.status = "succeeded" if not (figures.rejected or figures.unanswered) else "partially_succeeded"
    except ChannelPushError as exc:
        figures.status, figures.error, figures.retryable = "failed", str(exc), exc.retryable
        with engine.begin() as conn:
            steps.fail_pending(conn, figures.error[:500])
        sync_log.error(exc)
    except Exception as exc:
        figures.status, figures.error = "failed", describe_error(exc)
        steps.finish()
        raise
    sync_log.add(processed=figures.pushed, succeeded=figures.acknowledged,
                 failed=figures.rejected + figures.unanswered + (figures.pushed if figures.status == "failed" else 0))
    steps.finish()


def errors_of(figures: PushFigures) -> list[str]:
    """What went wrong in a push, as its sync row lists it."""
    errors = [figures.error] if figures.error else []
    if figures.rejected:
        errors.append(f"{figures.rejected} listing(s) rejected by the channel")
    if figures.unanswered:
        errors.append(f"{figures.unanswered} listing(s) not answered by the channel")
    return errors
