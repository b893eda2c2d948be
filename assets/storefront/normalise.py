"""Storefront order documents -> canonical rows (the columns of assets/orders/load.py).

The document is the order as the API validated it (`StorefrontOrder.model_dump(mode="json")`), and a
status change makes a new version of it with the new `status` (and the tracking number when the shop
sends one). The shop's order number is the order's id on this channel; the shop does not split orders
into shipments, so it is the shipment id too.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.orders.load import NormalisedPage
from marketsync.assets.storefront.document import StorefrontOrder


def order_document(order: StorefrontOrder) -> dict[str, Any]:
    """The order as it is landed raw: the validated body, empty optional fields left out."""
    return order.model_dump(mode="json", exclude_none=True)


def canonical_json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Version:
    """One version of an order document as it is landed: the document, its canonical JSON text (what
    raw.channel_orders stores) and that text's hash (its fingerprint). Made once per order: the text is
    both hashed and landed."""

    document: dict[str, Any]
    text: str
    sha: str

    @classmethod
    def of(cls, document: dict[str, Any], sha: str | None = None) -> Version:
        """The document's version; `sha` when it is already known (a version landed before)."""
        text = canonical_json(document)
        return cls(document, text.decode(), sha or hashlib.sha256(text).hexdigest())


def document_sha(document: dict[str, Any]) -> str:
    """The version's fingerprint: the same order said with other whitespace or key order is the same."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _address_row(number: str, kind: str, address: dict[str, Any]) -> tuple:
    return (number, kind, address.get("first_name"), address.get("last_name"), address.get("company"),
            address.get("street"), address.get("house_number"), address.get("postcode"), address.get("city"),
            address.get("country"), None, address.get("phone"))


def add_to_page(document: dict[str, Any], sha: str, page: NormalisedPage) -> None:
    """Append the order's canonical rows (order, its addresses, its lines) to `page`. The buyer's fields
    are read leniently: a document whose buyer was erased (assets/privacy) still makes its order, with
    its status, amounts and lines."""
    number, status = document["order_number"], document["status"]
    buyer = document.get("buyer") or {}
    page.orders.append((
        number, number, number, None, buyer.get("email"), buyer.get("name"), buyer.get("locale"),
        Decimal(document["total"]), document["currency"], status, document["ordered_at"],
        document.get("tracking_number"), document.get("carrier"), sha))
    for kind in ("shipping", "billing"):
        address = document.get(f"{kind}_address")
        if isinstance(address, dict):
            page.addresses.append(_address_row(number, kind, address))
    for position, line in enumerate(document["items"], start=1):
        gtin = line.get("gtin")
        page.items.append((number, str(position), None, line["sku"], None, gtin, "gtin" if gtin else None,
                           normalize_gtin(gtin).gtin14 if gtin else None, line["title"], None,
                           Decimal(line["unit_price"]), status, line["quantity"]))
