"""Amazon's side of a reconciliation (assets/operations/reconcile.py): the orders created in a window, as
the Orders API lists them now.

The listing is the import's own call, searchOrders (Orders API v2026-01-01), asked by creation time
(createdAfter/createdBefore): it reads exactly the day's orders, however many older ones changed since.
Only the PROCEEDS dataset is asked for: the items (always embedded) give the
units, `proceeds.grandTotal` the total; no buyer or recipient data is fetched. An order Amazon shows
no total for yet (pending payment) is compared by units only."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from marketsync.assets.accounts import Account
from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.operations.reconcile import ChannelOrder, amount, instant
from marketsync.resources.amazon_sp_api import AmazonSpApiResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

INCLUDED_DATA = ("PROCEEDS",)  # the order's grand total; the items come with every order


def _units(order: dict) -> int:
    return sum(item.get("quantityOrdered") or 0 for item in order.get("orderItems") or []
               if isinstance(item.get("quantityOrdered"), int))


def _total(order: dict) -> tuple[Decimal | None, str | None]:
    total = (order.get("proceeds") or {}).get("grandTotal") or {}
    return amount(total.get("amount")), total.get("currencyCode")


def orders_created(warehouse: Warehouse, vault: CredentialVault, amazon: AmazonSpApiResource, account: Account,
                   start: datetime, end: datetime) -> list[ChannelOrder]:
    """Every order of the account created in [start, end), with its units and grand total."""
    found: list[ChannelOrder] = []
    with amazon_session(amazon, warehouse.engine, vault, account) as api:
        for order in api.search_orders(start, end, included_data=INCLUDED_DATA, by="created"):
            created = instant(order.get("createdTime"))
            if created is None or not start <= created < end or not order.get("orderId"):
                continue
            total, currency = _total(order)
            found.append(ChannelOrder(order["orderId"], order["orderId"], _units(order), total,
                                      currency or account.setting("currency") or None))
    return found
