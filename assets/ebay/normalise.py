"""eBay orders (Fulfillment API getOrders) -> canonical rows.

eBay reports an order's state in three fields; the importer folds them into the one channel_state that
core.order_status_map knows, most decisive first: a completed cancellation, a full or partial refund, a
payment still pending, then the fulfillment status (NOT_STARTED, IN_PROGRESS, FULFILLED). One line item
is one canonical item with its quantity.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from marketsync.assets.orders.load import (
    MalformedOrder,
    NormalisedPage,
    answer_time,
    normalise_all,
    order_money,
    split_name,
)


def channel_state(order: dict) -> str:
    if ((order.get("cancelStatus") or {}).get("cancelState")) == "CANCELED":
        return "CANCELED"
    payment = order.get("orderPaymentStatus")
    if payment in ("FULLY_REFUNDED", "PARTIALLY_REFUNDED"):
        return payment
    if payment == "PENDING":
        return "PAYMENT_PENDING"
    return order.get("orderFulfillmentStatus") or "NOT_STARTED"


def order_id(order: dict) -> str | None:
    oid = order.get("orderId")
    return oid if isinstance(oid, str) and oid else None


def modified_at(order: dict) -> datetime | None:
    return answer_time(order.get("lastModifiedDate"))


def _money(amount: dict | None) -> Decimal | None:
    if not amount:
        return None
    if not isinstance(amount, dict):
        raise MalformedOrder(f"amount {amount!r:.60} is not an object")
    return order_money(amount.get("value"))


def _ship_to(order: dict) -> dict:
    for instruction in order.get("fulfillmentStartInstructions") or []:
        ship_to = (instruction.get("shippingStep") or {}).get("shipTo")
        if ship_to:
            return ship_to
    return {}


def normalise_order(order: dict, sha: str, currency: str, page: NormalisedPage) -> None:
    oid = order.get("orderId")
    if not oid:
        raise MalformedOrder("no orderId")
    lines = order.get("lineItems")
    if not isinstance(lines, list) or not lines:
        raise MalformedOrder("no line items")
    total = (order.get("pricingSummary") or {}).get("total")
    ship_to = _ship_to(order)
    address = ship_to.get("contactAddress") or {}
    items = []
    for line in lines:
        if not line.get("lineItemId"):
            raise MalformedOrder("a line item has no lineItemId")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            raise MalformedOrder(f"line item {line['lineItemId']} has quantity {quantity!r}")
        cost = _money(line.get("lineItemCost"))
        items.append((oid, line["lineItemId"], line.get("legacyVariationId") or line.get("legacyItemId"),
                      line.get("sku"), None, None, None, None, line.get("title"), None,
                      (cost / quantity).quantize(Decimal("0.01")) if cost is not None else None,
                      line.get("lineItemFulfillmentStatus") or "NOT_STARTED", quantity))
    buyer = order.get("buyer") or {}
    page.orders.append((
        oid, oid, oid, None, ship_to.get("email") or (buyer.get("buyerRegistrationAddress") or {}).get("email"),
        ship_to.get("fullName") or buyer.get("username"), None, _money(total),
        (total or {}).get("currency") or currency, channel_state(order), order.get("creationDate"), None, None, sha))
    if ship_to:
        first, last = split_name(ship_to.get("fullName"))
        street = " ".join(part for part in (address.get("addressLine1"), address.get("addressLine2")) if part)
        page.addresses.append((oid, "shipping", first, last, ship_to.get("companyName"), street or None, None,
                               address.get("postalCode"), address.get("city"), address.get("countryCode"), None,
                               (ship_to.get("primaryPhone") or {}).get("phoneNumber")))
    page.items.extend(items)


def normalise(orders: list[tuple[dict, str]], currency: str) -> NormalisedPage:
    return normalise_all(orders, currency, normalise_order)
