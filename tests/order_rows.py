"""Minimal stores, products and orders for the catalog tests: rows as the Letzshop importer would
leave them, without running it (the importer has tests of its own)."""
from __future__ import annotations

import itertools

from sqlalchemy import text

from marketsync.assets.catalog.gtin import normalize_gtin

_numbers = itertools.count(1)


def add_store(conn, code: str = "acme") -> tuple[int, int]:
    store_id = conn.execute(text("INSERT INTO ops.stores (code) VALUES (:c) RETURNING store_id"),
                            {"c": code}).scalar_one()
    account_id = conn.execute(
        text("INSERT INTO ops.accounts (store_id, channel) VALUES (:s, 'letzshop') RETURNING account_id"),
        {"s": store_id},
    ).scalar_one()
    return store_id, account_id


def add_product(conn, store_id: int, sku: str, gtin: str | None = None, title: str | None = None) -> int:
    return conn.execute(
        text("INSERT INTO core.products (store_id, sku, gtin14, title) VALUES (:s, :sku, :g, :t) RETURNING product_id"),
        {"s": store_id, "sku": sku, "g": normalize_gtin(gtin).gtin14, "t": title},
    ).scalar_one()


def add_order(conn, store: tuple[int, int], *lines: dict) -> tuple[int, list[int]]:
    """An order with one item row per line: dict(sku=..., barcode=...); gtin14 as the importer sets it."""
    n = next(_numbers)
    order_id = conn.execute(
        text("""INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                         order_number, channel_state, source_payload_sha)
                VALUES (:s, :a, 'letzshop', :o, :o, :o, 'unconfirmed', 'sha') RETURNING order_id"""),
        {"s": store[0], "a": store[1], "o": f"R{n}"},
    ).scalar_one()
    item_ids = []
    for i, line in enumerate(lines):
        barcode = line.get("barcode")
        item_ids.append(conn.execute(
            text("""INSERT INTO core.order_items (order_id, channel_item_id, sku, barcode, gtin14, title, channel_state)
                    VALUES (:o, :i, :sku, :bc, :g, :t, 'unconfirmed') RETURNING order_item_id"""),
            {"o": order_id, "i": str(i), "sku": line.get("sku"), "bc": barcode,
             "g": normalize_gtin(barcode).gtin14, "t": line.get("title")},
        ).scalar_one())
    return order_id, item_ids
