"""License keys of digital goods: the merchant's pre-loaded pool, and the keys bought from the supplier.

A key is a secret: it is encrypted by the vault the moment it is read (`VaultOperations.encrypt_key`) and
kept in ops.digital_keys with a keyed fingerprint, so a second copy of a key is refused without the key
ever being stored in clear; listings show it masked. Each key goes to exactly one order item unit: pool keys
first in, first out, taken with `FOR UPDATE SKIP LOCKED`, so concurrent fulfilments neither share a key nor
wait for each other. When fewer unassigned pool keys remain than a product's `low_pool_threshold`, one
alert per product is open in ops.alerts until the pool is refilled.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from marketsync.assets.alerts import raise_alert
from marketsync.assets.catalog.text_files import read_text_file
from marketsync.assets.stores import store_id_for
from marketsync.resources.credentials import DigitalKey, VaultOperations, normalized_code
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

POOL_KINDS = ("text", "image")  # what a merchant's key file may hold; pre-orders come from the supplier only
REQUIRED_COLUMNS = ("sku", "code")
LOW_POOL_ALERT = "digital_low_pool"

# Why a row of a key file was refused (never quoting the key itself).
DUPLICATE_IN_FILE = "duplicate_in_file"
DUPLICATE_STORED = "duplicate_stored"
UNKNOWN_SKU = "unknown_sku"
NOT_POOL_PRODUCT = "not_pool_product"
INVALID = "invalid"


class DigitalKeyError(MarketsyncError):
    """A key that cannot be kept as asked (a second copy, a unit that has another key); never quotes it."""


@dataclass
class KeyImportResult:
    """What a key file import did: keys read and imported (per SKU), and the rows refused, by reason,
    as the file's line numbers (the header is line 1). A refused row never shows its key."""

    store: str
    read: int = 0
    imported: int = 0
    by_sku: dict[str, int] = field(default_factory=dict)
    refused: dict[str, list[int]] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)

    def refuse(self, line: int, kind: str, reason: str) -> None:
        self.refused.setdefault(kind, []).append(line)
        self.reasons[line] = reason

    @property
    def refused_count(self) -> int:
        return sum(len(lines) for lines in self.refused.values())

    def summary(self) -> dict:
        """The result as the CLI prints it: counts first, then each refusal reason with its lines."""
        out: dict = {"store": self.store, "read": self.read, "imported": self.imported,
                     "refused": self.refused_count, "imported_per_sku": dict(sorted(self.by_sku.items()))}
        for kind, lines in sorted(self.refused.items()):
            out[kind] = {"count": len(lines), "lines": sorted(lines)}
        out["reasons"] = {str(line): reason for line, reason in sorted(self.reasons.items())}
        return out


@dataclass(frozen=True)
class _Row:
    line: int
    sku: str
    key: DigitalKey


def import_keys(conn: Connection, vault: VaultOperations, store: str, file: str | Path) -> KeyImportResult:
    """Load a merchant's key file into store `store`'s pool, inside the caller's transaction.

    The CSV's header names `sku` and `code`, optionally `kind` (text, the default, or image) and `links`
    (download or activation URLs, separated by spaces). Every code is encrypted as soon as it is read and
    never written anywhere in clear. A row is refused, by its line number and never by its key, when its
    SKU is not one of the store's digital products sold from the pool, when its key appears earlier in the
    file or is already among the store's keys (under any vault key), or when it is malformed; the other
    rows load. Within one SKU the file's order is the pool's first-in-first-out order."""
    store_id = store_id_for(conn, store)
    result = KeyImportResult(store=store)
    rows = _parse(read_text_file(Path(file), "key file"), result)
    products = {r.sku: r for r in conn.execute(
        query_beside(__file__, "keys_products.sql"), {"s": store_id, "skus": sorted({r.sku for r in rows})})}

    fresh: list[tuple[_Row, int]] = []
    for row in rows:
        product = products.get(row.sku)
        if product is None:
            # Not quoted: in a file whose columns are swapped, the "SKU" is a key.
            result.refuse(row.line, UNKNOWN_SKU, f"the SKU is not one of store {store}'s products")
        elif product.sources is None:
            result.refuse(row.line, UNKNOWN_SKU, f"SKU '{row.sku}' is not a digital product")
        elif product.sources == "supplier_only":
            result.refuse(row.line, NOT_POOL_PRODUCT, f"SKU '{row.sku}' takes its keys from the supplier only")
        else:
            fresh.append((row, product.product_id))

    # Duplicates: within the file by the newest key's fingerprint, against stored keys under every key.
    first_line: dict[str, int] = {}
    candidates: list[tuple[_Row, int, list[str]]] = []
    for row, product_id in fresh:
        fingerprints = vault.key_fingerprints(row.key.code)
        seen = first_line.setdefault(fingerprints[0], row.line)
        if seen != row.line:
            result.refuse(row.line, DUPLICATE_IN_FILE, f"the same key as line {seen}")
        else:
            candidates.append((row, product_id, fingerprints))
    stored = set(conn.execute(query_beside(__file__, "keys_stored_fingerprints.sql"),
                              {"s": store_id, "f": [f for _, _, fps in candidates for f in fps]}).scalars())
    to_insert = []
    for row, product_id, fingerprints in candidates:
        if stored.intersection(fingerprints):
            result.refuse(row.line, DUPLICATE_STORED, "the key is already among the store's keys")
        else:
            to_insert.append((row, product_id, vault.encrypt_key(row.key)))

    inserted = set(conn.execute(query_beside(__file__, "keys_insert_pool.sql"), {
        "s": store_id, "k": vault.primary_key_id,
        "p": [product_id for _, product_id, _ in to_insert],
        "kinds": [row.key.kind for row, _, _ in to_insert],
        "t": [sealed.token for _, _, sealed in to_insert],
        "f": [sealed.fingerprint for _, _, sealed in to_insert],
    }).scalars()) if to_insert else set()
    for row, _, sealed in to_insert:
        if sealed.fingerprint in inserted:
            result.imported += 1
            result.by_sku[row.sku] = result.by_sku.get(row.sku, 0) + 1
        else:  # a concurrent import stored the same key meanwhile
            result.refuse(row.line, DUPLICATE_STORED, "the key is already among the store's keys")
    check_pool_levels(conn, store_id)
    return result


def list_keys(conn: Connection, vault: VaultOperations, store: str, sku: str | None = None) -> list[dict]:
    """Store `store`'s keys (or one SKU's), masked, each with its state: `in_pool` (unassigned),
    `assigned` (to an order item unit, not yet delivered) or `delivered`."""
    store_id = store_id_for(conn, store)
    out = []
    for row in conn.execute(query_beside(__file__, "keys_list.sql"), {"s": store_id, "sku": sku}).mappings():
        item = {k: v for k, v in row.items() if k != "token"}
        item["key"] = vault.decrypt_key(row["token"]).masked()
        out.append(item)
    return out


LIST_COLUMNS = ["digital_key_id", "sku", "key", "kind", "source", "state", "order_item_id", "unit",
                "imported_at", "assigned_at", "delivered_at"]


def assign_pool_key(conn: Connection, store_id: int, product_id: int, order_item_id: int, unit: int, *,
                    spare_only: bool = False) -> int | None:
    """The pool key for one unit of an order item: the key it already has (from the pool or the
    supplier), otherwise the product's oldest unassigned key (the merchant's pool, or a spare bought key;
    only a spare one with `spare_only`, for a product bought from the supplier only), now the unit's;
    None when there is none. Keys a concurrent fulfilment is taking are skipped, never waited for, so no
    key goes to two units; two fulfilments of the same unit end with one key (the later one returns the
    earlier's)."""
    params = {"s": store_id, "p": product_id, "o": order_item_id, "u": unit, "spare_only": spare_only}
    existing = conn.execute(query_beside(__file__, "pool_key_of_unit.sql"), params).scalar()
    if existing is not None:
        return existing
    try:
        with conn.begin_nested():
            return conn.execute(query_beside(__file__, "pool_assign.sql"), params).scalar()
    except IntegrityError:
        # Another fulfilment gave this unit a key and committed while this one was taking another: the
        # savepoint gives the other key back to the pool, and the unit keeps the first one.
        return conn.execute(query_beside(__file__, "pool_key_of_unit.sql"), params).scalar_one()


def store_supplier_key(conn: Connection, vault: VaultOperations, *, store_id: int, product_id: int,
                       purchase_id: int, order_item_id: int, unit: int, key: DigitalKey) -> int:
    """Keep a key bought from the supplier (purchase `purchase_id`) on the order item unit it was bought
    for, encrypted; returns its digital_key_id. Storing the same purchase's key again returns the stored
    one. When the unit already has another key (it cannot happen while sourcing is serialised per store,
    but a key that was paid for is never thrown away) the bought key goes to the product's pool, spare,
    for the next unit. Refused, without quoting the key, when the store already holds this key (the
    supplier sold a key twice)."""
    existing = conn.execute(text("SELECT digital_key_id FROM ops.digital_keys WHERE purchase_id = :p"),
                            {"p": purchase_id}).scalar()
    if existing is not None:
        return existing
    copy = conn.execute(query_beside(__file__, "keys_stored_fingerprints.sql"),
                        {"s": store_id, "f": vault.key_fingerprints(key.code)}).scalar()
    if copy is not None:
        raise DigitalKeyError(f"purchase {purchase_id} delivered a key the store already holds: not stored twice; "
                              "ask CodesWholesale for a replacement")
    sealed = vault.encrypt_key(key)
    params = {"s": store_id, "p": product_id, "kind": key.kind, "t": sealed.token, "k": sealed.key_id,
              "f": sealed.fingerprint, "purchase": purchase_id, "o": order_item_id, "u": unit}
    new_id = conn.execute(query_beside(__file__, "supplier_key_insert.sql"), params).scalar()
    if new_id is None and conn.execute(query_beside(__file__, "pool_key_of_unit.sql"),
                                       {"o": order_item_id, "u": unit}).scalar() is not None:
        new_id = conn.execute(query_beside(__file__, "supplier_key_spare.sql"), params).scalar()
    if new_id is not None:
        return new_id
    # Not written: the purchase's key was stored meanwhile (by a worker racing on the same step).
    return conn.execute(text("SELECT digital_key_id FROM ops.digital_keys WHERE purchase_id = :p"),
                        {"p": purchase_id}).scalar_one()


def load_key(conn: Connection, vault: VaultOperations, digital_key_id: int) -> DigitalKey:
    """A stored key, decrypted (it prints masked; `.code` and `.links` reveal it, for delivery only)."""
    token = conn.execute(text("SELECT token FROM ops.digital_keys WHERE digital_key_id = :k"),
                         {"k": digital_key_id}).scalar()
    if token is None:
        raise DigitalKeyError(f"no digital key {digital_key_id}")
    return vault.decrypt_key(token)


@dataclass(frozen=True)
class PoolLevel:
    """How many unassigned pool keys a product has left, against the threshold below which it alerts."""

    product_id: int
    sku: str
    sources: str
    unassigned: int
    threshold: int

    @property
    def low(self) -> bool:
        return self.unassigned < self.threshold


def pool_levels(conn: Connection, store_id: int) -> list[PoolLevel]:
    """Per product of the store sold from the pool: its unassigned keys and its low-pool threshold."""
    return [PoolLevel(r.product_id, r.sku, r.sources, r.unassigned, r.threshold)
            for r in conn.execute(query_beside(__file__, "pool_levels.sql"), {"s": store_id})]


def check_pool_levels(conn: Connection, store_id: int) -> list[PoolLevel]:
    """The pool levels, with one open low-pool alert (ops.alerts) per product below its threshold and the
    alert of a refilled product closed. Run after an import (which may refill) and after fulfilments (which
    drain)."""
    levels = pool_levels(conn, store_id)
    for level in levels:
        source = f"{LOW_POOL_ALERT}:{level.product_id}"
        # One alert per product even when two runs check at once (ops.alerts has no product column to
        # make it unique by).
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:src))"), {"src": source})
        if not level.low:
            conn.execute(query_beside(__file__, "alert_close.sql"), {"src": source})
            continue
        is_open = conn.execute(query_beside(__file__, "alert_is_open.sql"), {"src": source}).scalar()
        if not is_open:
            raise_alert(conn, f"the key pool of {level.sku} is low: {level.unassigned} unassigned key(s) left, "
                              f"alert below {level.threshold}; load more with `marketsync digital keys import`",
                        source=source)
    return levels


def _parse(content: str, result: KeyImportResult) -> list[_Row]:
    """The file's rows as keys (held as secrets from here on); malformed rows refused into `result`."""
    lines = io.StringIO(content, newline="").readlines()
    if not lines:
        raise MarketsyncError("the key file is empty: it needs a header line with sku,code")
    reader = csv.reader(lines, delimiter=next((d for d in (",", ";", "\t") if d in lines[0]), ","))
    columns = [name.strip().lower() for name in next(reader)]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise MarketsyncError(f"the key file's header lacks {', '.join(missing)}: it must name sku,code "
                              "and may name kind,links")
    at = {name: columns.index(name) for name in ("sku", "code", "kind", "links") if name in columns}
    rows: list[_Row] = []
    start = reader.line_num + 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line is not a record
            result.read += 1
            if len(fields) != len(columns):
                result.refuse(line, INVALID, f"has {len(fields)} fields but the header has {len(columns)}")
                continue
            sku, code = fields[at["sku"]].strip(), normalized_code(fields[at["code"]])
            kind = fields[at["kind"]].strip().lower() if "kind" in at else ""
            kind = kind or "text"
            if not sku or not code:
                result.refuse(line, INVALID, "sku or code is empty")
            elif kind not in POOL_KINDS:
                result.refuse(line, INVALID, f"kind must be {' or '.join(POOL_KINDS)}")
            else:
                links = fields[at["links"]].split() if "links" in at else []
                rows.append(_Row(line, sku, DigitalKey(code, kind, links)))
    except csv.Error:
        raise MarketsyncError(f"the key file cannot be read as CSV after line {start - 1}") from None
    return rows
