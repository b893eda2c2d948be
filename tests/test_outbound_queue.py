"""The outbound queue against a real Postgres: one row per request, at most one applied write per item,
retries that back off and honour Retry-After, dead letters, and recovery from workers that died."""
from __future__ import annotations

import random
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from marketsync.assets.accounts import upsert_account
from marketsync.assets.outbound_queue import (
    Backoff,
    OutcomeUnknown,
    PermanentError,
    QueuedItem,
    RetryableError,
    enqueue,
    list_items,
    process_queue,
    queue_stats,
    requeue,
)
from marketsync.resources.errors import MarketsyncError

OP = "confirm"
# Items are queued due at the database's clock; the injected clock runs a day ahead of it, so whatever
# a test queues is due at at(0), however long the test session has been running.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def close(stored: datetime, expected: datetime) -> bool:
    """Equal up to rounding to Postgres's microseconds."""
    return abs(stored - expected) <= timedelta(microseconds=1)


class WorkerKilled(BaseException):
    """Stands in for the process dying: nothing in the queue catches it, so nothing gets recorded."""


class AppliedThen(Exception):
    """Script entry: the write takes effect at the channel, and then the given failure happens."""

    def __init__(self, failure: BaseException):
        self.failure = failure


class FakeChannel:
    """A marketplace that remembers which writes took effect. `script` gives, call by call, what `send`
    does: None = apply and answer, an exception = fail before the write, AppliedThen(e) = apply, then fail."""

    def __init__(self, script: list | None = None, send_delay: float = 0.0):
        self.script = list(script or [])
        self.send_delay = send_delay
        self.sends: list[str] = []
        self.reads: list[str] = []
        self.applied: dict[str, int] = {}
        self.duplicates: list[str] = []  # sends of a write that had already taken effect
        self.lock = threading.Lock()
        self.on_send = None

    def send(self, item: QueuedItem) -> dict:
        with self.lock:
            if item.idempotency_key in self.applied:
                self.duplicates.append(item.idempotency_key)
            self.sends.append(item.idempotency_key)
            outcome = self.script.pop(0) if self.script else None
        if self.on_send:
            self.on_send(item)
        if self.send_delay:
            threading.Event().wait(self.send_delay)  # lets concurrent workers interleave
        if isinstance(outcome, AppliedThen):
            self._apply(item)
            raise outcome.failure
        if outcome is not None:
            raise outcome
        self._apply(item)
        return {"shipment": item.payload.get("shipment"), "state": "confirmed"}

    def already_applied(self, item: QueuedItem) -> bool:
        with self.lock:
            self.reads.append(item.idempotency_key)
            return item.idempotency_key in self.applied

    def _apply(self, item: QueuedItem) -> None:
        with self.lock:
            self.applied[item.idempotency_key] = self.applied.get(item.idempotency_key, 0) + 1


@pytest.fixture
def account_id(warehouse) -> int:
    with warehouse.begin() as conn:
        return upsert_account(conn, "shop", "letzshop").account_id


def queue(warehouse, account_id, n=1, **kwargs) -> list[QueuedItem]:
    with warehouse.begin() as conn:
        return [enqueue(conn, account_id, OP, {"shipment": f"S{i}"}, **kwargs) for i in range(n)]


def row(warehouse, outbound_id: int) -> dict:
    with warehouse.begin() as conn:
        return next(item for item in list_items(conn) if item["outbound_id"] == outbound_id)


def drain(warehouse, channel, now, **kwargs):
    kwargs.setdefault("rng", random.Random(1))
    kwargs.setdefault("sleep", lambda seconds: pytest.fail(f"unexpected sleep({seconds})"))
    return process_queue(warehouse.engine, {OP: channel}, now=now, **kwargs)


# ---------------------------------------------------------------- enqueue
def test_same_request_enqueued_twice_is_one_row(warehouse, account_id):
    with warehouse.begin() as conn:
        first = enqueue(conn, account_id, OP, {"shipment": "S1", "units": ["a", "b"]}, triggered_by="test")
        again = enqueue(conn, account_id, OP, {"units": ["a", "b"], "shipment": "S1"})  # key order differs
        other = enqueue(conn, account_id, OP, {"shipment": "S2", "units": ["a", "b"]})
        by_parts = enqueue(conn, account_id, "set_tracking", {"code": "X1"}, key_parts=("S1",))
        by_parts_again = enqueue(conn, account_id, "set_tracking", {"code": "X1", "at": "later"}, key_parts=("S1",))
        rows = list_items(conn)

    assert first.created and not again.created and other.created
    assert again.outbound_id == first.outbound_id and again.idempotency_key == first.idempotency_key
    assert re.fullmatch(rf"{account_id}:{OP}:[0-9a-f]{{32}}", first.idempotency_key)
    assert other.idempotency_key != first.idempotency_key
    assert by_parts.created and not by_parts_again.created and by_parts_again.payload == {"code": "X1"}
    assert len(rows) == 3
    assert first.status == "pending" and first.attempts == 0 and first.triggered_by == "test"


def test_key_material_must_be_plain_json(warehouse, account_id):
    with warehouse.begin() as conn, pytest.raises(MarketsyncError, match="not plain JSON"):
        enqueue(conn, account_id, OP, {"at": datetime.now()})


# ---------------------------------------------------------------- success
def test_success_is_recorded_once_and_only_handled_operations_are_claimed(warehouse, account_id):
    [item] = queue(warehouse, account_id)
    with warehouse.begin() as conn:
        unhandled = enqueue(conn, account_id, "reject", {"shipment": "S9"})
    channel = FakeChannel()
    seen_in_flight = []

    def check_claim_committed(item: QueuedItem) -> None:
        # Another connection already sees the attempt: a crash from here on leaves evidence.
        seen_in_flight.append(row(warehouse, item.outbound_id))

    channel.on_send = check_claim_committed
    summary = drain(warehouse, channel, at(0))

    assert (summary.processed, summary.succeeded, summary.failed, summary.dead) == (1, 1, 0, 0)
    assert seen_in_flight[0]["status"] == "in_flight" and seen_in_flight[0]["attempts"] == 1
    assert seen_in_flight[0]["lease_expires_at"] == at(120)
    done = row(warehouse, item.outbound_id)
    assert done["status"] == "succeeded" and done["completed_at"] is not None
    assert done["response"] == {"shipment": "S0", "state": "confirmed"}
    assert done["lease_expires_at"] is None and done["last_error"] is None
    assert row(warehouse, unhandled.outbound_id)["status"] == "pending"

    assert drain(warehouse, channel, at(3600)).processed == 0
    with warehouse.begin() as conn:  # queueing it again after success sends nothing either
        assert enqueue(conn, account_id, OP, {"shipment": "S0"}).status == "succeeded"
    assert drain(warehouse, channel, at(7200)).processed == 0
    assert channel.sends == [item.idempotency_key] and channel.reads == []


# ---------------------------------------------------------------- retries
def test_retry_waits_at_least_retry_after_and_defers_the_account(warehouse, account_id):
    items = queue(warehouse, account_id, n=3)
    channel = FakeChannel([RetryableError("Letzshop rate limit (HTTP 429)", retry_after=600)])

    summary = drain(warehouse, channel, at(0))

    # The jitter (at most 2 s on a first retry) never brings it back sooner than the channel asked.
    first = row(warehouse, items[0].outbound_id)
    assert first["status"] == "pending" and first["attempts"] == 1 and not first["outcome_unknown"]
    assert first["next_attempt_at"] == at(600)
    assert first["last_error"] == "Letzshop rate limit (HTTP 429)"
    # The account said slow down: its other items keep their attempts for a later run.
    assert (summary.processed, summary.failed, summary.deferred) == (1, 1, 2)
    assert len(channel.sends) == 1
    assert [row(warehouse, i.outbound_id)["attempts"] for i in items[1:]] == [0, 0]

    summary = drain(warehouse, channel, at(599))
    assert summary.succeeded == 2 and row(warehouse, items[0].outbound_id)["status"] == "pending"
    assert drain(warehouse, channel, at(600)).succeeded == 1
    assert sorted(channel.applied.values()) == [1, 1, 1]


def test_short_retry_after_is_waited_out_in_the_run(warehouse, account_id):
    items = queue(warehouse, account_id, n=2)
    channel = FakeChannel([RetryableError("busy (HTTP 429)", retry_after=1.5)])
    slept = []

    summary = drain(warehouse, channel, at(0), sleep=slept.append)

    assert slept == [1.5]
    assert (summary.failed, summary.succeeded, summary.deferred) == (1, 1, 0)
    assert row(warehouse, items[0].outbound_id)["next_attempt_at"] >= at(1.5)


def test_backoff_is_capped_exponential_with_full_jitter():
    backoff = Backoff(base=2.0, cap=900.0)
    rng = random.Random(42)
    for attempt in range(1, 40):
        ceiling = min(900.0, 2.0 * 2 ** (attempt - 1))
        delays = [backoff.delay(attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # the whole window is used, not just its start
    assert all(backoff.delay(3, retry_after=30, rng=rng) >= 30 for _ in range(100))
    assert Backoff(base=1, cap=10).delay(10_000, rng=rng) <= 10
    # Seeded: the same draws every time.
    assert Backoff().delay(4, rng=random.Random(7)) == random.Random(7).uniform(0, 16)


def test_retry_delay_in_the_queue_uses_the_injected_random(warehouse, account_id):
    [item] = queue(warehouse, account_id)
    channel = FakeChannel([RetryableError("HTTP 503"), RetryableError("HTTP 503")])
    backoff = Backoff(base=10, cap=15)

    drain(warehouse, channel, at(0), rng=random.Random(3), backoff=backoff)
    expected = random.Random(3).uniform(0, 10)
    assert close(row(warehouse, item.outbound_id)["next_attempt_at"], at(expected))

    drain(warehouse, channel, at(100), rng=random.Random(4), backoff=backoff)
    expected = random.Random(4).uniform(0, 15)  # 10 * 2 capped at 15
    assert close(row(warehouse, item.outbound_id)["next_attempt_at"], at(100 + expected))


# ---------------------------------------------------------------- dead letters
def test_dead_after_max_attempts_then_requeued_with_the_same_key(warehouse, account_id):
    [item] = queue(warehouse, account_id, max_attempts=3)
    channel = FakeChannel([RetryableError("HTTP 502")] * 3)

    summaries = [drain(warehouse, channel, at(1000 * n)) for n in range(4)]  # 1000 s > any backoff here

    assert [(s.failed, s.dead) for s in summaries] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    dead = row(warehouse, item.outbound_id)
    assert dead["status"] == "dead" and dead["attempts"] == 3 and dead["completed_at"] is not None
    assert dead["last_error"] == "after 3 attempts: HTTP 502"
    assert "dead-lettered" in summaries[2].errors[0]
    assert len(channel.sends) == 3

    with warehouse.begin() as conn:
        with pytest.raises(MarketsyncError):
            requeue(conn)
        assert requeue(conn, item.outbound_id + 1) == 0
        assert requeue(conn, all_dead=True, account_id=account_id + 1) == 0
        assert requeue(conn, item.outbound_id, now=at(4000)) == 1
        assert requeue(conn, item.outbound_id) == 0  # no longer dead
    again = row(warehouse, item.outbound_id)
    assert again["status"] == "pending" and again["attempts"] == 0 and again["completed_at"] is None
    assert again["idempotency_key"] == item.idempotency_key

    assert drain(warehouse, channel, at(4000)).succeeded == 1
    assert channel.applied == {item.idempotency_key: 1}


def test_permanent_error_is_dead_at_once_and_error_text_is_bounded(warehouse, account_id):
    items = queue(warehouse, account_id, n=2)
    channel = FakeChannel([PermanentError("Letzshop refused the tracking code: " + "x" * 5000)])

    summary = drain(warehouse, channel, at(0))

    dead = row(warehouse, items[0].outbound_id)
    assert dead["status"] == "dead" and dead["attempts"] == 1
    assert len(dead["last_error"]) == 2000 and dead["last_error"].startswith("Letzshop refused")
    assert (summary.dead, summary.succeeded) == (1, 1)  # one refusal does not stop the others
    assert drain(warehouse, channel, at(10_000)).processed == 0


def test_unexpected_handler_error_counts_as_unknown_outcome_and_is_not_stored_verbatim(warehouse, account_id):
    [item] = queue(warehouse, account_id)
    channel = FakeChannel([AppliedThen(KeyError("Authorization: Bearer s3cret"))])

    drain(warehouse, channel, at(0))

    failed = row(warehouse, item.outbound_id)
    assert failed["status"] == "pending" and failed["outcome_unknown"]
    assert "s3cret" not in failed["last_error"] and "KeyError" in failed["last_error"]
    drain(warehouse, channel, at(1000))
    assert row(warehouse, item.outbound_id)["status"] == "succeeded"
    assert channel.applied == {item.idempotency_key: 1} and len(channel.sends) == 1


# ---------------------------------------------------------------- unknown outcomes
def test_timeout_after_sending_is_reread_and_not_sent_again(warehouse, account_id):
    applied, lost = queue(warehouse, account_id, n=2)
    channel = FakeChannel([AppliedThen(OutcomeUnknown("read timeout after sending")),
                           OutcomeUnknown("connection dropped")])

    summary = drain(warehouse, channel, at(0))
    assert summary.failed == 2
    assert all(row(warehouse, i.outbound_id)["outcome_unknown"] for i in (applied, lost))

    summary = drain(warehouse, channel, at(1000))

    assert (summary.succeeded, summary.already_applied) == (2, 1)
    assert row(warehouse, applied.outbound_id)["response"] == {"already_applied": True}
    assert channel.reads == [applied.idempotency_key, lost.idempotency_key]
    # Sent once each, plus a resend only for the one the channel showed as not applied.
    assert channel.sends == [applied.idempotency_key, lost.idempotency_key, lost.idempotency_key]
    assert channel.applied == {applied.idempotency_key: 1, lost.idempotency_key: 1}


@pytest.mark.parametrize("applied_before_death", [True, False])
def test_killed_worker_item_is_reread_after_its_lease(warehouse, account_id, applied_before_death,
                                                     wait_for_dead_workers):
    [item] = queue(warehouse, account_id)
    channel = FakeChannel([AppliedThen(WorkerKilled()) if applied_before_death else WorkerKilled()])

    with pytest.raises(WorkerKilled):
        drain(warehouse, channel, at(0), lease_seconds=120)

    stuck = row(warehouse, item.outbound_id)
    assert stuck["status"] == "in_flight" and stuck["attempts"] == 1 and stuck["lease_expires_at"] == at(120)
    with warehouse.begin() as conn:
        assert queue_stats(conn)["in_flight"] == 1

    assert drain(warehouse, channel, at(119)).processed == 0  # the lease still protects it
    # The dead worker's connection was closed; Postgres drops its advisory lock once the backend
    # notices, which can take a moment: until then the item is rightly treated as still in hand.
    wait_for_dead_workers()
    summary = drain(warehouse, channel, at(121))

    assert summary.succeeded == 1 and summary.already_applied == int(applied_before_death)
    done = row(warehouse, item.outbound_id)
    assert done["status"] == "succeeded" and done["outcome_unknown"] and done["attempts"] == 2
    assert channel.reads == [item.idempotency_key]
    assert len(channel.sends) == (1 if applied_before_death else 2)
    assert channel.applied == {item.idempotency_key: 1}


def test_worker_killed_on_its_last_attempt_is_not_sent_beyond_max_attempts(warehouse, account_id,
                                                                           wait_for_dead_workers):
    [item] = queue(warehouse, account_id, max_attempts=1)
    channel = FakeChannel([WorkerKilled()])
    with pytest.raises(WorkerKilled):
        drain(warehouse, channel, at(0))
    wait_for_dead_workers()  # the dead worker's lock goes when Postgres notices its connection closed

    summary = drain(warehouse, channel, at(1000))

    assert summary.dead == 1 and len(channel.sends) == 1 and channel.reads == [item.idempotency_key]
    dead = row(warehouse, item.outbound_id)
    assert dead["status"] == "dead" and dead["outcome_unknown"]


def test_slow_worker_past_its_lease_is_not_mistaken_for_a_dead_one(warehouse, account_id):
    [item] = queue(warehouse, account_id)
    entered, release = threading.Event(), threading.Event()
    slow = FakeChannel()
    slow.on_send = lambda _: (entered.set(), release.wait(10))
    other = FakeChannel()
    result = {}
    thread = threading.Thread(target=lambda: result.update(a=drain(warehouse, slow, at(0), lease_seconds=1)))
    thread.start()
    try:
        assert entered.wait(10)
        summary = drain(warehouse, other, at(60), lease_seconds=1)  # its lease expired 59 s ago
    finally:
        release.set()
        thread.join(10)

    assert (summary.processed, summary.deferred) == (0, 1)
    assert other.sends == [] and other.reads == []
    assert result["a"].succeeded == 1 and row(warehouse, item.outbound_id)["status"] == "succeeded"


@pytest.mark.parametrize("skew", [0, 200], ids=["same-clock", "second-worker-past-every-lease"])
def test_two_workers_never_send_an_item_twice(warehouse, account_id, skew):
    items = queue(warehouse, account_id, n=40)
    channel = FakeChannel([RetryableError("HTTP 503")] * 5, send_delay=0.002)
    barrier = threading.Barrier(2)
    summaries = {}

    def worker(name: str, now: datetime) -> None:
        barrier.wait()
        summaries[name] = drain(warehouse, channel, now, worker_id=name, lease_seconds=100,
                                rng=random.Random(name))

    threads = [threading.Thread(target=worker, args=("a", at(0))),
               threading.Thread(target=worker, args=("b", at(skew)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert summaries["a"].processed > 0 and summaries["b"].processed > 0
    assert summaries["a"].processed + summaries["b"].processed == len(channel.sends)
    drain(warehouse, channel, at(1000))  # whatever the refusals left for later
    # Every item took effect exactly once; the only repeats are the five sends the channel refused.
    assert channel.duplicates == []
    assert channel.applied == {i.idempotency_key: 1 for i in items}
    assert len(channel.sends) == 45
    assert not any("lost its lease" in e for s in summaries.values() for e in s.errors)


# ---------------------------------------------------------------- inspecting
def test_list_items_and_stats(warehouse, account_id):
    items = queue(warehouse, account_id, n=3)
    channel = FakeChannel([PermanentError("bad"), OutcomeUnknown("timeout")])
    drain(warehouse, channel, at(0), limit=2)

    with warehouse.begin() as conn:
        assert [i["status"] for i in list_items(conn)] == ["dead", "pending", "pending"]
        assert [i["outbound_id"] for i in list_items(conn, status="dead")] == [items[0].outbound_id]
        assert list_items(conn, account_id=account_id + 1) == []
        with pytest.raises(MarketsyncError):
            list_items(conn, status="done")
        stats = queue_stats(conn)
    assert {k: stats[k] for k in ("pending", "in_flight", "succeeded", "dead", "total")} == \
        {"pending": 2, "in_flight": 0, "succeeded": 0, "dead": 1, "total": 3}
    assert stats["outcome_unknown"] == 1 and stats["due"] >= 1
