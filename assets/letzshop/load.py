"""Fetch -> land raw -> normalise -> merge, one page of Letzshop shipments at a time.

Each page is one transaction, so memory stays flat however many shipments there are, and an
interrupted import keeps what it committed. Every write is an upsert keyed by the channel's ids, so
re-running an import, or two imports overlapping, never duplicates a shipment or a unit.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import orjson
from sqlalchemy import Connection, Engine

from marketsync.assets.accounts import Account
from marketsync.assets.letzshop.normalise import normalise
from marketsync.assets.orders.load import known_versions, merge_page, stage
from marketsync.resources.prefetch import prefetched
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import copy_rows


@dataclass
class ImportSummary:
    shipments_seen: int = 0
    shipments_changed: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    units_seen: int = 0
    units_written: int = 0
    raw_versions_landed: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: ImportSummary) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
            else:
                getattr(self, name).extend(value)


def canonical_json(payload: dict) -> bytes:
    """Sorted keys, no whitespace: the same content always hashes the same."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def load_page(conn: Connection, account: Account, shipments: list[dict], run_id: str | None) -> ImportSummary:
    """Land and merge one page of shipments inside the caller's transaction."""
    summary = ImportSummary(shipments_seen=len(shipments))
    summary.units_seen = sum(len(s.get("inventoryUnits") or []) for s in shipments)
    documents = [(s, canonical_json(s)) for s in shipments]
    versions = [(s, doc.decode(), hashlib.sha256(doc).hexdigest()) for s, doc in documents]

    stage(conn)
    copy_rows(conn, "stage_raw", ("shipment_id", "payload", "payload_sha"),
          ((s.get("id") or "", doc, sha) for s, doc, sha in versions))
    summary.raw_versions_landed = conn.execute(
        query_beside(__file__, "land_raw.sql"), {"account_id": account.account_id, "run_id": run_id}).rowcount

    # Normalise only what changed since the last import: most shipments of a re-sync are unchanged.
    ids = [s.get("id") for s, _, _ in versions if s.get("id")]
    known = known_versions(conn, account.account_id, ids)
    changed = [(s, sha) for s, _, sha in versions if known.get(s.get("id")) != sha]
    summary.shipments_changed = len(changed)
    batch = normalise(changed, account.setting("currency") or "EUR")

    if batch.rejected:
        summary.quarantined = len(batch.rejected)
        conn.execute(
            query_beside(__file__, "quarantine_shipments.sql"),
            [{"a": account.account_id, "ref": str(p.get("id")), "raw": canonical_json(p).decode(), "reason": reason,
              "run": run_id} for p, reason in batch.rejected])
        summary.errors.extend(f"shipment {p.get('id')}: {reason}" for p, reason in batch.rejected)
    if not batch.orders:
        return summary

    merged = merge_page(conn, account, batch, run_id)
    summary.orders_created, summary.orders_updated = merged.orders_created, merged.orders_updated
    summary.units_written = merged.items_written
    return summary


def import_shipments(engine: Engine, account: Account, api, states: Iterable[str], run_id: str | None = None,
                     page_size: int | None = None,
                     on_page: Callable[[ImportSummary], None] | None = None) -> ImportSummary:
    """Import every shipment of `account` in each of `states`, committing page by page; `on_page` is
    told what each committed page did (the sync log counts progress with it)."""
    total = ImportSummary()
    size = int(page_size or account.setting("page_size") or 100)

    def pages() -> Iterator[list[dict]]:
        for state in states:
            yield from api.shipment_pages(state, size)

    for page in prefetched(pages()):
        with engine.begin() as conn:
            loaded = load_page(conn, account, page, run_id)
        total.add(loaded)
        if on_page is not None:
            on_page(loaded)
    return total
