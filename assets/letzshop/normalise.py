"""Letzshop shipment payloads -> rows of the canonical order model.

Letzshop splits a customer's order into shipments, one per seller; a seller sees its shipments, so one
canonical order row is one shipment. Each inventory unit is one piece and becomes one order item.
"""
from __future__ import annotations

from decimal import Decimal

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.orders.load import MalformedOrder, NormalisedPage, normalise_all, order_money

LANGUAGES = ("en", "fr", "de")


class MalformedShipment(MalformedOrder):
    """A shipment payload we cannot turn into an order; it is quarantined with this reason."""


# One Letzshop shipment is one canonical order; each inventory unit an item of quantity 1.
NormalisedBatch = NormalisedPage


def _money(value) -> Decimal | None:
    # From its text (a Float 19.9 must become 19.90, not 19.899999999999998578...), finite and within the
    # warehouse's numeric(14, 2), or the shipment is quarantined.
    try:
        amount = order_money(value)
    except MalformedOrder as exc:
        raise MalformedShipment(str(exc)) from None
    return None if amount is None else amount.quantize(Decimal("0.01"))


def _title(product: dict | None, locale: str | None) -> str | None:
    names = (product or {}).get("name") or {}
    for language in (locale, *LANGUAGES):
        if language and names.get(language):
            return names[language]
    return None


def _address(shipment_id: str, kind: str, address: dict | None) -> tuple | None:
    if not address:
        return None
    country = address.get("country") or {}
    iso = (country.get("iso") or "").strip().upper()[:2] or None
    return (shipment_id, kind, address.get("firstName"), address.get("lastName"), address.get("company"),
            address.get("streetName"), address.get("streetNumber"), address.get("zipCode"), address.get("city"),
            iso, country.get("name"), address.get("phone"))


def normalise_shipment(shipment: dict, sha: str, currency: str, batch: NormalisedBatch) -> None:
    """Append one shipment's order, address and item rows to `batch`, or raise MalformedShipment."""
    shipment_id = shipment.get("id")
    order = shipment.get("order") or {}
    if not shipment_id:
        raise MalformedShipment("shipment has no id")
    if not order.get("id") or not order.get("number"):
        raise MalformedShipment("shipment has no order id or order number")
    units = shipment.get("inventoryUnits")
    if not isinstance(units, list) or not units:
        raise MalformedShipment("shipment has no inventory units")
    if any(not isinstance(u, dict) or not u.get("id") for u in units):
        raise MalformedShipment("an inventory unit has no id")

    ship, bill = order.get("shipAddress") or {}, order.get("billAddress") or {}
    person = ship if ship.get("lastName") or ship.get("firstName") else bill
    name = " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p) or None
    tracking = shipment.get("tracking") or {}
    locale = order.get("locale")

    item_rows = []
    for unit in units:
        variant = unit.get("variant") or {}
        trade_id = variant.get("tradeId") or {}
        barcode = trade_id.get("number")
        product = variant.get("product") or {}
        item_rows.append((
            shipment_id, unit["id"], variant.get("id"), variant.get("sku"), variant.get("mpn"), barcode,
            trade_id.get("parser"), normalize_gtin(barcode, trade_id.get("parser")).gtin14 if barcode else None,
            _title(product, locale), (product.get("_brand") or {}).get("name"), _money(variant.get("price")),
            unit.get("state") or "unconfirmed", 1,
        ))

    batch.orders.append((
        order["id"], shipment_id, order["number"], shipment.get("number"), order.get("email"), name, locale,
        _money(order.get("total")), currency, shipment.get("state") or "unconfirmed", order.get("completedAt"),
        tracking.get("code"), tracking.get("provider"), sha,
    ))
    for kind, address in (("shipping", ship), ("billing", bill)):
        row = _address(shipment_id, kind, address)
        if row:
            batch.addresses.append(row)
    batch.items.extend(item_rows)


def normalise(shipments: list[tuple[dict, str]], currency: str) -> NormalisedBatch:
    """Rows for a batch of (payload, payload_sha); malformed shipments go to `rejected` with a reason."""
    return normalise_all(shipments, currency, normalise_shipment)
