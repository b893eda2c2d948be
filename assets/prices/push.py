"""A price push to one store channel: compute, ledger, deliver, record the answers (the stock push's shape).

1. One push per store channel at a time (an advisory lock); a push interrupted earlier is closed first.
2. In one REPEATABLE READ snapshot: the target price by the store channel's rule (rules.target_price,
   the one place the number is made) of every listing whose inputs (its base price, where that came
   from, its currency, the rule's terms) differ from those of the price the channel acknowledged (all of
   them in a full push: the others' target is their acknowledged price), and a ledger row, with every
   term, for each listing to push: those whose target differs from what the channel last acknowledged.
   A listing with no price at all, or priced in another currency than the rule's, is not
   pushed (`prices explain` says why).
3. Hand the absolute prices to the channel's adapter, with one idempotency key per push. An adapter whose
   delivery replaces the one before it (a file under a fixed name) gets every listing the channel holds:
   the changed ones at their new price, the others at the price the channel acknowledged.
4. Record its answer per listing; accepted or delivered prices become what the channel acknowledged.
   Rejected and unanswered listings keep their old acknowledged price, so the next delta push sends them
   again, and only them (plus whatever changed since).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from marketsync.assets.channel_push import PushSteps, errors_of, run_push
from marketsync.assets.prices.channels import PriceAnswer, PriceChannel, PriceUpdate, build_adapter
from marketsync.assets.prices.listing import terms_of
from marketsync.assets.prices.rules import PriceTerms
from marketsync.assets.prices.settings import PriceSettings, load_settings
from marketsync.assets.sync_log import SyncLog
from marketsync.resources.advisory_lock import try_session_lock
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse, copy_rows

log = logging.getLogger(__name__)

MODES = ("incremental", "full")
_LOCK_CLASS = 0x9121  # advisory lock namespace of price pushes: (class, account_id)
# Two queries over every listing of the store: JIT compilation costs more than it saves here, and the
# hash joins want memory (as for the stock push's compute).
_COMPUTE_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
LEDGER_COLUMNS = ("price_sync_id", "account_id", "product_id", "sku", "currency", "base_price", "base_source",
                  "markup_percent", "fixed_add", "marked_up", "rounding", "rounded", "ceiling_price", "floor_price",
                  "clamped_by", "final_price", "previous_acknowledged")


@dataclass
class PricePushResult:
    price_sync_id: int
    store: str
    channel: str
    mode: str
    status: str
    listings: int = 0
    pushed: int = 0
    acknowledged: int = 0
    rejected: int = 0
    unanswered: int = 0
    no_price: int = 0  # listings with neither a store nor a catalog price: not pushed
    other_currency: int = 0  # listings priced in another currency than the rule's: not pushed
    restated: int = 0  # listings re-stated at their acknowledged price in a delivery replacing the last
    error: str | None = None
    retryable: bool = False
    delivered_to: str | None = None
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)  # compute (incl. ledger), deliver, record: seconds

    def as_dict(self) -> dict:
        return asdict(self)


AdapterFactory = Callable[..., PriceChannel]  # (conn, settings, vault, clients) -> the channel's adapter


def push_prices(warehouse: Warehouse, vault: CredentialVault, store: str, channel: str, *,
                mode: str = "incremental", triggered_by: str = "cli", run_id: str | None = None,
                adapter_factory: AdapterFactory = build_adapter, clients: dict | None = None) -> PricePushResult:
    """Push one store channel's prices; see the module docstring. Raises MarketsyncError only for what a
    person must fix (no rule, pushes off, another push running, a bad mode); a failed delivery is recorded
    and returned (status 'failed')."""
    if mode not in MODES:
        raise MarketsyncError(f"price push mode must be one of {', '.join(MODES)}, not '{mode}'")
    started = time.perf_counter()
    with warehouse.begin() as conn:
        settings = load_settings(conn, store, channel)
    if not settings.enabled:
        raise MarketsyncError(f"price pushes to {channel} are off for {store}")
    with try_session_lock(warehouse.engine, _LOCK_CLASS, settings.account_id) as taken:
        if not taken:
            raise MarketsyncError(f"a price push for {settings.partition_key} is already running; try again when "
                                  f"it has finished")
        return _push_locked(warehouse, settings, mode, triggered_by, run_id,
                            lambda conn: adapter_factory(conn, settings, vault, clients), started)


def _push_locked(warehouse: Warehouse, settings: PriceSettings, mode: str, triggered_by: str, run_id: str | None,
                 make_adapter: Callable[[Connection], PriceChannel], started: float) -> PricePushResult:
    engine = warehouse.engine
    with engine.begin() as conn:
        conn.execute(query_beside(__file__, "close_interrupted.sql"), {"a": settings.account_id})
        sync_id = conn.execute(query_beside(__file__, "sync_start.sql"), {
            "a": settings.account_id, "m": mode, "t": triggered_by, "r": run_id}).scalar_one()
    result = PricePushResult(sync_id, settings.store, settings.channel, mode, status="running")
    steps = PushSteps(
        compute=lambda: _compute(warehouse, settings, sync_id, mode, result),
        adapter=make_adapter,
        restate=lambda conn, updates: _with_acknowledged(conn, settings.account_id, sync_id, updates, result),
        record=lambda answers: _record(warehouse, sync_id, answers, result, settings.rule.terms_key),
        fail_pending=lambda conn, error: conn.execute(query_beside(__file__, "ledger_fail_pending.sql"),
                                                      {"e": error, "s": sync_id}),
        finish=lambda: _finish(warehouse, result, started))
    with SyncLog(engine, f"price_push_{mode}", "outbound", account_id=settings.account_id,
                 triggered_by=triggered_by, run_id=run_id) as sync_log:
        run_push(engine, result, steps, sync_log, f"marketsync-prices-{settings.account_id}-{sync_id}", sync_id)
    log.info("price push %s.%s #%s: %s, %s of %s listings pushed, %s acknowledged, %s rejected, %s unanswered",
             settings.store, settings.channel, sync_id, result.status, result.pushed, result.listings,
             result.acknowledged, result.rejected, result.unanswered)
    return result


def _compute(warehouse: Warehouse, settings: PriceSettings, sync_id: int, mode: str,
             result: PricePushResult) -> list[PriceUpdate]:
    """Every listing's target in one snapshot; ledger rows (COPY) for those to push; their updates."""
    currency = settings.rule.currency
    ledger: list[tuple] = []
    updates: list[PriceUpdate] = []
    # The rule is one for the whole push, so listings with the same inputs have the same terms: computed
    # once per distinct input (a catalog repeats its prices; a million listings hold far fewer prices).
    known: dict[tuple, PriceTerms | None] = {}
    # REPEATABLE READ: the prices and the acknowledged prices are read from one snapshot.
    with warehouse.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            for setting in _COMPUTE_SETTINGS:
                conn.execute(text(setting))
            scope = {"a": settings.account_id, "s": settings.store_id, "catalog": settings.listings == "catalog"}
            result.listings = conn.execute(query_beside(__file__, "listing_count.sql"), scope).scalar_one()
            # Only the listings whose inputs changed since their acknowledged price (all of them, full).
            result_rows = conn.execute(query_beside(__file__, "listings.sql"), {
                **scope, "sku": None, "everything": mode == "full", "rule": settings.rule.terms_key,
                "currency": currency})
            # Read in batches (fetchmany): a fetch per row would cost more than the rule itself.
            rows = (row for batch in result_rows.partitions(20_000) for row in batch)
            for product_id, sku, store_price, store_currency, catalog_price, catalog_currency, acknowledged, \
                    acknowledged_currency in rows:
                key = (store_price, store_currency, catalog_price, catalog_currency)
                terms = known.get(key, _MISSING)
                if terms is _MISSING:
                    terms = known[key] = terms_of(store_price, store_currency, catalog_price, catalog_currency,
                                                  settings)
                if terms is None:
                    result.no_price += 1
                    continue
                if terms.currency != currency:
                    result.other_currency += 1
                    continue
                if mode == "incremental" and acknowledged == terms.final_price and \
                        acknowledged_currency == terms.currency:
                    continue
                ledger.append((sync_id, settings.account_id, product_id, sku, terms.currency,
                               terms.base_price, terms.base_source, terms.markup_percent, terms.fixed_add,
                               terms.marked_up, terms.rounding, terms.rounded, terms.ceiling_price, terms.floor_price,
                               terms.clamped_by, terms.final_price, acknowledged))
                updates.append(PriceUpdate(sku, terms.final_price, terms.currency))
            result.pushed = copy_rows(conn, "core.price_ledger", LEDGER_COLUMNS, ledger)
    updates.sort(key=lambda u: u.sku)
    return updates


_MISSING: Any = object()


def _with_acknowledged(conn: Connection, account_id: int, sync_id: int, updates: list[PriceUpdate],
                       result: PricePushResult) -> list[PriceUpdate]:
    """The push's updates plus every other listing the channel acknowledged, at that price: a delivery
    that replaces the one before it must carry everything the channel should keep. The re-stated listings
    get no ledger row (their price is the one their last ledger row explains)."""
    restated = [PriceUpdate(sku, price, currency.strip()) for sku, price, currency in conn.execute(
        query_beside(__file__, "acknowledged_not_pushed.sql"), {"a": account_id, "s": sync_id})]
    result.restated = len(restated)
    return sorted([*updates, *restated], key=lambda u: u.sku)


def _record(warehouse: Warehouse, sync_id: int, answers: list[PriceAnswer], result: PricePushResult,
            rule_terms: str) -> None:
    with warehouse.begin() as conn:
        conn.execute(query_beside(__file__, "answers_stage.sql"))
        copy_rows(conn, "price_answers", ("sku", "answer", "message"), ((a.sku, a.answer, a.message) for a in answers))
        conn.execute(text("ANALYZE price_answers"))
        counts = conn.execute(query_beside(__file__, "record_answers.sql"), {"s": sync_id}).one()
        conn.execute(query_beside(__file__, "acknowledge.sql"), {"s": sync_id, "rule": rule_terms})
        tally = dict(conn.execute(query_beside(__file__, "answer_tally.sql"), {"s": sync_id}).tuples().all())
    result.acknowledged = tally.get("accepted", 0) + tally.get("delivered", 0)
    result.rejected = tally.get("rejected", 0)
    result.unanswered = counts.unanswered


def _finish(warehouse: Warehouse, result: PricePushResult, started: float) -> None:
    result.seconds = round(time.perf_counter() - started, 3)
    errors = errors_of(result)
    with warehouse.begin() as conn:
        conn.execute(query_beside(__file__, "sync_finish.sql"), {
            "st": result.status, "l": result.listings, "p": result.pushed, "ok": result.acknowledged,
            "bad": result.rejected + (result.pushed if result.status == "failed" else 0), "un": result.unanswered,
            "errors": json.dumps(errors), "to": result.delivered_to, "s": result.price_sync_id})
