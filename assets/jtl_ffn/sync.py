"""What the JTL fulfillment network holds for one FFN account, fetched and written to the warehouse:
products (merchantSku -> jfsku), stock per jfsku and warehouse, inbounds with their received units,
and the shipping notifications of the outbounds we created.

Each sync reads a full snapshot (paged), lands every payload in raw.jtl_ffn_payloads (a version already
landed adds nothing), then merges the normalised rows into core.fulfillment_*: only changed rows are
rewritten and rows the fulfiller no longer reports are removed. One transaction per snapshot.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, text

from marketsync.resources.http_limits import MALFORMED, malformed
from marketsync.resources.jtl_ffn import JtlFfnApi
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from marketsync.resources.sql_files import query_beside, sql_beside
from marketsync.resources.warehouse import Warehouse, copy_rows

_BATCH = 5000


@dataclass
class SnapshotResult:
    fetched: int = 0
    raw_new: int = 0
    written: int = 0
    removed: int = 0


def _stage(conn: Connection) -> None:
    conn.exec_driver_sql(sql_beside(__file__, "stage.sql"))


def _payload_row(kind: str, external_id: str, doc: dict) -> tuple:
    body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return kind, external_id, body.decode(), hashlib.sha256(body).hexdigest()


def _land(conn: Connection, account_id: int, payloads: list[tuple]) -> int:
    copy_rows(conn, "ffn_payloads", ("kind", "external_id", "payload", "payload_sha"), payloads)
    landed = conn.execute(query_beside(__file__, "land_payloads.sql"), {"account_id": account_id}).rowcount
    conn.exec_driver_sql("TRUNCATE ffn_payloads")
    return landed


def _batched(docs: Iterable[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _number(value: Any) -> Any:
    return 0 if value is None else value


def _gtin(product: dict) -> str | None:
    identifier = product.get("identifier") or {}
    if isinstance(identifier, dict):
        return identifier.get("ean") or identifier.get("gtin") or None
    return None


def sync_products(warehouse: Warehouse, api: JtlFfnApi, account_id: int) -> SnapshotResult:
    result = SnapshotResult()
    with warehouse.begin() as conn:
        _stage(conn)
        for batch in _batched(api.products()):
            result.fetched += len(batch)
            rows = product_rows(batch)
            result.raw_new += _land(conn, account_id, [_payload_row("product", row[0], p)
                                                       for row, p in zip(rows, batch, strict=True)])
            copy_rows(conn, "ffn_products", ("jfsku", "merchant_sku", "name", "gtin"), rows)
        merged = conn.execute(query_beside(__file__, "merge_products.sql"), {"account_id": account_id}).one()
    result.written, result.removed = merged.written, merged.removed
    return result


def _documents(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Rows built from documents of an answer; a document without the fields (or of other types than)
    the API documents is the client's malformed-answer error naming `what`, never a bare KeyError."""
    def decorate(build: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(build)
        def rows(*args: Any) -> Any:
            try:
                return build(*args)
            except (KeyError, TypeError, AttributeError, IndexError) as exc:
                detail = f"no `{exc.args[0]}`" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
                raise JtlFfnError(malformed(f"JTL FFN {what}", detail[:200]), MALFORMED) from None
        return rows
    return decorate


@_documents("products")
def product_rows(products: list[dict]) -> list[tuple]:
    """(jfsku, merchant_sku, name, gtin) of each Product document."""
    return [(p["jfsku"], p.get("merchantSku") or p["jfsku"], p.get("name"), _gtin(p)) for p in products]


@_documents("stocks")
def stock_rows_of(stocks: list[dict]) -> list[tuple]:
    """The stock rows of a page of Stock documents (see stock_rows)."""
    return [row for s in stocks for row in stock_rows(s)]


@_documents("inbounds")
def inbound_rows(inbounds: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """(inbound rows, inbound item rows) of a page of Inbound documents."""
    rows = [(b["inboundId"], b.get("merchantInboundNumber"), b.get("warehouseId"), b.get("status"),
             (b.get("modificationInfo") or {}).get("createdAt")) for b in inbounds]
    items = [(b["inboundId"], item["jfsku"], _number(item.get("quantity")),
              _number(item.get("quantity")) - _number(item.get("quantityOpen")))
             for b in inbounds for item in b.get("items") or [] if item.get("jfsku")]
    return rows, items


def stock_rows(stock: dict) -> list[tuple]:
    """(jfsku, warehouse, level, reserved, blocked, announced) per warehouse of one Stock document; a
    document without warehouse lines counts as one line in warehouse '' (its totals)."""
    lines = stock.get("warehouses") or []
    if not lines:
        return [(stock["jfsku"], "", _number(stock.get("stockLevel")), _number(stock.get("stockLevelReserved")),
                 _number(stock.get("stockLevelBlocked")), _number(stock.get("stockLevelAnnounced")))]
    return [(stock["jfsku"], line.get("warehouseId") or "", _number(line.get("stockLevel")),
             _number(line.get("stockLevelReserved")), _number(line.get("stockLevelBlocked")),
             _number(line.get("stockLevelAnnounced"))) for line in lines]


def sync_stock(warehouse: Warehouse, api: JtlFfnApi, account_id: int) -> SnapshotResult:
    result = SnapshotResult()
    with warehouse.begin() as conn:
        _stage(conn)
        for batch in _batched(api.stocks()):
            result.fetched += len(batch)
            rows = stock_rows_of(batch)
            result.raw_new += _land(conn, account_id, [_payload_row("stock", s["jfsku"], s) for s in batch])
            copy_rows(conn, "ffn_stock", ("jfsku", "warehouse_id", "stock_level", "reserved", "blocked", "announced"),
                      rows)
        merged = conn.execute(query_beside(__file__, "merge_stock.sql"), {"account_id": account_id}).one()
        # now() is when this transaction began, before the first page was read: a unit shipped later
        # may be missing from this count, so stock availability deducts shipments from then on.
        conn.execute(text("UPDATE ops.accounts SET stock_counted_at = now() WHERE account_id = :a"),
                     {"a": account_id})
    result.written, result.removed = merged.written, merged.removed
    return result


def sync_inbounds(warehouse: Warehouse, api: JtlFfnApi, account_id: int) -> SnapshotResult:
    result = SnapshotResult()
    with warehouse.begin() as conn:
        _stage(conn)
        for batch in _batched(api.inbounds()):
            result.fetched += len(batch)
            inbounds, items = inbound_rows(batch)
            result.raw_new += _land(conn, account_id, [_payload_row("inbound", row[0], b)
                                                       for row, b in zip(inbounds, batch, strict=True)])
            copy_rows(conn, "ffn_inbounds", ("inbound_id", "merchant_inbound_number", "warehouse_id", "status",
                                             "created_at_fulfiller"), inbounds)
            copy_rows(conn, "ffn_inbound_items", ("inbound_id", "jfsku", "quantity", "received"), items)
        merged = conn.execute(query_beside(__file__, "merge_inbounds.sql"), {"account_id": account_id}).one()
    result.written = merged.inbounds_written + merged.items_written
    return result


def shipment_row(number: str, notice: dict) -> tuple:
    """One shipping notification as core.fulfillment_shipments wants it: the first package's tracking."""
    packages = notice.get("packages") or [{}]
    package = packages[0]
    identifiers = package.get("identifier") or []
    tracking = next((i for i in identifiers if i.get("identifierType") == "TrackingId"),
                    identifiers[0] if identifiers else {})
    items = [{"jfsku": i.get("jfsku"), "quantity": i.get("quantity")} for i in notice.get("items") or []]
    shipped_at = package.get("shippingDate") or (notice.get("modificationInfo") or {}).get("createdAt")
    return (notice["outboundShippingNotificationId"], number, tracking.get("name"), tracking.get("value"),
            package.get("trackingUrl"), shipped_at, orjson.dumps(items).decode())


@_documents("shipping notifications")
def shipment_rows(notices: list[tuple[str, dict]]) -> list[tuple]:
    """The rows of (merchant outbound number, OutboundShippingNotification) pairs (see shipment_row)."""
    return [shipment_row(number, notice) for number, notice in notices]


def sync_shipments(warehouse: Warehouse, api: JtlFfnApi, account_id: int) -> SnapshotResult:
    """Shipping notifications of our open outbounds (one request per outbound not fully shipped); the
    newest notification's outboundStatus becomes the outbound's status."""
    result = SnapshotResult()
    with warehouse.begin() as conn:
        open_outbounds = conn.execute(query_beside(__file__, "open_outbounds.sql"), {"a": account_id}).all()
    notices: list[tuple[str, dict]] = []
    statuses: list[tuple[str, str]] = []
    for number, outbound_id in open_outbounds:
        received = api.shipping_notifications(outbound_id)
        notices += [(number, notice) for notice in received]
        if received:  # each notification carries the outbound's status as of its sending
            statuses.append((number, received[-1].get("outboundStatus")))
    with warehouse.begin() as conn:
        _stage(conn)
        result.fetched = len(notices)
        rows = shipment_rows(notices)
        result.raw_new = _land(conn, account_id, [_payload_row("shipping_notification", row[0], n)
                                                  for row, (_number, n) in zip(rows, notices, strict=True)])
        copy_rows(conn, "ffn_shipments", ("notification_id", "merchant_outbound_number", "carrier", "tracking_number",
                                          "tracking_url", "shipped_at", "items"), rows)
        result.written = conn.execute(query_beside(__file__, "insert_shipments.sql"),
                                      {"account_id": account_id}).rowcount
        for number, status in statuses:
            conn.execute(query_beside(__file__, "outbound_set_status.sql"),
                         {"s": status, "a": account_id, "n": number})
    return result
