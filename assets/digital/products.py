"""Which of a store's products are digital goods, and how each gets its keys: what a merchant configures
(`marketsync digital products set|list|remove`).

A product is digital when ops.digital_products lists it: where its keys come from (`pool_then_supplier`,
`supplier_only`, `pool_only`), the CodesWholesale product it is bought as, and the guards on buying it
(a maximum unit cost, the margin a supplier's price may rise above the price list's, the pool level that
raises the low-pool alert). No Dagster here: the CLI's listing stays fast.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.stores import find_store_id
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

SOURCES = ("pool_then_supplier", "supplier_only", "pool_only")
LIST_COLUMNS = ("sku", "sources", "supplier_product_id", "listed_price", "max_unit_cost", "price_margin_percent",
                "low_pool_threshold", "pool_keys")


def _store_id(conn: Connection, store: str) -> int:
    store_id = find_store_id(conn, store)
    if store_id is None:
        raise MarketsyncError(f"no store '{store}'")
    return store_id


def set_digital_product(conn: Connection, store: str, sku: str, *, sources: str | None = None,
                        supplier_product_id: str | None = None, max_unit_cost: Decimal | None = None,
                        price_margin_percent: Decimal | None = None,
                        low_pool_threshold: int | None = None) -> dict[str, Any]:
    """Make `sku` of `store` a digital product, or change what is given (what is not given keeps its value,
    or its default for a new one). Returns the product's row as `list_digital_products` shows it, with
    `in_price_list`: whether the store's CodesWholesale price list carries its supplier product (a
    supplier product it does not carry is never bought: its units wait)."""
    if sources is not None and sources not in SOURCES:
        raise MarketsyncError(f"sources must be one of {', '.join(SOURCES)}, not '{sources}'")
    if max_unit_cost is not None and max_unit_cost <= 0:
        raise MarketsyncError("the maximum unit cost must be above 0")
    if price_margin_percent is not None and price_margin_percent < 0:
        raise MarketsyncError("the price margin must not be negative")
    if low_pool_threshold is not None and low_pool_threshold < 0:
        raise MarketsyncError("the low-pool threshold must not be negative")
    store_id = _store_id(conn, store)
    product_id = conn.execute(query_beside(__file__, "product_by_sku.sql"), {"s": store_id, "sku": sku}).scalar()
    if product_id is None:
        raise MarketsyncError(f"store '{store}' has no product with SKU '{sku}': import it into the catalog first")
    current = conn.execute(query_beside(__file__, "digital_product_get.sql"), {"p": product_id}).mappings().first()
    merged = {"sources": sources or (current["sources"] if current else "pool_then_supplier"),
              "supplier_product_id": supplier_product_id if supplier_product_id is not None
              else (current["supplier_product_id"] if current else None),
              "max_unit_cost": max_unit_cost if max_unit_cost is not None
              else (current["max_unit_cost"] if current else None),
              "price_margin_percent": price_margin_percent if price_margin_percent is not None
              else (current["price_margin_percent"] if current else Decimal(5)),
              "low_pool_threshold": low_pool_threshold if low_pool_threshold is not None
              else (current["low_pool_threshold"] if current else 5)}
    if merged["sources"] != "pool_only" and not merged["supplier_product_id"]:
        raise MarketsyncError(f"'{sku}' is bought from the supplier ({merged['sources']}): give its CodesWholesale "
                              "product id (--supplier-product), or sell it from the pool only (--sources pool_only)")
    conn.execute(query_beside(__file__, "digital_product_upsert.sql"), {"p": product_id, "s": store_id, **merged})
    row = next(r for r in list_digital_products(conn, store) if r["sku"] == sku)
    return {**row, "in_price_list": row["listed_price"] is not None or merged["sources"] == "pool_only"}


def remove_digital_product(conn: Connection, store: str, sku: str) -> bool:
    """`sku` is no longer sold as a digital good (its keys and purchases stay, for the orders that have
    them). True when it was one."""
    store_id = _store_id(conn, store)
    return conn.execute(query_beside(__file__, "digital_product_remove.sql"),
                        {"s": store_id, "sku": sku}).rowcount > 0


def list_digital_products(conn: Connection, store: str) -> list[dict[str, Any]]:
    """The store's digital products, with the price list's price of each supplier product and the keys
    left in its pool."""
    store_id = _store_id(conn, store)
    return [dict(r) for r in conn.execute(query_beside(__file__, "digital_products_list.sql"),
                                          {"s": store_id}).mappings()]
