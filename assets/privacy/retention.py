"""Retention: a store keeps a buyer's personal data for its retention period after the order's last
change (default 24 months, at least 30 days); after that it is removed everywhere it is held, raw
payloads included, while the order keeps what analysts and accounting need (ids, dates, amounts,
country, items). Runs in batches, each its own transaction, so a long run keeps its progress and never
holds an import up for long; each store's run is recorded with counts (ops.privacy_requests).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock

from sqlalchemy import Connection

from marketsync.assets.privacy.forget import forget_orders
from marketsync.assets.privacy.places import RETENTION_SWEEPS
from marketsync.assets.privacy.requests import add_to_request, close_request, open_request
from marketsync.assets.stores import store_id_for
from marketsync.resources.database import WarehouseAccess
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

BATCH = 5000
# Sessions cleaning side by side (MARKETSYNC_RETENTION_WORKERS): about one per core of the database server.
WORKERS = int(os.environ.get("MARKETSYNC_RETENTION_WORKERS", "2"))
UNITS = {"d": "days", "m": "months", "y": "years"}
MINIMUM = timedelta(days=30)
_PERIOD = re.compile(r"^\s*(\d+)\s*(d|days?|m|months?|y|years?)\s*$", re.IGNORECASE)


@dataclass
class RetentionRun:
    store: str
    cutoff: datetime
    orders: int = 0
    rows_changed: Counter[str] = field(default_factory=Counter)


def parse_period(text: str) -> str:
    """'540d', '18 months', '2y' -> a Postgres interval; refuses anything under 30 days."""
    match = _PERIOD.match(text)
    if not match:
        raise MarketsyncError(f"retention period {text!r}: write a number of days, months or years "
                              "(540d, 18months, 2y)")
    count, unit = int(match.group(1)), match.group(2)[0].lower()
    days = count * {"d": 1, "m": 30, "y": 365}[unit]
    if timedelta(days=days) < MINIMUM:
        raise MarketsyncError(f"retention period {text!r} is under the minimum of 30 days")
    return f"{count} {UNITS[unit]}"


def set_retention(conn: Connection, store: str, period: str) -> str:
    """Set the store's retention period; returns it as Postgres writes it."""
    return conn.execute(query_beside(__file__, "retention_set.sql"),
                        {"store_id": store_id_for(conn, store), "retention": parse_period(period)}).scalar_one()


def apply_retention(warehouse: WarehouseAccess, store: str | None = None, *, requested_by: str = "dagster",
                    as_of: datetime | None = None, batch: int = BATCH, workers: int = WORKERS) -> list[RetentionRun]:
    """Remove the expired personal data of every store (or of `store`); one run record per store."""
    with warehouse.begin() as conn:
        stores = conn.execute(query_beside(__file__, "retention_stores.sql"),
                              {"store": store, "as_of": as_of}).all()
    if store and not stores:
        raise MarketsyncError(f"no store '{store}'")
    runs = []
    for row in stores:
        run = RetentionRun(row.code, row.cutoff)
        with warehouse.begin() as conn:
            request_id = open_request(conn, row.store_id, "retention", requested_by)
        # Workers take batches side by side (each batch locks its orders; the others skip them): the
        # cleaning is the database's work, and one session keeps one core busy.
        counted = Lock()
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="retention") as pool:
            for done in [pool.submit(_expire_batches, warehouse, row.store_id, row.cutoff, batch, run, counted,
                                     request_id)
                         for _ in range(max(1, workers))]:
                done.result()
        with warehouse.begin() as conn:
            swept: Counter[str] = Counter()
            for place in RETENTION_SWEEPS:
                swept[place.table] += conn.execute(query_beside(__file__, place.sql),
                                                   {"store_id": row.store_id, "cutoff": row.cutoff}).rowcount
            close_request(conn, request_id, 0, swept)
        run.rows_changed.update(swept)
        runs.append(run)
    return runs


def _expire_batches(warehouse: WarehouseAccess, store_id: int, cutoff: datetime, batch: int, run: RetentionRun,
                    counted: Lock, request_id: int) -> None:
    """Forget batches of the store's expired orders, a transaction each (counted in the run's record in
    the same transaction), until none is left."""
    while True:
        with warehouse.begin() as conn:
            due = conn.execute(query_beside(__file__, "retention_due.sql"),
                               {"store_id": store_id, "cutoff": cutoff, "batch": batch}).scalars().all()
            if not due:
                return
            changed = forget_orders(conn, list(due), "retention")
            add_to_request(conn, request_id, len(due), changed)
        with counted:
            run.orders += len(due)
            run.rows_changed.update(changed)


def retention_overview(conn: Connection, store: str | None = None) -> list[dict]:
    """Per store: its retention period, the orders due now, and those already expired or erased."""
    return [dict(row._mapping) for row in conn.execute(query_beside(__file__, "retention_show.sql"),
                                                       {"store": store})]
