"""The push inbox (ops.feed_inbox): every accepted delivery, and the job that applies the batches.

Each delivery a feed accepts is one inbox row keyed by (feed, event id), which is what makes a re-sent
delivery a no-op: a single item (PUT) is applied in the request and recorded as `applied`; a batch is
recorded `pending`, acknowledged at once, and applied later by `apply_inbox_job`, which the
`feed_inbox_sensor` launches. Applying a batch upserts its items through CatalogWriter and marks the
row `applied`, or `failed` with the reason when its items cannot be applied; a row is applied at most
once, and applying the same items again would change nothing anyway.

No `from __future__ import annotations` here: Dagster reads the op's annotations at definition time.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dagster import Config, OpExecutionContext, job, op
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DataError, IntegrityError

from marketsync.assets.feeds.push_items import ApplyResult, FeedDefaults, ItemsInvalid, apply_items, parse_items
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

log = logging.getLogger("marketsync.push_intake")

# What an error message stored in ops.feed_inbox.error may hold at most.
_MAX_ERROR = 2000


@dataclass(frozen=True)
class InboxEntry:
    """An inbox row as a delivery sees it: `created` is False when the event id was already there."""

    inbox_id: int
    created: bool
    items: list[Any]
    received_at: datetime
    status: str


def record_delivery(conn: Connection, source_id: int, event_id: str, raw_items: list[Any], received_at: datetime,
                    *, applied: bool) -> InboxEntry:
    """Record a delivery under its event id, or return the row an earlier delivery with that id made.

    A concurrent delivery of the same event waits here for the first one's transaction, then finds
    its row: one write, however many copies arrive.
    """
    status = "applied" if applied else "pending"
    inbox_id = conn.execute(
        query_beside(__file__, "inbox_insert.sql"),
        {"s": source_id, "e": event_id, "items": json.dumps(raw_items), "r": received_at, "status": status,
         "applied": applied}).scalar()
    if inbox_id is not None:
        return InboxEntry(inbox_id, True, raw_items, received_at, status)
    row = conn.execute(text(
        "SELECT inbox_id, items, received_at, status FROM ops.feed_inbox WHERE source_id = :s AND event_id = :e"),
        {"s": source_id, "e": event_id}).one()
    return InboxEntry(row.inbox_id, False, row.items, row.received_at, row.status)


def same_items(stored: list[Any], received: list[Any]) -> bool:
    """Whether a re-sent delivery carries what the first one did (key order and number spelling aside)."""
    return json.dumps(stored, sort_keys=True) == json.dumps(received, sort_keys=True)


@dataclass
class InboxSummary:
    """What one pass over the inbox did."""

    applied: int = 0
    failed: int = 0
    skipped: int = 0
    items_applied: int = 0
    items_stale: int = 0


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ItemsInvalid):
        return str(exc)[:_MAX_ERROR]
    # The database's own message (first line), never the statement's parameters.
    origin = getattr(exc, "orig", None) or exc
    first_line = (str(origin).strip().splitlines() or [""])[0]
    return f"{type(origin).__name__}: {first_line}"[:_MAX_ERROR]


def apply_batch(engine: Engine, inbox_id: int) -> ApplyResult | None:
    """Apply one pending batch in its own transaction; None when it was not pending (already applied,
    failed, or being applied by another run right now)."""
    try:
        with engine.begin() as conn:
            row = conn.execute(query_beside(__file__, "inbox_claim.sql"), {"i": inbox_id}).first()
            if row is None or row.status != "pending":
                return None
            defaults = FeedDefaults.from_settings(row.settings)
            # Items were validated on arrival; a missing updatedAt takes the time we received them.
            items = parse_items(row.items, row.received_at, defaults)
            result = apply_items(conn, row.source_id, items, defaults)
            conn.execute(text(
                "UPDATE ops.feed_inbox SET status = 'applied', applied_at = now(), error = NULL WHERE inbox_id = :i"),
                {"i": inbox_id})
            return result
    except (ItemsInvalid, DataError, IntegrityError) as exc:
        # The batch itself is at fault: retrying cannot help, so it is marked failed and the rest goes on.
        # Anything else (a lost connection...) leaves it pending for the next run.
        with engine.begin() as conn:
            conn.execute(query_beside(__file__, "inbox_failed.sql"), {"i": inbox_id, "e": _error_text(exc)})
        log.warning("feed inbox batch %s failed: %s", inbox_id, _error_text(exc))
        return None


def apply_pending_batches(engine: Engine, up_to_inbox_id: int | None = None, store: str | None = None) -> InboxSummary:
    """Apply every pending batch (up to `up_to_inbox_id`, of `store`'s feeds, when given), oldest first."""
    with engine.begin() as conn:
        pending = conn.execute(query_beside(__file__, "pending_batches.sql"),
                               {"upto": up_to_inbox_id, "store": store}).scalars().all()
    summary = InboxSummary()
    for inbox_id in pending:
        result = apply_batch(engine, inbox_id)
        if result is not None:
            summary.applied += 1
            summary.items_applied += result.applied
            summary.items_stale += result.stale
            continue
        status = _status(engine, inbox_id)
        if status == "failed":
            summary.failed += 1
        else:
            summary.skipped += 1
    return summary


def _status(engine: Engine, inbox_id: int) -> str | None:
    with engine.begin() as conn:
        return conn.execute(text("SELECT status FROM ops.feed_inbox WHERE inbox_id = :i"), {"i": inbox_id}).scalar()


# ----------------------------------------------------------------------------------------- Dagster
class ApplyInboxConfig(Config):
    """up_to_inbox_id: apply pending batches with an id up to this one (0: every pending batch)."""

    up_to_inbox_id: int = 0


@op(description="Apply pushed feed batches waiting in ops.feed_inbox to the canonical catalog.")
def apply_feed_inbox(context: OpExecutionContext, config: ApplyInboxConfig, warehouse: Warehouse) -> None:
    summary = apply_pending_batches(warehouse.engine, config.up_to_inbox_id or None)
    context.log.info(
        f"feed inbox: {summary.applied} batches applied ({summary.items_applied} items, {summary.items_stale} stale), "
        f"{summary.failed} failed, {summary.skipped} already handled elsewhere")


@job(description="Apply the pending batches of pushed supplier feeds (ops.feed_inbox) to the catalog.")
def apply_inbox_job():
    apply_feed_inbox()
