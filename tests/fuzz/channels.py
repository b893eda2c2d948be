"""The channels' answer parsers, fuzzed one channel per harness (fuzz_letzshop.py, fuzz_amazon.py, ...):
the pure functions that turn an API answer (JSON) into our rows, fed JSON text whose seeds are the
simulators' own answers (tests/fuzz/seeds.py writes them).

Contract: a malformed answer is refused in words (the client's malformed-answer error, a quarantined
order or product with its reason, a MarketsyncError), never a bare KeyError, TypeError, AttributeError
or the like. Inputs that are not JSON at all are skipped: the clients decode JSON before any of this.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from marketsync.assets.amazon import normalise as amazon_normalise
from marketsync.assets.codeswholesale.normalise import RefusedProduct, normalise_product
from marketsync.assets.ebay import normalise as ebay_normalise
from marketsync.assets.inbound_sheet.check import Received, cell_updates, check_rows, locate_columns
from marketsync.assets.jtl_ffn import sync as jtl_sync
from marketsync.assets.letzshop import normalise as letzshop_normalise
from marketsync.assets.orders.load import NormalisedPage
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_client import HttpCallError
from marketsync.resources.letzshop.client import _shipments_page
from tests.fuzz.common import NOT_JSON, json_input

SHA = "0" * 64


def _orders_page(page: NormalisedPage, given: int) -> None:
    """What every channel's normalise promises: each payload becomes rows or a worded rejection."""
    assert len(page.rejected) <= given
    for _payload, reason in page.rejected:
        assert isinstance(reason, str) and reason
    assert len(page.orders) + len(page.rejected) == given, (len(page.orders), len(page.rejected), given)
    # Amounts fit the warehouse's numeric(14, 2) columns: one that does not fails the page's COPY.
    for row in (*page.orders, *page.items):
        for value in row:
            if isinstance(value, Decimal):
                assert value.is_finite() and value.copy_abs() < 10**12, row


def letzshop(data: bytes) -> None:
    """A `shipments` GraphQL answer's data: the page check, then each shipment normalised."""
    answer = json_input(data, "json")  # (gql decodes with Python's json)
    if answer is NOT_JSON:
        return
    try:
        nodes, _more, _cursor = _shipments_page(answer, "Letzshop shipments (fuzz)")
    except HttpCallError as exc:
        assert exc.kind == "malformed", exc.kind
        return
    page = letzshop_normalise.normalise([(node, SHA) for node in nodes], "EUR")
    _orders_page(page, len(nodes))


def _orders(answer: Any, key: str) -> list[dict] | None:
    # The clients' page checks (resources/amazon_sp_api.py, resources/ebay.py) let through only a list of
    # objects under the page's key; anything else is their malformed-answer error.
    orders = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(orders, list) or not all(isinstance(order, dict) for order in orders):
        return None
    return orders


def _polled(module: Any, orders: list[dict]) -> None:
    # What the incremental import reads of every order before normalising (assets/orders/incremental.py).
    stamps = []
    for order in orders:
        order_id = module.order_id(order)
        assert order_id is None or isinstance(order_id, str)
        stamp = module.modified_at(order)
        if stamp:
            stamps.append(stamp)
    if stamps:
        max(stamps)  # the import's next cursor: the stamps must compare
    page = module.normalise([(order, SHA) for order in orders], "EUR")
    _orders_page(page, len(orders))


def amazon(data: bytes) -> None:
    """A searchOrders answer: {"orders": [...], "pagination": ...}."""
    orders = _orders(json_input(data), "orders")
    if orders is not None:
        _polled(amazon_normalise, orders)


def ebay(data: bytes) -> None:
    """A getOrders answer: {"orders": [...], "next": ...}."""
    orders = _orders(json_input(data), "orders")
    if orders is not None:
        _polled(ebay_normalise, orders)


def codeswholesale(data: bytes) -> None:
    """A /v3/products answer: {"items": [...]}; each item a product or a refusal in words."""
    answer = json_input(data)
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        return  # the client's own malformed-answer error (resources/codeswholesale.py)
    for item in items:
        try:
            product, translations = normalise_product(item)
        except RefusedProduct as exc:
            assert str(exc)
            continue
        assert isinstance(product, tuple) and product[0]
        for row in translations:
            assert row[0] == product[0]


def jtl_ffn(data: bytes) -> None:
    """Paged JTL-FFN lists as the sync reads them: {"products"|"stocks"|"inbounds"|"notices": [...]}, each a
    list of objects (what the client's page check lets through)."""
    answer = json_input(data)
    if not isinstance(answer, dict):
        return
    try:
        for key, rows in (("products", jtl_sync.product_rows), ("stocks", jtl_sync.stock_rows_of),
                          ("inbounds", jtl_sync.inbound_rows), ("notices", _notices)):
            docs = answer.get(key)
            if isinstance(docs, list) and all(isinstance(doc, dict) for doc in docs):
                rows(docs)
    except HttpCallError as exc:
        assert exc.kind == "malformed", exc.kind


def inbound_sheet(data: bytes) -> None:
    """The operations team's sheet (values.get's rows: lists of cell texts) checked against JTL-FFN:
    {"rows": [[...], ...], "header_row": 1, "columns": [sku, expected, status, reference]}."""
    answer = json_input(data, "json")  # (gspread decodes with Python's json)
    if not isinstance(answer, dict):
        return
    rows = answer.get("rows")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return  # gspread gives a list of lists of strings
    rows = [[cell if isinstance(cell, str) else str(cell) for cell in row] for row in rows]
    header_row = answer.get("header_row", 1)
    names = answer.get("columns") or ["SKU", "Expected", "Status", None]
    if not (isinstance(header_row, int) and 1 <= header_row <= len(rows)) or not isinstance(names, list):
        return  # run_check refuses a sheet without its header row in words; settings are validated
    names = [n if isinstance(n, str) and n else None for n in (names + [None] * 4)[:4]]
    if not (names[0] and names[1] and names[2]):
        return
    received = Received({"SKU-1": Decimal(10), "SKU-2": Decimal("2.5")}, {("IN-1", "SKU-1"): Decimal(4)},
                        {"SKU-1": Decimal(7)}, frozenset({"SKU-1", "SKU-2"}), frozenset({"IN-1"}))
    try:
        columns = locate_columns(rows[header_row - 1], names[0], names[1], names[2], names[3])
        results = check_rows(rows, header_row, columns, received,
                             "stock" if answer.get("compare_with") == "stock" else "receipts")
    except MarketsyncError as exc:
        assert str(exc)
        return
    for result in results:
        assert result.status and result.outcome in ("match", "mismatch", "problem")
    cell_updates(rows, results, columns)


def _notices(notices: list[dict]) -> list[tuple]:
    return jtl_sync.shipment_rows([("OUT-1", notice) for notice in notices])
