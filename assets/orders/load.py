"""Merging a page of normalised orders, from any channel, into the canonical model.

A channel's importer fetches, lands its payloads raw and normalises them into rows with the columns
below; `merge_page` upserts them (orders, addresses, items) keyed by the channel's ids, in the caller's
transaction, so re-running or overlapping imports never duplicate an order or an item. What the
channel's state means comes from core.order_status_map.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.accounts import Account
from marketsync.resources.errors import first_line
from marketsync.resources.session_context import set_cause
from marketsync.resources.sql_files import query_beside, sql_beside
from marketsync.resources.warehouse import copy_rows

ORDER_COLUMNS = (
    "channel_order_id", "channel_shipment_id", "order_number", "shipment_number", "customer_email",
    "customer_name", "customer_locale", "total", "currency", "channel_state", "ordered_at",
    "tracking_number", "tracking_carrier", "source_payload_sha",
)
ADDRESS_COLUMNS = (
    "channel_shipment_id", "kind", "first_name", "last_name", "company", "street_name", "street_number",
    "zip_code", "city", "country_iso", "country_name", "phone",
)
ITEM_COLUMNS = (
    "channel_shipment_id", "channel_item_id", "channel_variant_id", "sku", "mpn", "barcode", "barcode_type",
    "gtin14", "title", "brand", "unit_price", "channel_state", "quantity",
)


@dataclass
class NormalisedPage:
    """Rows in the column orders above; `rejected` holds (payload, reason) for quarantine."""
    orders: list[tuple] = field(default_factory=list)
    addresses: list[tuple] = field(default_factory=list)
    items: list[tuple] = field(default_factory=list)
    rejected: list[tuple[dict, str]] = field(default_factory=list)


class MalformedOrder(ValueError):
    """An order payload that cannot become a canonical order; quarantined with this reason."""


def normalise_all(payloads: list[tuple[dict, str]], currency: str,
                  normalise_one: Callable[[dict, str, str, NormalisedPage], None]) -> NormalisedPage:
    """Rows for a batch of (payload, payload_sha); a malformed payload goes to `rejected` with its reason
    and adds no row (each channel's `normalise_one` appends only once the whole order is understood)."""
    page = NormalisedPage()
    for payload, sha in payloads:
        # What the page held before this order: a failure half-way through it takes back what it added.
        sizes = len(page.orders), len(page.addresses), len(page.items)
        try:
            normalise_one(payload, sha, currency, page)
        except MalformedOrder as exc:
            reason = str(exc)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            # A field of another JSON type than the channel documents (an object where a text belongs, a
            # list for an address): the order is quarantined saying where, not the whole import failed.
            reason = (f"the order does not have the shape the channel documents "
                      f"({type(exc).__name__}: {first_line(exc, 200)})")
        else:
            continue
        del page.orders[sizes[0]:], page.addresses[sizes[1]:], page.items[sizes[2]:]
        page.rejected.append((payload, reason))
    return page


# Order totals and unit prices are numeric(14, 2): what a channel answers beyond it is no real amount.
MONEY_LIMIT = Decimal(10) ** 12


def order_money(value: Any) -> Decimal | None:
    """An amount of a channel's order answer as a Decimal read from its text (19.9 stays 19.9), None when
    absent; MalformedOrder when it is no finite number, or beyond what the warehouse's columns hold (which
    would fail the whole page's COPY, or the arithmetic on it, such as a line's cost over its quantity)."""
    if value is None:
        return None
    shown = repr(value)[:60]
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise MalformedOrder(f"amount {shown} is not a number")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError):  # (ValueError: an int too long to turn into text)
        raise MalformedOrder(f"amount {shown} is not a number") from None
    if not amount.is_finite() or amount.copy_abs() >= MONEY_LIMIT:
        raise MalformedOrder(f"amount {shown} is out of range")
    return amount


def answer_time(stamp: Any) -> datetime | None:
    """An ISO 8601 time of a channel's answer ("2026-01-01T10:00:00Z") as an aware datetime (UTC when it
    gives no offset); None when absent or not such a time, so one order's broken stamp never stops an
    import (its cursor moves on the others' stamps)."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """(first, last) of a name written as one string: the last word is the last name."""
    first, _, last = (full or "").strip().rpartition(" ")
    return (first or None, last or None) if first else (None, last or None)


@dataclass
class MergeCounts:
    orders_created: int = 0
    orders_updated: int = 0
    items_written: int = 0


def stage(conn: Connection) -> None:
    """The page's staging tables (and stage_raw for the raw payloads), once per connection."""
    conn.exec_driver_sql(sql_beside(__file__, "stage.sql"))


def land_raw_versions(conn: Connection, versions: Iterable[tuple[int, str, str, str]],
                      run_id: str | None = None) -> int:
    """Land order payloads as received in raw.channel_orders: (account_id, order id, JSON text, its hash)
    each; a version already landed is not stored twice. Returns how many versions are new."""
    stage(conn)
    copy_rows(conn, "stage_raw", ("account_id", "shipment_id", "payload", "payload_sha"), versions)
    landed = conn.execute(query_beside(__file__, "land_channel_orders.sql"), {"run_id": run_id}).rowcount
    conn.exec_driver_sql("DELETE FROM stage_raw")  # as merge_pages: the next landing sees only its own
    return landed


def known_versions(conn: Connection, account_id: int, shipment_ids: list[str]) -> dict[str, str]:
    """channel_shipment_id -> the payload hash the canonical order was last written from."""
    return dict(conn.execute(query_beside(__file__, "known_versions.sql"),
                             {"a": account_id, "ids": shipment_ids}).tuples().all())


def merge_page(conn: Connection, account: Account, page: NormalisedPage, run_id: str | None = None,
               cause: str | None = None) -> MergeCounts:
    """Upsert the page's orders, addresses and items. `cause` is what the orders' status history says
    changed them (default: the import of the channel's orders, in run `run_id`)."""
    return merge_pages(conn, [(account.account_id, page)],
                       cause or f"import of {account.channel} orders" + (f" (run {run_id[:8]})" if run_id else ""))


def merge_pages(conn: Connection, pages: list[tuple[int, NormalisedPage]], cause: str) -> MergeCounts:
    """Upsert the pages of several accounts, (account_id, page) each, in one pass: the same statements
    whatever the number of accounts, so a transaction that gathers many accounts' orders (the storefront's
    intake) pays for them once."""
    counts = MergeCounts()
    if not any(page.orders for _, page in pages):
        return counts
    stage(conn)
    copy_rows(conn, "stage_orders", ("account_id", *ORDER_COLUMNS),
              ((a, *row) for a, page in pages for row in page.orders))
    copy_rows(conn, "stage_addresses", ("account_id", *ADDRESS_COLUMNS),
              ((a, *row) for a, page in pages for row in page.addresses))
    copy_rows(conn, "stage_items", ("account_id", *ITEM_COLUMNS),
              ((a, *row) for a, page in pages for row in page.items))
    set_cause(conn, cause)  # what each order's status history says caused its change
    inserted = conn.execute(query_beside(__file__, "merge_orders.sql")).scalars().all()
    counts.orders_created = sum(inserted)
    counts.orders_updated = len(inserted) - counts.orders_created
    conn.execute(query_beside(__file__, "merge_addresses.sql"))
    counts.items_written = len(conn.execute(query_beside(__file__, "merge_items.sql")).all())
    # Emptied now rather than at the commit: a transaction may merge several times (the storefront's
    # intake does), and the next merge must not see these rows again.
    conn.exec_driver_sql("DELETE FROM stage_orders; DELETE FROM stage_addresses; DELETE FROM stage_items")
    return counts
