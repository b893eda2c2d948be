"""The exception workflow: the order lines matching could not settle, and how people settle them.

An exception (ops.order_exceptions) is one question about one order line: which product is this?
- pending:  waiting for someone (or for the catalog to catch up: see `auto_resolve`);
- resolved: the line now points at a real product, chosen by a person or found automatically;
- ignored:  someone decided not to answer, with a reason (say the order will be rejected anyway).
Pending and ignored exceptions both block confirming the order: an ignored line still has no product.

Every function works inside the caller's transaction. Mistakes a user can make (an unknown id, a
product from another store, deciding something already decided) raise MarketsyncError.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, text

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.catalog.matching import EXCEPTION_KINDS, lock_store_catalog, refresh_catalog_statistics
from marketsync.assets.stores import store_id_for
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

STATUSES = ("pending", "resolved", "ignored")
BLOCKING_STATUSES = ("pending", "ignored")
AUTO_RESOLVER = "marketsync (automatic)"

# status filters list_exceptions understands beyond the plain statuses
_STATUS_FILTERS: dict[str | None, list[str] | None] = {
    None: None, "all": None, "open": list(BLOCKING_STATUSES), **{s: [s] for s in STATUSES}
}


def list_exceptions(
    conn: Connection, store: str | None, status: str | None = "pending", kind: str | None = None
) -> list[dict[str, Any]]:
    """The exceptions of `store` (all stores if None), oldest first. `status` is one of pending,
    resolved, ignored, 'open' (pending or ignored) or None/'all'; `kind` one of EXCEPTION_KINDS."""
    if status not in _STATUS_FILTERS:
        raise MarketsyncError(f"unknown exception status '{status}' (known: {', '.join(STATUSES)}, open, all)")
    if kind is not None and kind not in EXCEPTION_KINDS:
        raise MarketsyncError(f"unknown exception kind '{kind}' (known: {', '.join(EXCEPTION_KINDS)})")
    store_id = store_id_for(conn, store) if store is not None else None
    return _select(conn, store_id=store_id, statuses=_STATUS_FILTERS[status], kind=kind)


def exception_stats(conn: Connection, store: str | None = None) -> dict[str, Any]:
    """Counts for a dashboard: per kind and status, per status, `open` (pending: waiting for
    someone), `blocking` (pending or ignored: holding orders back) and `total`."""
    store_id = store_id_for(conn, store) if store is not None else None
    by_kind = {kind: dict.fromkeys(STATUSES, 0) for kind in EXCEPTION_KINDS}
    for kind, status, n in conn.execute(query_beside(__file__, "exceptions_stats.sql"), {"store_id": store_id}):
        by_kind[kind][status] = n
    by_status = {status: sum(counts[status] for counts in by_kind.values()) for status in STATUSES}
    return {
        "by_kind": by_kind,
        "by_status": by_status,
        "open": by_status["pending"],
        "blocking": by_status["pending"] + by_status["ignored"],
        "total": sum(by_status.values()),
    }


def resolve_exception(conn: Connection, exception_id: int, product_ref: str, resolved_by: str) -> dict[str, Any]:
    """A person says which product the line is: `product_ref` is a SKU or product id of the same
    store (a SKU wins if both exist). The line is re-pointed from its placeholder (or from the
    SKU-matched product of a gtin_mismatch), matched_by 'manual'; this and any other open exception
    on the line resolve. An ignored exception may still be resolved; a resolved one may not.
    Returns the exception as list_exceptions shows it."""
    resolved_by = _who(resolved_by)
    exc = _lock_exception(conn, exception_id)
    if exc.status == "resolved":
        raise MarketsyncError(
            f"exception {exception_id} is already resolved ({exc.resolution or 'product ' + str(exc.resolved_sku)}, "
            f"by {exc.resolved_by})"
        )
    product = _product(conn, exc.store_id, product_ref)
    _assign(conn, [exception_id], product, "manual", f"assigned product {product.sku} manually", resolved_by)
    return _select(conn, exception_id=exception_id)[0]


def bulk_resolve_by_gtin(conn: Connection, store: str, gtin: str, product_ref: str, resolved_by: str) -> int:
    """Resolve every open (pending or ignored) exception of `store` about one barcode to one product:
    the usual fix when a listing's barcode is unknown to the catalog and many orders carry it.
    `gtin` is normalised first (any GTIN form or ISBN-10); a code that is not a valid GTIN is looked
    up as the exact barcode the channel sent. Returns the number of exceptions resolved."""
    resolved_by = _who(resolved_by)
    store_id = store_id_for(conn, store)
    lock_store_catalog(conn, store_id)
    code = normalize_gtin(gtin)
    if code.absent:
        raise MarketsyncError("give the GTIN whose exceptions should be resolved")
    product = _product(conn, store_id, product_ref)
    ids = list(conn.execute(
        query_beside(__file__, "bulk_targets.sql"),
        {"store_id": store_id, "gtin14": code.gtin14, "barcode": gtin.strip()},
    ).scalars())
    if not ids:
        if code.problem:
            raise MarketsyncError(f"{code.problem}, and no open exception of store '{store}' has that barcode")
        return 0
    return _assign(conn, ids, product, "manual",
                   f"assigned product {product.sku} manually to all lines with barcode {code.gtin14 or gtin.strip()}",
                   resolved_by)


def ignore_exception(conn: Connection, exception_id: int, reason: str, resolved_by: str) -> dict[str, Any]:
    """Set a pending exception aside with a reason. The line keeps its placeholder and the order
    stays blocked: ignoring says "not answering", not "answered"."""
    resolved_by = _who(resolved_by)
    reason = (reason or "").strip()
    if not reason:
        raise MarketsyncError("give a reason for ignoring the exception")
    exc = _lock_exception(conn, exception_id)
    if exc.status != "pending":
        raise MarketsyncError(f"exception {exception_id} is already {exc.status}")
    conn.execute(query_beside(__file__, "exception_ignore.sql"),
                 {"exception_id": exception_id, "reason": reason, "resolved_by": resolved_by})
    return _select(conn, exception_id=exception_id)[0]


def auto_resolve(conn: Connection, store_id: int) -> int:
    """Resolve the store's pending exceptions whose GTIN now matches exactly one real product,
    linking their lines by GTIN. Run after anything changes the catalog. Returns how many resolved."""
    lock_store_catalog(conn, store_id)
    refresh_catalog_statistics(conn, store_id)
    row = conn.execute(query_beside(__file__, "auto_resolve.sql"),
                       {"store_id": store_id, "resolved_by": AUTO_RESOLVER}).one()
    _prune_placeholders(conn, row.previous_products)
    return row.resolved


def blocking_exceptions(conn: Connection, order_id: int) -> list[dict[str, Any]]:
    """The exceptions that keep order `order_id` from being confirmed (pending or ignored)."""
    return _select(conn, order_id=order_id, statuses=list(BLOCKING_STATUSES))


# ---------------------------------------------------------------- helpers

def _select(
    conn: Connection, *, store_id: int | None = None, statuses: list[str] | None = None, kind: str | None = None,
    order_id: int | None = None, exception_id: int | None = None,
) -> list[dict[str, Any]]:
    rows = conn.execute(query_beside(__file__, "exceptions_list.sql"), {
        "store_id": store_id, "statuses": statuses, "kind": kind, "order_id": order_id, "exception_id": exception_id,
    })
    return [dict(row._mapping) for row in rows]


def _assign(conn: Connection, exception_ids: list[int], product: Row, matched_by: str,
            resolution: str, resolved_by: str) -> int:
    """Point the lines behind `exception_ids` at `product`; returns how many exceptions resolved."""
    row = conn.execute(query_beside(__file__, "assign_product.sql"), {
        "exception_ids": exception_ids, "product_id": product.product_id, "matched_by": matched_by,
        "resolution": resolution, "resolved_by": resolved_by,
    }).one()
    _prune_placeholders(conn, row.previous_products)
    return row.resolved


def _prune_placeholders(conn: Connection, product_ids: list[int]) -> None:
    if product_ids:
        conn.execute(query_beside(__file__, "prune_placeholders.sql"), {"product_ids": product_ids})


def _lock_exception(conn: Connection, exception_id: int) -> Row:
    # The store lock comes before the row lock, the order matching and auto_resolve take them in.
    store_id = conn.execute(text("SELECT store_id FROM ops.order_exceptions WHERE exception_id = :e"),
                            {"e": exception_id}).scalar()
    if store_id is None:
        raise MarketsyncError(f"there is no exception {exception_id}")
    lock_store_catalog(conn, store_id)
    return conn.execute(query_beside(__file__, "exception_lock.sql"), {"exception_id": exception_id}).one()


def _product(conn: Connection, store_id: int, ref: str) -> Row:
    ref = str(ref).strip()
    product_id = int(ref) if ref.isascii() and ref.isdigit() and len(ref) < 19 else None
    product = conn.execute(query_beside(__file__, "product_by_ref.sql"),
                           {"store_id": store_id, "ref": ref, "product_id": product_id}).first()
    if product is None:
        store = conn.execute(text("SELECT code FROM ops.stores WHERE store_id = :s"), {"s": store_id}).scalar()
        raise MarketsyncError(f"store '{store}' has no product with SKU or id '{ref}'")
    return product


def _who(resolved_by: str) -> str:
    who = (resolved_by or "").strip()
    if not who:
        raise MarketsyncError("say who is deciding the exception (resolved_by)")
    return who
