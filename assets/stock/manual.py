"""What a person changes by hand: manual stock (counts and deltas) and per-listing rules."""
from __future__ import annotations

from sqlalchemy import Connection, text

from marketsync.assets.accounts import get_account
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside


def _product_id(conn: Connection, store: str, sku: str) -> tuple[int, int]:
    row = conn.execute(query_beside(__file__, "product_by_sku.sql"), {"store": store, "sku": sku}).first()
    if row is None:
        raise MarketsyncError(f"{store} has no product with SKU '{sku}'")
    return row.store_id, row.product_id


def adjust(conn: Connection, store: str, sku: str, *, count: int | None = None, delta: int | None = None,
           reason: str | None = None, by: str = "cli") -> dict:
    """Record a manual stock count (the units on the shelf now) or a delta (units added or removed)."""
    if (count is None) == (delta is None):
        raise MarketsyncError("give either a count or a delta")
    if count is not None and count < 0:
        raise MarketsyncError("a stock count cannot be negative")
    store_id, product_id = _product_id(conn, store, sku)
    kind, quantity = ("count", count) if count is not None else ("delta", delta)
    row = conn.execute(
        query_beside(__file__, "stock_adjustment_insert.sql"),
        {"s": store_id, "p": product_id, "k": kind, "q": quantity, "r": reason, "b": by}).one()
    return {"store": store, "sku": sku, "kind": kind, "quantity": quantity, "adjustment_id": row.adjustment_id,
            "created_at": row.created_at}


def set_rule(conn: Connection, store: str, channel: str, sku: str, *, override: int | None = None,
             maximum: int | None = None, clear_override: bool = False, clear_max: bool = False,
             listed: bool | None = None, clear_listed: bool = False, note: str | None = None) -> dict:
    """Set or clear a listing's fixed quantity, maximum, and whether the product is a listing on the
    channel at all (`listed`; cleared: as the channel's `listings` setting says)."""
    for name, value in (("override", override), ("maximum", maximum)):
        if value is not None and value < 0:
            raise MarketsyncError(f"the {name} cannot be negative")
    account = get_account(conn, store, channel)
    _, product_id = _product_id(conn, store, sku)
    current = conn.execute(query_beside(__file__, "listing_rule_get.sql"),
                           {"a": account.account_id, "p": product_id}).first()
    new_override = None if clear_override else (override if override is not None else current and current[0])
    new_max = None if clear_max else (maximum if maximum is not None else current and current[1])
    new_listed = None if clear_listed else (listed if listed is not None else (current[2] if current else None))
    if new_override is None and new_max is None and new_listed is None:
        conn.execute(text("DELETE FROM core.stock_listing_rules WHERE account_id = :a AND product_id = :p"),
                     {"a": account.account_id, "p": product_id})
    else:
        conn.execute(
            query_beside(__file__, "listing_rule_upsert.sql"),
            {"a": account.account_id, "p": product_id, "o": new_override, "m": new_max, "l": new_listed, "n": note})
    return {"store": store, "channel": channel, "sku": sku, "quantity_override": new_override, "max_quantity": new_max,
            "listed": new_listed}
