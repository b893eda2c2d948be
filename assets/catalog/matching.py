"""Catalog matching: which of the store's products each imported order line is.

Every pending order line (core.order_items, match_status 'pending') of a store is decided once:

1. Its GTIN (`gtin14`, normalised by the importer) is looked up among the store's real products
   (placeholders never count). Exactly one product: matched by 'gtin'. More than one: the catalog
   is ambiguous, a `duplicate_gtin` exception opens and the line stays unmatched (up to ten
   candidates are listed in the exception's details). None: go on to the SKU.
2. The line's SKU (surrounding spaces ignored) is looked up among the store's real products. Found:
   matched by 'sku'. But if the catalog product has a GTIN that contradicts the line's barcode, a
   `gtin_mismatch` exception opens while the line stays matched to the SKU's product, so somebody
   checks that the customer gets what they ordered before the order is confirmed.
3. Nothing found: a `product_not_found` exception opens.

A barcode that was present but invalid (`barcode` set, `gtin14` null) is judged like this:
- a value with no digit other than 0 ("N/A", "-", "0", "none") is no barcode at all: it cannot
  contradict anything, so it is treated as absent;
- any other refused barcode (wrong check digit, wrong length, letters) counts as a contradiction of
  the SKU-matched product only when that product has a GTIN and the barcode's digits, zero-padded to
  14, are not that GTIN. So a catalog without GTINs, or a barcode that is merely the product's own
  GTIN with a leading zero lost, never blocks an order; a typo'd barcode against a catalog GTIN does,
  with the reason for refusing the barcode in the exception's details.
This is the same rule as for a valid GTIN: only a non-null catalog GTIN can cause a mismatch.

A line that matches nothing still imports: it is linked to a placeholder product of the store
(is_placeholder, SKU 'unmatched:<gtin14, else the refused barcode, else the SKU>', one per unknown
code, shared by all lines carrying it) and gets match_status 'unmatched'.

Exceptions are unique per (order line, kind) and only pending lines are looked at, so running the
matching again never duplicates anything; an existing exception is left exactly as it is, so a
human decision on it survives. The work is two set-based statements, match_work.sql and
match_apply.sql, whatever the number of lines.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.resources.sql_files import query_beside

EXCEPTION_KINDS = ("product_not_found", "gtin_mismatch", "duplicate_gtin")

# Advisory lock namespace for "this store's catalog links are being changed".
_CATALOG_LOCK = 0x6D73_6361  # "msca"

_SEPARATORS = str.maketrans("", "", " -\t\u00a0")


@dataclass(frozen=True)
class MatchSummary:
    """What one matching run decided. `items` = matched_by_gtin + matched_by_sku + unmatched.

    exceptions_opened counts only exceptions created by this run, per kind (all kinds present).
    A gtin_mismatch line is counted in matched_by_sku and in exceptions_opened.
    """

    items: int = 0
    matched_by_gtin: int = 0
    matched_by_sku: int = 0
    unmatched: int = 0
    exceptions_opened: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXCEPTION_KINDS, 0))


def lock_store_catalog(conn: Connection, store_id: int) -> None:
    """Serialise, until the transaction ends, everything that links a store's order lines to its
    products: matching, catalog loads and exception resolution. Without it, a catalog load racing a
    matching run could leave an exception open that the new catalog already settles, or delete a
    placeholder a concurrent run is about to link to."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:ns, CAST(:store_id AS integer))"),
                 {"ns": _CATALOG_LOCK, "store_id": store_id})


def refresh_catalog_statistics(conn: Connection, store_id: int) -> bool:
    """ANALYZE core.products when the planner badly underestimates the store's catalog; True if it did.

    Right after a catalog load for a new store (or inside the very transaction that loaded it) the
    statistics say the store has next to no products. Planned on that, a lookup "product of store S
    with SKU X" walks the store's whole catalog through any index starting with store_id, once per
    order line: minutes instead of milliseconds. Checking costs one EXPLAIN and a bounded count;
    the ANALYZE (a few hundred milliseconds) only runs when the estimate is off tenfold.
    """
    estimate = conn.execute(query_beside(__file__, "catalog_estimate.sql"), {"store_id": store_id}).scalar_one()
    planned = estimate[0]["Plan"]["Plan Rows"]
    cap = int(planned * 10) + 1000
    seen = conn.execute(query_beside(__file__, "catalog_count.sql"), {"store_id": store_id, "cap": cap}).scalar_one()
    if seen < cap:
        return False
    conn.execute(text("ANALYZE core.products"))
    return True


def match_order_items(conn: Connection, store_id: int, order_ids: Sequence[int] | None = None) -> MatchSummary:
    """Match the store's pending order lines (only those of `order_ids` when given) to its catalog,
    inside the caller's transaction, and say what was decided. See the module docstring for the
    rules. Holds the store's catalog lock until the transaction ends."""
    if order_ids is not None and len(order_ids) == 0:
        return MatchSummary()
    lock_store_catalog(conn, store_id)
    refresh_catalog_statistics(conn, store_id)
    # Step 1 gathers the lines and their catalog lookups into match_work (see match_work.sql).
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.match_work"))
    conn.execute(query_beside(__file__, "match_work.sql"),
                 {"store_id": store_id, "order_ids": list(order_ids) if order_ids is not None else None})
    refused = _refused_barcodes(conn)
    row = conn.execute(
        query_beside(__file__, "match_apply.sql"),
        {
            "store_id": store_id,
            "refused_ids": [r[0] for r in refused],
            "refused_problems": [r[1] for r in refused],
            "refused_digits": [r[2] for r in refused],
        },
    ).one()
    conn.execute(text("DROP TABLE pg_temp.match_work"))
    opened = dict.fromkeys(EXCEPTION_KINDS, 0) | row.opened
    return MatchSummary(row.items, row.matched_by_gtin, row.matched_by_sku, row.unmatched, opened)


def _refused_barcodes(conn: Connection) -> list[tuple[int, str, str | None]]:
    """(order_item_id, why the barcode is invalid, its digits padded to 14 or None) for the lines in
    match_work whose barcode was refused and is more than filler; see the module docstring."""
    refused = []
    for item_id, barcode, barcode_type in conn.execute(query_beside(__file__, "refused_barcodes.sql")):
        if not any(ch in "123456789" for ch in barcode):
            continue
        problem = normalize_gtin(barcode, barcode_type).problem or "the importer refused it"
        digits = barcode.translate(_SEPARATORS)
        padded = digits.rjust(14, "0") if digits.isascii() and digits.isdigit() and len(digits) <= 14 else None
        refused.append((item_id, problem, padded))
    return refused
