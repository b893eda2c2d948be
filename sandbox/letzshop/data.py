"""Seeded Letzshop orders, the merchant catalog behind them, and the figures to expect.

A scenario is fixed by ``(seed, size)``: ``size`` shipments whose units are drawn from
a variant pool of ``catalog_size_for(size)`` variants (see ``catalog``). Everything is
deterministic across runs and machines, so a demo or a test can compare what the
pipeline reports with ``expected_figures(seed, size)``.
"""

from __future__ import annotations

import random
import time
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from . import words
from .barcodes import is_valid_gtin
from .catalog import (
    CATALOG_CSV_HEADER,
    DEFAULT_ANOMALIES,
    NO_ANOMALIES,
    Anomalies,
    VariantMaker,
    gc_paused,
    generate_catalog,
    gid,
    letzshop_variant,
    write_csv,
)

__all__ = [
    "CATALOG_CSV_HEADER", "DEFAULT_ANOMALIES", "NO_ANOMALIES", "Anomalies", "ExpectedFigures",
    "Scenario", "build_scenario", "catalog_csv_rows", "catalog_size_for", "derive_shipment_state",
    "expected_figures", "generate_catalog", "generate_shipments", "gid", "normalise_barcode",
    "write_catalog_csv",
]

# Units per shipment and their cumulative shares (about three pieces on average).
_UNIT_COUNTS = ((1, 0.15), (2, 0.30), (3, 0.55), (4, 1.0))
# Orders start here and arrive a few minutes apart, so completedAt grows with the index.
_EPOCH = 1735718400  # 2025-01-01T08:00:00Z
_ORDER_GAP_S = 240


def catalog_size_for(size: int) -> int:
    """Variant pool behind ``size`` shipments: big enough for variety, small enough
    that popular products recur across orders."""
    return max(50, 2 * size)


def catalog_csv_rows(seed: int, size: int, *, catalog_size: int | None = None,
                     anomalies: Anomalies = DEFAULT_ANOMALIES) -> list[dict]:
    """The merchant's catalog (rows ``{sku, gtin, title}``) for the scenario ``(seed, size)``.

    ``size`` counts shipments, as for the simulator, so the demo exports the catalog
    that belongs to the orders it will sync.
    """
    return VariantMaker(seed, anomalies).export_rows(catalog_size or catalog_size_for(size))


def write_catalog_csv(path: str | Path, seed: int, size: int, **options) -> int:
    """Write ``catalog_csv_rows(seed, size, **options)`` as UTF-8 CSV; return the row count."""
    return write_csv(path, catalog_csv_rows(seed, size, **options))


@cache
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "")


def _pick(rand, items):
    return items[int(rand() * len(items))]


def _address(rand, iso: str, first: str, last: str) -> dict:
    name, cities, zip_digits, zip_suffix, phone_prefix, _ = words.COUNTRIES[iso]
    company_roll, suffix_roll, phone_roll = rand(), rand(), rand()
    return {
        "firstName": first,
        "lastName": last,
        "company": _pick(rand, words.COMPANIES) if company_roll < 0.08 else None,
        "streetName": _pick(rand, words.STREETS),
        "streetNumber": f"{1 + int(rand() * 180)}{'a' if suffix_roll < 0.05 else ''}",
        "city": _pick(rand, cities),
        "zipCode": f"{1000 + int(rand() * (10**zip_digits - 1000)):0{zip_digits}d}{zip_suffix}",
        "phone": f"{phone_prefix} {100000 + int(rand() * 900000)}" if phone_roll < 0.9 else None,
        "country": {"name": name, "iso": iso},
    }


def _country(roll: float) -> str:
    for iso, edge in words.COUNTRY_SHARES:
        if roll < edge:
            return iso
    return "LU"


def _utc(epoch_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


@dataclass
class Scenario:
    """Shipments plus the truth behind them.

    ``variants`` maps a pool index to its pool entry, for the variants ordered;
    ``unit_entries`` gives the pool index of every unit, in shipment order.
    """

    shipments: list[dict]
    variants: dict[int, dict]
    unit_entries: list[int]
    catalog_size: int


def build_scenario(seed: int, size: int, *, start: int = 0, catalog_size: int | None = None,
                   anomalies: Anomalies = DEFAULT_ANOMALIES, history_rate: float = 0.0) -> Scenario:
    """Generate shipments ``start .. start+size-1`` of the seeded order stream.

    ``start`` numbers a later batch (ids, numbers and timestamps carry on) and also
    seeds it, so a batch is reproducible on its own. ``catalog_size`` defaults to
    ``catalog_size_for(start + size)``. ``history_rate`` is the share of shipments the
    shop already handled (units accepted or refused), to have some history.
    """
    pool_size = catalog_size or catalog_size_for(start + size)
    make_entry = VariantMaker(seed, anomalies).entry
    entries: dict[int, dict] = {}
    rand = random.Random(f"letzshop:{seed}:shipments:{start}").random
    firsts, lasts, domains = words.FIRST_NAMES, words.LAST_NAMES, words.EMAIL_DOMAINS
    variants: dict[int, dict] = {}
    shipments, unit_entries = [], []
    with gc_paused():
        for n in range(start, start + size):
            first, last = _pick(rand, firsts), _pick(rand, lasts)
            iso = _country(rand())
            en_edge, fr_edge, _ = words.COUNTRIES[iso][5]
            locale_roll, same_bill_roll, history_roll, count_roll, time_roll = (
                rand(), rand(), rand(), rand(), rand())
            locale = "en" if locale_roll < en_edge else "fr" if locale_roll < fr_edge else "de"
            ship = _address(rand, iso, first, last)
            if same_bill_roll < 0.8:
                bill = dict(ship, country=dict(ship["country"]))
            else:
                bill = _address(rand, iso, first, last)
            historic = history_roll < history_rate

            n_units = 4
            for count, edge in _UNIT_COUNTS:
                if count_roll < edge:
                    n_units = count
                    break
            units, total_cents, index = [], 0, -1
            for k in range(n_units):
                # Popular products recur; repeating the previous line is a second piece.
                repeat_roll, pick_roll, accept_roll = rand(), rand(), rand()
                if index < 0 or repeat_roll >= 0.2:
                    index = int(pool_size * pick_roll * pick_roll)
                variant = variants.get(index)
                if variant is None:
                    entries[index] = entry = make_entry(index)
                    variant = variants[index] = letzshop_variant(entry)
                state = "unconfirmed"
                if historic:
                    state = "confirmed_available" if accept_roll < 0.85 else "confirmed_unavailable"
                units.append({"id": gid("InventoryUnit", (n + 1) * 10 + k), "state": state,
                              "variant": variant})
                unit_entries.append(index)
                total_cents += round(variant["price"] * 100)

            shipments.append({
                "id": gid("Shipment", n + 1),
                "number": f"H{10**10 + (n * 7_368_787 + 1_234_567) % (9 * 10**10)}",
                "state": derive_shipment_state(units),
                "order": {
                    "id": gid("Order", n + 1),
                    "number": f"R{10**8 + (n * 7_919 + 4_242) % (9 * 10**8)}",
                    "email": f"{_ascii(first)}.{_ascii(last)}{n + 1}@{domains[n % len(domains)]}",
                    "total": total_cents / 100,
                    "completedAt": _utc(_EPOCH + n * _ORDER_GAP_S + int(time_roll * 200)),
                    "locale": locale,
                    "shipAddress": ship,
                    "billAddress": bill,
                },
                "inventoryUnits": units,
                "tracking": None,
            })
    return Scenario(shipments, entries, unit_entries, pool_size)


def derive_shipment_state(units: list[dict]) -> str:
    """Letzshop's rule: any accepted piece confirms the shipment; all refused declines it."""
    states = [u["state"] for u in units]
    if "confirmed_available" in states:
        return "confirmed"
    if states and all(s == "confirmed_unavailable" for s in states):
        return "declined"
    return "unconfirmed"


def generate_shipments(seed: int, size: int, **options) -> list[dict]:
    """``size`` seeded Letzshop shipments in the API's shape (see ``build_scenario``)."""
    return build_scenario(seed, size, **options).shipments


def normalise_barcode(raw: str) -> str:
    """The comparison form assumed by the figures: whitespace removed, zero-padded to 14."""
    return "".join(raw.split()).zfill(14)


@dataclass(frozen=True)
class ExpectedFigures:
    """What a correct sync of the scenario must report.

    Barcodes are compared after ``normalise_barcode`` on both sides, so
    ``units == units_matched + units_ambiguous + units_unmatched`` and
    ``units_unmatched == units_invalid_barcode + units_without_barcode
    + units_unknown_barcode``.
    """

    seed: int
    size: int
    catalog_size: int
    shipments: int
    units: int
    shipments_by_state: dict
    units_by_state: dict
    orders_total: float
    catalog_rows: int
    duplicate_gtins: int  # GTINs that more than one catalog row carries
    units_matched: int  # barcode matches exactly one catalog row
    units_reformatted: int  # ...of which only after normalising (spaces, lost zeros)
    units_ambiguous: int  # barcode matches several catalog rows (a duplicate GTIN)
    units_unmatched: int  # barcode will not match the exported catalog at all
    units_invalid_barcode: int  # ...because its GS1 check digit is wrong
    units_without_barcode: int  # ...because the variant has no tradeId
    units_unknown_barcode: int  # ...because the variant is missing from the export
    units_unmatched_sku_in_catalog: int  # unmatched units whose SKU the catalog does have
    invalid_barcodes: int  # distinct invalid barcodes among the ordered variants
    units_unicode_name: int

    def as_dict(self) -> dict:
        return asdict(self)


def expected_figures(seed: int, size: int, **options) -> ExpectedFigures:
    """Figures for the scenario ``(seed, size)``, computed from the generated data itself.

    Accepts the options of ``build_scenario`` (``catalog_size``, ``anomalies``,
    ``history_rate``); the export is the one ``catalog_csv_rows`` gives for the same
    options.
    """
    scenario = build_scenario(seed, size, **options)
    anomalies = options.get("anomalies", DEFAULT_ANOMALIES)
    rows = VariantMaker(seed, anomalies).export_rows(scenario.catalog_size)
    rows_per_gtin: dict[str, int] = {}
    for row in rows:
        key = normalise_barcode(row["gtin"])
        rows_per_gtin[key] = rows_per_gtin.get(key, 0) + 1
    raw_gtins = {row["gtin"] for row in rows}
    skus = {row["sku"] for row in rows}

    counts = dict.fromkeys(("matched", "reformatted", "ambiguous", "invalid", "without",
                            "unknown", "sku_fallback", "unicode"), 0)
    invalid: set[str] = set()
    units_by_state: dict[str, int] = {}
    shipments_by_state: dict[str, int] = {}
    total_cents = 0
    units = [u for s in scenario.shipments for u in s["inventoryUnits"]]
    for unit, index in zip(units, scenario.unit_entries, strict=True):
        units_by_state[unit["state"]] = units_by_state.get(unit["state"], 0) + 1
        variant = unit["variant"]
        counts["unicode"] += scenario.variants[index]["unicode_name"]
        trade_id = variant["tradeId"]
        if trade_id is None:
            outcome = "without"
        elif not is_valid_gtin("".join(trade_id["number"].split())):
            outcome = "invalid"
            invalid.add(trade_id["number"])
        else:
            hits = rows_per_gtin.get(normalise_barcode(trade_id["number"]), 0)
            outcome = "unknown" if hits == 0 else "matched" if hits == 1 else "ambiguous"
            if outcome == "matched" and trade_id["number"] not in raw_gtins:
                counts["reformatted"] += 1
        counts[outcome] += 1
        if outcome in ("without", "invalid", "unknown") and variant["sku"] in skus:
            counts["sku_fallback"] += 1
    for shipment in scenario.shipments:
        shipments_by_state[shipment["state"]] = shipments_by_state.get(shipment["state"], 0) + 1
        total_cents += round(shipment["order"]["total"] * 100)

    unmatched = counts["invalid"] + counts["without"] + counts["unknown"]
    return ExpectedFigures(
        seed=seed, size=size, catalog_size=scenario.catalog_size,
        shipments=len(scenario.shipments), units=len(units),
        shipments_by_state=shipments_by_state, units_by_state=units_by_state,
        orders_total=total_cents / 100, catalog_rows=len(rows),
        duplicate_gtins=sum(1 for n in rows_per_gtin.values() if n > 1),
        units_matched=counts["matched"], units_reformatted=counts["reformatted"],
        units_ambiguous=counts["ambiguous"], units_unmatched=unmatched,
        units_invalid_barcode=counts["invalid"], units_without_barcode=counts["without"],
        units_unknown_barcode=counts["unknown"],
        units_unmatched_sku_in_catalog=counts["sku_fallback"],
        invalid_barcodes=len(invalid), units_unicode_name=counts["unicode"],
    )
