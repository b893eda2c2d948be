"""eBay's side of a reconciliation (assets/operations/reconcile.py): the orders created in a window, as
the Fulfillment API lists them now.

The listing is the import's own call, getOrders, filtered by `creationdate`: it reads exactly the day's
orders, however many older ones changed since. Each listed
order carries its line items (the units) and `pricingSummary.total`; no per-order call is made."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from marketsync.assets.accounts import Account
from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.operations.reconcile import ChannelOrder, amount, instant
from marketsync.resources.ebay import EbayResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def _units(order: dict) -> int:
    return sum(line.get("quantity") for line in order.get("lineItems") or [] if isinstance(line.get("quantity"), int))


def _total(order: dict) -> tuple[Decimal | None, str | None]:
    total = (order.get("pricingSummary") or {}).get("total") or {}
    return amount(total.get("value")), total.get("currency")


def orders_created(warehouse: Warehouse, vault: CredentialVault, ebay: EbayResource, account: Account,
                   start: datetime, end: datetime) -> list[ChannelOrder]:
    """Every order of the account created in [start, end), with its units and total."""
    found: list[ChannelOrder] = []
    with ebay_session(ebay, warehouse.engine, vault, account) as api:
        for order in api.orders_modified(start, end, field="creationdate"):
            created = instant(order.get("creationDate"))
            if created is None or not start <= created < end or not order.get("orderId"):
                continue
            total, currency = _total(order)
            found.append(ChannelOrder(order["orderId"], order["orderId"], _units(order), total,
                                      currency or account.setting("currency") or None))
    return found
