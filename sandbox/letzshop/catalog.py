"""The shop's seeded variant pool, and the merchant's own export of it.

Letzshop knows a shop's products as variants (SKU, barcode, price, names in en/fr/de,
brand). The merchant keeps its own catalog of the same products (SKU, GTIN, title),
which the demo imports before syncing orders. Matching order lines to that catalog by
barcode is the importer's job, so the pool carries the mishaps real shops have, at
seeded rates (see ``Anomalies``).

Variant ``i`` of a seed is computed on its own (from a block of random bits seeded by
``i // 1024``), so orders can build just the variants they reference, and a pool of
any size is a prefix of a larger one.
"""

from __future__ import annotations

import binascii
import csv
import gc
import hashlib
import random
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from . import words
from .barcodes import check_digit, wrong_check_digit

CATALOG_CSV_HEADER = ("sku", "gtin", "title")


@dataclass(frozen=True)
class Anomalies:
    """Per-variant rates (0..1) of catalog mishaps. The barcode ones exclude each other.

    not_exported: sold on Letzshop, missing from the merchant's catalog export.
    bad_check_digit: barcode typed into Letzshop with a wrong check digit.
    spaced: barcode typed into Letzshop with spaces, as printed under the bars.
    zeros_dropped: a spreadsheet ate the leading zeros of the GTIN in the export.
    no_trade_id: the Letzshop variant has no barcode at all, only a SKU.
    duplicate_gtin: the merchant's catalog holds a second (legacy) product with the GTIN.
    unicode_name: product name with exotic unicode; combines with the others.
    """

    not_exported: float = 0.05
    bad_check_digit: float = 0.01
    spaced: float = 0.01
    zeros_dropped: float = 0.01
    no_trade_id: float = 0.01
    duplicate_gtin: float = 0.005
    unicode_name: float = 0.02


DEFAULT_ANOMALIES = Anomalies()
NO_ANOMALIES = Anomalies(0, 0, 0, 0, 0, 0, 0)

# Barcode families and their cumulative shares: EAN-13 dominates European retail.
_KIND_EDGES = (0.85, 0.92, 0.97)  # gtin13, gtin12, gtin8; the rest gtin14
# GS1 country prefixes of the region, so GTIN-13s look like real ones.
_GS1_PREFIXES = ("40", "41", "42", "43", "44", "30", "33", "37", "54", "57", "76", "87", "90")
_BLOCK = 1024


def gid(type_name: str, number: int) -> str:
    """Opaque global id in the Relay style, as Letzshop ids are meant to be opaque."""
    return binascii.b2a_base64(f"{type_name}:{number}".encode(), newline=False).decode()


@contextmanager
def gc_paused():
    """Building ~10^5 small dicts makes the cyclic GC rescan them over and over, which
    costs more than the building itself; generated data forms no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _spaced(code: str) -> str:
    """Print a barcode in groups, the way it appears under the bars."""
    if len(code) == 13:
        return f"{code[0]} {code[1:7]} {code[7:]}"
    return f"{code[:4]} {code[4:]}"


@lru_cache(maxsize=1)
def _name_table() -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]:
    """All (en, fr, de) product names, ordinary then exotic, built once."""

    def names(lines: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
        return tuple(
            (f"{n[0]} {line}, {c[0]}", f"{n[1]} {line}, {c[1]}", f"{n[2]} {line}, {c[2]}")
            for line in lines
            for n in words.NOUNS
            for c in words.COLOURS
        )

    return names(words.LINES), names(words.EXOTIC_LINES)


class VariantMaker:
    """Computes variant ``index`` of a seed's pool (see ``generate_catalog``)."""

    def __init__(self, seed: int, anomalies: Anomalies = DEFAULT_ANOMALIES):
        self._seed = seed
        digest = hashlib.sha256(f"letzshop:{seed}:catalog".encode()).digest()
        # Item references are a bijection of the index, so barcodes never collide by chance.
        self._offset = int.from_bytes(digest[:8], "little") % 10**10
        self._blocks: dict[int, list[int]] = {}
        self._edges = []
        edge = 0.0
        for f in fields(anomalies):
            if f.name != "unicode_name":
                edge += getattr(anomalies, f.name)
                self._edges.append((f.name, edge))
        self._any_anomaly = edge
        self._unicode_rate = anomalies.unicode_name
        self._plain, self._exotic = _name_table()
        self._sku_codes = [b[:3].upper() for b in words.BRANDS]
        self._mpn_codes = [b[:2].upper() for b in words.BRANDS]

    def _bits(self, index: int) -> int:
        """128 random bits owned by variant ``index``."""
        block = self._blocks.get(index // _BLOCK)
        if block is None:
            rng = random.Random(f"letzshop:{self._seed}:catalog:{index // _BLOCK}")
            block = self._blocks[index // _BLOCK] = [rng.getrandbits(128) for _ in range(_BLOCK)]
        return block[index % _BLOCK]

    def _core(self, index: int) -> tuple:
        """The fields both the full entry and the merchant's export row need."""
        bits = self._bits(index)
        scale = 1 / 65536
        anomaly_roll = (bits & 0xFFFF) * scale
        kind_roll = (bits >> 16 & 0xFFFF) * scale
        name_roll = (bits >> 32 & 0xFFFF) * scale
        prefix_i = (bits >> 48 & 0xFF) % len(_GS1_PREFIXES)
        brand_i = (bits >> 56 & 0xFF) % len(words.BRANDS)

        anomaly = None
        if anomaly_roll < self._any_anomaly:
            for name, edge in self._edges:
                if anomaly_roll < edge:
                    anomaly = name
                    break

        item = f"{(index * 7_919_111 + self._offset) % 10**10:010d}"
        if anomaly == "zeros_dropped":
            kind, body = "gtin13", "03" + item  # an EAN-13 that starts with zero
        elif kind_roll < _KIND_EDGES[0]:
            kind, body = "gtin13", _GS1_PREFIXES[prefix_i] + item
        elif kind_roll < _KIND_EDGES[1]:
            kind, body = "gtin12", "6789"[prefix_i % 4] + item
        elif kind_roll < _KIND_EDGES[2]:
            kind, body = "gtin8", f"{(index * 7919 + self._offset) % 10**7:07d}"
        else:
            kind, body = "gtin14", str(1 + prefix_i % 8) + _GS1_PREFIXES[prefix_i] + item
        gtin = body + check_digit(body)

        unicode_name = name_roll < self._unicode_rate
        if unicode_name:
            table = self._exotic
            names = table[int(name_roll / self._unicode_rate * len(table)) % len(table)]
        else:
            names = self._plain[int(name_roll * len(self._plain))]
        return bits, anomaly, kind, gtin, names, unicode_name, brand_i

    def sku(self, index: int) -> str:
        """Variant ``index``'s SKU alone (``entry(index)["sku"]``), without the rest of the entry."""
        return f"{self._sku_codes[(self._bits(index) >> 56 & 0xFF) % len(words.BRANDS)]}-{index:06d}"

    def entry(self, index: int) -> dict:
        bits, anomaly, kind, gtin, names, unicode_name, brand_i = self._core(index)
        scale = 1 / 65536
        price_roll = (bits >> 64 & 0xFFFF) * scale
        mpn_roll = (bits >> 80 & 0xFFFF) * scale
        known_roll = (bits >> 96 & 0xFFFF) * scale
        shift = 1 + (bits >> 112) % 9
        brand = words.BRANDS[brand_i]

        if anomaly == "no_trade_id":
            trade_id = None
        elif anomaly == "bad_check_digit":
            trade_id = {"number": wrong_check_digit(gtin, shift), "parser": kind}
        elif anomaly == "spaced":
            trade_id = {"number": _spaced(gtin), "parser": kind}
        else:
            trade_id = {"number": gtin, "parser": kind}

        return {
            "index": index,
            "variant_id": gid("Variant", index + 1),
            "sku": f"{self._sku_codes[brand_i]}-{index:06d}",
            "gtin": gtin,
            "kind": kind,
            "title": f"{brand} {names[0]}",
            "names": {"en": names[0], "fr": names[1], "de": names[2]},
            "brand": brand,
            "brand_known": known_roll >= 0.1,
            "price": (199 + int(price_roll * 14800)) / 100,
            "mpn": f"{self._mpn_codes[brand_i]}{index:07d}" if mpn_roll < 0.7 else None,
            "trade_id": trade_id,
            "anomaly": anomaly,
            "unicode_name": unicode_name,
            "exported": anomaly != "not_exported",
            "csv_gtin": gtin.lstrip("0") if anomaly == "zeros_dropped" else gtin,
        }

    def export_rows(self, size: int) -> list[dict]:
        """The merchant's catalog export of the first ``size`` variants.

        Rows are keyed by ``CATALOG_CSV_HEADER``; not-exported variants are absent and
        each duplicated GTIN gets a second, legacy product appended at the end. This
        builds only the exported fields, as catalogs of 10^5 rows are common in tests.
        """
        rows, legacy = [], []
        core, sku_codes, brands = self._core, self._sku_codes, words.BRANDS
        with gc_paused():
            for index in range(size):
                _, anomaly, _, gtin, names, _, brand_i = core(index)
                if anomaly is None:
                    rows.append({"sku": f"{sku_codes[brand_i]}-{index:06d}", "gtin": gtin,
                                 "title": f"{brands[brand_i]} {names[0]}"})
                elif anomaly != "not_exported":
                    sku, title = f"{sku_codes[brand_i]}-{index:06d}", f"{brands[brand_i]} {names[0]}"
                    if anomaly == "zeros_dropped":
                        gtin = gtin.lstrip("0")
                    rows.append({"sku": sku, "gtin": gtin, "title": title})
                    if anomaly == "duplicate_gtin":
                        legacy.append({"sku": f"OLD-{sku}", "gtin": gtin, "title": f"{title} (old)"})
        rows.extend(legacy)
        return rows


def generate_catalog(seed: int, size: int, anomalies: Anomalies = DEFAULT_ANOMALIES) -> list[dict]:
    """The shop's variant pool: ``size`` variants, a prefix of any larger pool.

    Each dict holds the merchant's view (``sku``, ``gtin`` (valid GS1 check digit),
    ``title``, ``brand``, ``price``), what Letzshop holds (``variant_id``, ``mpn``,
    ``names`` {en fr de}, ``brand_known``, ``trade_id`` {number parser} or None), and
    the truth tests need: ``index``, ``kind`` (barcode family), ``anomaly`` (None or
    an ``Anomalies`` field name), ``unicode_name``, ``exported`` and ``csv_gtin`` (the
    GTIN as the merchant's export shows it).
    """
    entry = VariantMaker(seed, anomalies).entry
    with gc_paused():
        return [entry(i) for i in range(size)]


def letzshop_variant(entry: dict) -> dict:
    """The variant as Letzshop's API returns it, built from a pool entry."""
    trade_id = entry["trade_id"]
    return {
        "id": entry["variant_id"],
        "sku": entry["sku"],
        "mpn": entry["mpn"],
        "price": entry["price"],
        "tradeId": dict(trade_id) if trade_id else None,
        "product": {
            "name": dict(entry["names"]),
            # Letzshop matches the shop's brand text against its brand list; an unmatched
            # one comes back as BrandUnknown carrying the text as entered.
            "_brand": {"__typename": "Brand" if entry["brand_known"] else "BrandUnknown",
                       "name": entry["brand"]},
        },
    }


def write_csv(path: str | Path, rows: list[dict]) -> int:
    """Write catalog rows as UTF-8 CSV with header ``sku,gtin,title``; return the row count."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CATALOG_CSV_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
