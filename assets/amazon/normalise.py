"""Amazon orders (Orders API v2026-01-01 searchOrders, items embedded) -> canonical rows.

The channel state is the order's fulfillment status, except that every package delivered reads
DELIVERED (core.order_status_map knows both). One order item is one canonical item with its quantity;
the items of an order Amazon fulfils itself carry the state FULFILLED_BY_AMAZON.
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

# The item state of an order Amazon ships from its own warehouses (FBA): it holds none of the merchant's
# stock (core.stock_order_units leaves such items out).
FULFILLED_BY_AMAZON = "FULFILLED_BY_AMAZON"


def order_id(order: dict) -> str | None:
    oid = order.get("orderId")
    return oid if isinstance(oid, str) and oid else None


def modified_at(order: dict) -> datetime | None:
    return answer_time(order.get("lastUpdatedTime"))


def channel_state(order: dict) -> str:
    status = (order.get("fulfillment") or {}).get("fulfillmentStatus") or "PENDING"
    packages = order.get("packages") or []
    if status == "SHIPPED" and packages and all(
            (p.get("packageStatus") or {}).get("status") == "DELIVERED" for p in packages):
        return "DELIVERED"
    return status


def _money(amount: dict | None) -> Decimal | None:
    if not amount:
        return None
    if not isinstance(amount, dict):
        raise MalformedOrder(f"amount {amount!r:.60} is not an object")
    return order_money(amount.get("amount"))


def normalise_order(order: dict, sha: str, currency: str, page: NormalisedPage) -> None:
    oid = order.get("orderId")
    if not oid:
        raise MalformedOrder("no orderId")
    lines = order.get("orderItems")
    if not isinstance(lines, list) or not lines:
        raise MalformedOrder("no order items")
    by_amazon = (order.get("fulfillment") or {}).get("fulfilledBy") == "AMAZON"
    items = []
    for line in lines:
        if not line.get("orderItemId"):
            raise MalformedOrder("an order item has no orderItemId")
        quantity = line.get("quantityOrdered")
        if not isinstance(quantity, int) or quantity < 1:
            raise MalformedOrder(f"order item {line['orderItemId']} has quantity {quantity!r}")
        product = line.get("product") or {}
        items.append((oid, line["orderItemId"], product.get("asin"), product.get("sellerSku"), None, None, None,
                      None, product.get("title"), None, _money((product.get("price") or {}).get("unitPrice")),
                      FULFILLED_BY_AMAZON if by_amazon else channel_state(order), quantity))
    total = (order.get("proceeds") or {}).get("grandTotal")
    buyer = order.get("buyer") or {}
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    page.orders.append((oid, oid, oid, None, buyer.get("buyerEmail"), buyer.get("buyerName") or address.get("name"),
                        None, _money(total), (total or {}).get("currencyCode") or currency, channel_state(order),
                        order.get("createdTime"), None, None, sha))
    if address:
        first, last = split_name(address.get("name"))
        street = " ".join(p for p in (address.get("addressLine1"), address.get("addressLine2")) if p)
        page.addresses.append((oid, "shipping", first, last, address.get("companyName"), street or None, None,
                               address.get("postalCode"), address.get("city"), address.get("countryCode"), None,
                               address.get("phone")))
    page.items.extend(items)


def normalise(orders: list[tuple[dict, str]], currency: str) -> NormalisedPage:
    return normalise_all(orders, currency, normalise_order)
