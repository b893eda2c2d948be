"""An incremental order import for channels that list orders by their last-modified time (Amazon,
eBay): fetch -> land raw -> normalise -> merge, a page per transaction, resuming from a cursor.

An import reads one window of last-modified times: from the cursor (ops.order_cursors) minus an
overlap (channels publish changes late and clocks differ; Amazon's API wants at least 10 minutes) up
to `until`, the moment the import started. Pages still commit one by one (progress is kept, memory
stays flat), but the cursor moves to `until` only once every page of the window has committed: the
channels do not list orders by last-modified time (eBay pages by creation date), so the newest time of
a committed page says nothing about the pages not read yet. An import that fails midway leaves the
cursor where it was and the next one reads the whole window again; what it re-reads is recognised by
its payload hash and costs no write. The cursor only moves forward.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, text

from marketsync.assets.accounts import Account, get_account
from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.orders.load import NormalisedPage, known_versions, land_raw_versions, merge_page
from marketsync.assets.sync_log import SyncLog
from marketsync.resources.scrubbing import process_scrubber
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

OVERLAP = timedelta(minutes=15)
FIRST_IMPORT_DAYS = 30  # how far back an account's first import reaches (setting first_import_days)
PAGE = 200


@dataclass
class OrderImport:
    orders_seen: int = 0
    orders_changed: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    items_written: int = 0
    raw_versions_landed: int = 0
    quarantined: int = 0
    since: datetime | None = None  # the window read: [since, until]
    until: datetime | None = None
    cursor: datetime | None = None  # the cursor after the import (moved to `until` once the window was read)
    newest_seen: datetime | None = None  # the newest last-modified time read (information only)
    items_matched: int = 0
    errors: list[str] = field(default_factory=list)

    def metadata(self) -> dict:
        """What an orders asset's materialisation shows."""
        return {"orders_seen": self.orders_seen, "orders_changed": self.orders_changed,
                "orders_created": self.orders_created, "orders_updated": self.orders_updated,
                "items_written": self.items_written, "items_matched": self.items_matched,
                "quarantined": self.quarantined, "since": str(self.since), "until": str(self.until),
                "cursor": str(self.cursor)}


@dataclass(frozen=True)
class ChannelOrders:
    """What the shared import needs to know of a channel."""
    channel: str  # ops.accounts.channel
    source: str  # quarantine source name, e.g. "ebay.orders"
    fetch: Callable[[Any, datetime], Iterable[dict]]  # (API session, modified since) -> orders
    order_id: Callable[[dict], str | None]
    modified_at: Callable[[dict], datetime | None]
    normalise: Callable[[list[tuple[dict, str]], str], NormalisedPage]


def _canonical_json(payload: dict) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def _pages(orders: Iterable[dict], size: int) -> Iterator[list[dict]]:
    page: list[dict] = []
    for order in orders:
        page.append(order)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def read_cursor(conn: Connection, account_id: int) -> datetime | None:
    return conn.execute(text("SELECT last_modified_at FROM ops.order_cursors WHERE account_id = :a"),
                        {"a": account_id}).scalar()


def import_and_match(warehouse: Warehouse, store: str, channel: ChannelOrders,
                     open_session: Callable[[Account], AbstractContextManager], run_id: str | None = None,
                     ) -> OrderImport:
    """Import one store's orders of `channel` through a session of its API, then match their items to
    the store's catalog (SKU and GTIN rules of assets/catalog/matching)."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, channel.channel)
    with SyncLog(warehouse.engine, "import_orders", "inbound", account_id=account.account_id,
                 triggered_by="dagster" if run_id else "cli", run_id=run_id) as sync:
        with open_session(account) as api:
            result = import_orders(warehouse, account, channel, lambda since: channel.fetch(api, since),
                                   run_id=run_id)
        sync.add(processed=result.orders_seen, succeeded=result.orders_seen - result.quarantined,
                 failed=result.quarantined)
    with warehouse.begin() as conn:
        matched = match_order_items(conn, account.store_id)
    result.items_matched = matched.matched_by_gtin + matched.matched_by_sku
    return result


def import_orders(warehouse: Warehouse, account: Account, channel: ChannelOrders,
                  fetch: Callable[[datetime], Iterable[dict]], *, run_id: str | None = None,
                  now: datetime | None = None, page_size: int = PAGE) -> OrderImport:
    """Import the account's orders modified since its cursor (minus the overlap), a page per
    transaction; the cursor moves to the import's start (`now`) only after the last page committed."""
    until = now or datetime.now(UTC)
    with warehouse.begin() as conn:
        cursor = read_cursor(conn, account.account_id)
    first = timedelta(days=float(account.setting("first_import_days") or FIRST_IMPORT_DAYS))
    result = OrderImport(since=(cursor - OVERLAP) if cursor else until - first, until=until, cursor=cursor)
    currency = account.setting("currency") or "EUR"
    for page in _pages(fetch(result.since), page_size):
        with warehouse.begin() as conn:
            newest = _load_page(conn, account, channel, page, currency, run_id, result)
        if newest and (result.newest_seen is None or newest > result.newest_seen):
            result.newest_seen = newest
    # Every page of the window committed: nothing modified before `until` is left unread (what changes
    # from now on falls in the next window, which starts an overlap before `until`).
    with warehouse.begin() as conn:
        result.cursor = conn.execute(query_beside(__file__, "advance_order_cursor.sql"),
                                     {"a": account.account_id, "t": until}).scalar_one()
    return result


def _load_page(conn: Connection, account: Account, channel: ChannelOrders, orders: list[dict], currency: str,
               run_id: str | None, result: OrderImport) -> datetime | None:
    result.orders_seen += len(orders)
    versions = []
    for order in orders:
        document = _canonical_json(order)
        versions.append((order, document.decode(), hashlib.sha256(document).hexdigest()))
    result.raw_versions_landed += land_raw_versions(
        conn, ((account.account_id, channel.order_id(o) or "", doc, sha) for o, doc, sha in versions), run_id)
    known = known_versions(conn, account.account_id,
                           [channel.order_id(o) for o, _, _ in versions if channel.order_id(o)])
    changed = [(o, sha) for o, _, sha in versions if known.get(channel.order_id(o)) != sha]
    result.orders_changed += len(changed)
    page = channel.normalise(changed, currency)
    if page.rejected:
        result.quarantined += len(page.rejected)
        scrub = process_scrubber().scrub  # an answer may quote what it should not
        conn.execute(query_beside(__file__, "quarantine_insert.sql"),
                     [{"source": channel.source, "a": account.account_id, "ref": str(channel.order_id(p)),
                       "raw": scrub(_canonical_json(p).decode()), "reason": scrub(reason), "run": run_id}
                      for p, reason in page.rejected])
        result.errors.extend(f"order {channel.order_id(p)}: {reason}" for p, reason in page.rejected)
    merged = merge_page(conn, account, page, run_id)
    result.orders_created += merged.orders_created
    result.orders_updated += merged.orders_updated
    result.items_written += merged.items_written
    stamps = [t for t in (channel.modified_at(o) for o in orders) if t]
    return max(stamps) if stamps else None
