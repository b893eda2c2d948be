"""A stock push to one store channel: compute, ledger, deliver, record the answers.

1. One push per channel at a time (an advisory lock); a push interrupted earlier is closed first.
2. In one REPEATABLE READ snapshot: compute every listing's availability (core.stock_availability) and
   write a ledger row per listing to push, with every term; the snapshot itself is kept on the inventory
   sync row, so it is known exactly which order and stock changes the numbers include.
3. Hand the absolute quantities to the channel's adapter (one idempotency key per push). An adapter
   whose delivery replaces the one before it (a file under a fixed name the channel reads later) gets
   every listing the channel holds, not only the changed ones: the changed ones at their new number,
   the others at the number the channel acknowledged, so a later file never drops a listing.
4. Record its answer per listing; accepted or delivered numbers become what the channel acknowledged.
   Rejected and unanswered listings keep their old acknowledged number, so the next delta push sends
   them again, and only them (plus whatever changed since).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import Connection, text

from marketsync.assets.channel_push import PushSteps, errors_of, run_push
from marketsync.assets.stock.channels import StockChannel, StockUpdate, build_channel
from marketsync.assets.stock.explain import not_listed_reason
from marketsync.assets.stock.settings import StockSettings, load_settings
from marketsync.assets.sync_log import SyncLog
from marketsync.resources.advisory_lock import try_session_lock
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse, copy_rows

log = logging.getLogger(__name__)

MODES = ("incremental", "full", "single")
_LOCK_CLASS = 0x5707  # advisory lock namespace of stock pushes: (class, account_id)
_COMPUTE_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'", "SET LOCAL parallel_setup_cost = 0",
                     "SET LOCAL parallel_tuple_cost = 0.001")


@dataclass
class PushResult:
    inventory_sync_id: int
    store: str
    channel: str
    mode: str
    status: str
    listings: int = 0
    pushed: int = 0
    acknowledged: int = 0
    rejected: int = 0
    unanswered: int = 0
    error: str | None = None
    retryable: bool = False
    delivered_to: str | None = None
    # Listings re-stated at their acknowledged number in a delivery that replaces the one before it.
    restated: int = 0
    seconds: float = 0.0
    # compute (availability + ledger), deliver (the adapter), record (answers + acknowledged), in seconds
    timings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


ChannelFactory = Callable[..., StockChannel]  # (conn, settings, vault, clients) -> the channel's adapter


def push_stock(warehouse: Warehouse, vault: CredentialVault, store: str, channel: str, *,
               mode: str = "incremental", skus: Sequence[str] | None = None, triggered_by: str = "cli",
               run_id: str | None = None, channel_factory: ChannelFactory = build_channel,
               clients: dict | None = None) -> PushResult:
    """Push one store channel's stock; see the module docstring. Raises MarketsyncError only for what a
    person must fix (no settings, another push running, a bad mode, a SKU that is no listing there); a
    failed delivery is recorded and returned (status 'failed')."""
    if mode not in MODES:
        raise MarketsyncError(f"push mode must be one of {', '.join(MODES)}, not '{mode}'")
    if mode == "single" and not skus:
        raise MarketsyncError("a single push needs the SKUs to push")
    started = time.perf_counter()
    with warehouse.begin() as conn:
        settings = load_settings(conn, store, channel)
    if not settings.enabled:
        raise MarketsyncError(f"stock pushes to {channel} are disabled for {store}")
    if mode == "single":
        with warehouse.begin() as conn:
            _check_listings(conn, settings, list(dict.fromkeys(skus or ())))
    with try_session_lock(warehouse.engine, _LOCK_CLASS, settings.account_id) as taken:
        if not taken:
            raise MarketsyncError(f"a push for {settings.partition_key} is already running; try again when it "
                                  f"has finished (`marketsync stock log {store} {channel}`)")
        return _push_locked(warehouse, settings, mode, list(skus or ()), triggered_by, run_id,
                            lambda conn: channel_factory(conn, settings, vault, clients), started)


def _push_locked(warehouse: Warehouse, settings: StockSettings, mode: str,
                 skus: list[str], triggered_by: str, run_id: str | None,
                 make_adapter: Callable[[Connection], StockChannel], started: float) -> PushResult:
    engine = warehouse.engine
    with engine.begin() as conn:
        _close_interrupted(conn, settings.account_id)
        sync_id = conn.execute(
            query_beside(__file__, "inventory_sync_start.sql"),
            {"a": settings.account_id, "m": mode, "t": triggered_by, "r": run_id}).scalar_one()
    result = PushResult(sync_id, settings.store, settings.channel, mode, status="running")
    steps = PushSteps(
        compute=lambda: _compute(warehouse, settings, sync_id, mode, skus, result),
        adapter=make_adapter,
        restate=lambda conn, updates: _with_acknowledged(conn, settings.account_id, sync_id, updates, result),
        record=lambda answers: _record(warehouse, sync_id, answers, result),
        fail_pending=lambda conn, error: conn.execute(query_beside(__file__, "ledger_fail_pending.sql"),
                                                      {"e": error, "s": sync_id}),
        finish=lambda: _finish(warehouse, settings, result, started))
    with SyncLog(engine, f"stock_push_{mode}", "outbound", account_id=settings.account_id,
                 triggered_by=triggered_by, run_id=run_id) as sync_log:
        run_push(engine, result, steps, sync_log, f"marketsync-stock-{settings.account_id}-{sync_id}", sync_id)
    log.info("stock push %s.%s #%s: %s, %s of %s listings pushed, %s acknowledged, %s rejected, %s unanswered",
             settings.store, settings.channel, sync_id, result.status, result.pushed, result.listings,
             result.acknowledged, result.rejected, result.unanswered)
    return result


def _check_listings(conn: Connection, settings: StockSettings, skus: list[str]) -> None:
    """A single push names listings: an unknown SKU or one the channel does not list is a person's
    mistake, answered at once in words (nothing is computed or recorded)."""
    found = {r.sku: r for r in conn.execute(text(
        "SELECT sku, product_id, is_placeholder FROM core.products WHERE store_id = :s AND sku = ANY(:k)"),
        {"s": settings.store_id, "k": skus})}
    unknown = [sku for sku in skus if sku not in found]
    if unknown:
        raise MarketsyncError(f"{settings.store} has no listing with SKU {', '.join(unknown[:5])} on "
                              f"{settings.channel}: no product of {settings.store} has "
                              f"{'that SKU' if len(unknown) == 1 else 'these SKUs'}; nothing was pushed")
    for sku in skus:
        reason = not_listed_reason(conn, settings, sku, found[sku].product_id, found[sku].is_placeholder)
        if reason:
            raise MarketsyncError(f"'{sku}' is not a listing of {settings.store} on {settings.channel}: {reason}; "
                                  "nothing was pushed")


def _with_acknowledged(conn: Connection, account_id: int, sync_id: int, updates: list[StockUpdate],
                       result: PushResult) -> list[StockUpdate]:
    """The push's updates plus every other listing the channel acknowledged, at that number: a delivery
    that replaces the one before it must carry everything the channel should keep. The re-stated
    listings get no ledger row (their number is the one their last ledger row explains)."""
    restated = [StockUpdate(sku, quantity) for sku, quantity in conn.execute(
        query_beside(__file__, "acknowledged_not_pushed.sql"), {"a": account_id, "s": sync_id})]
    result.restated = len(restated)
    return sorted([*updates, *restated], key=lambda u: u.sku)


def _close_interrupted(conn: Connection, account_id: int) -> None:
    """A push that died between delivering and recording left 'pending' rows: its answer is lost."""
    conn.execute(query_beside(__file__, "ledger_close_interrupted.sql"), {"a": account_id})
    conn.execute(query_beside(__file__, "inventory_syncs_close_interrupted.sql"), {"a": account_id})


def _compute(warehouse: Warehouse, settings: StockSettings, sync_id: int, mode: str, skus: list[str],
             result: PushResult) -> list[StockUpdate]:
    # REPEATABLE READ: the snapshot taken by the first statement is the one every statement reads.
    with warehouse.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            # One query over every listing of the store: JIT compilation costs more than it saves here
            # (2 s of 7 at 1M listings), hashing wants memory, and both cores should work on it.
            for setting in _COMPUTE_SETTINGS:
                conn.execute(text(setting))
            conn.execute(query_beside(__file__, "ledger_compute.sql"),
                         {"store_id": settings.store_id, "account_id": settings.account_id, "mode": mode, "skus": skus})
            result.pushed = conn.execute(query_beside(__file__, "ledger_insert.sql"), {
                "sync_id": sync_id, "account_id": settings.account_id}).rowcount
            result.listings = conn.execute(text(
                "SELECT count(*) FROM core.products WHERE store_id = :s AND NOT is_placeholder"),
                {"s": settings.store_id}).scalar_one()
            if mode == "single":
                found = set(conn.execute(text("SELECT sku FROM core.stock_ledger WHERE inventory_sync_id = :s"),
                                         {"s": sync_id}).scalars())
                held = sorted(set(skus) - found)
                if held:  # listings (checked before) that the rule leaves as they are
                    raise MarketsyncError(
                        f"{', '.join(held[:5])} of {settings.store} on {settings.channel}: at or below the "
                        f"out-of-stock threshold with sync_zero_stock off, so nothing is sent (the channel "
                        f"keeps its last number); nothing was pushed")
            conn.execute(query_beside(__file__, "inventory_sync_computed.sql"),
                         {"snap": snapshot, "l": result.listings, "p": result.pushed, "s": sync_id})
            rows = conn.execute(query_beside(__file__, "ledger_pushed.sql"), {"s": sync_id})
            return [StockUpdate(sku, quantity) for sku, quantity in rows]


def _record(warehouse: Warehouse, sync_id: int, answers, result: PushResult) -> None:
    with warehouse.begin() as conn:
        conn.execute(query_beside(__file__, "stock_answers_stage.sql"))
        copy_rows(conn, "stock_answers", ("sku", "answer", "message"), ((a.sku, a.answer, a.message) for a in answers))
        conn.execute(text("ANALYZE stock_answers"))
        counts = conn.execute(query_beside(__file__, "record_answers.sql"), {"sync_id": sync_id}).one()
        conn.execute(query_beside(__file__, "acknowledge.sql"), {"sync_id": sync_id})
        tally = dict(conn.execute(query_beside(__file__, "ledger_answer_tally.sql"), {"s": sync_id}).all())
    result.acknowledged = tally.get("accepted", 0) + tally.get("delivered", 0)
    result.rejected = tally.get("rejected", 0)
    result.unanswered = counts.unanswered


def _finish(warehouse: Warehouse, settings: StockSettings, result: PushResult, started: float) -> None:
    result.seconds = round(time.perf_counter() - started, 3)
    errors = errors_of(result)
    with warehouse.begin() as conn:
        conn.execute(
            query_beside(__file__, "inventory_sync_finish.sql"),
            {"st": result.status, "p": result.pushed, "ok": result.acknowledged,
             "bad": result.rejected + (result.pushed if result.status == "failed" else 0),
             "un": result.unanswered, "errors": json.dumps(errors), "to": result.delivered_to,
             "s": result.inventory_sync_id})
        conn.execute(query_beside(__file__, "prune_changes.sql"), {"store_id": settings.store_id})
