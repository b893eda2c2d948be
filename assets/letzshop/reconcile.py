"""Letzshop's side of a reconciliation (assets/operations/reconcile.py): the shipments whose order was
completed in a window, as Letzshop lists them now.

The one listing Letzshop documents is `shipments(state, first, after)`, with no date filter: a day is
read by paging every shipment of each state (unconfirmed first, then confirmed and declined, the way
shipments move, so one that changes state meanwhile is met again further on) and keeping those whose
`order.completedAt` falls in the window. Its cost grows with the shop's history, not with the day. The
import's own query (operations/shipments.graphql) carries what is compared: one inventory unit per
piece and the order's total; the currency is the account's, as the import takes it."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from marketsync.assets.accounts import Account
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.operations.reconcile import ChannelOrder
from marketsync.resources.letzshop import LetzshopResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

# In the order shipments move: a shipment confirmed or declined while an earlier state is paged is met
# again in a later one (the listing is deduplicated by id).
STATES = ("unconfirmed", "confirmed", "declined")


def _completed_at(order: dict) -> datetime | None:
    stamp = order.get("completedAt")
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _total(order: dict) -> Decimal | None:
    try:
        return Decimal(str(order["total"])) if order.get("total") is not None else None
    except InvalidOperation:
        return None


def shipments_completed(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, account: Account,
                        start: datetime, end: datetime) -> list[ChannelOrder]:
    """Every shipment of the account whose order was completed in [start, end), with its units and its
    order's total."""
    currency = account.setting("currency") or "EUR"
    page_size = int(account.setting("page_size") or 100)
    found: dict[str, ChannelOrder] = {}
    with letzshop_session(warehouse, vault, letzshop, account) as api:
        for shipment in _listed(api.shipment_pages, page_size):
            order = shipment.get("order") or {}
            completed = _completed_at(order)
            if completed is None or not start <= completed < end or shipment.get("id") in found:
                continue
            found[shipment["id"]] = ChannelOrder(
                key=shipment["id"], number=shipment.get("number") or order.get("number") or shipment["id"],
                units=len(shipment.get("inventoryUnits") or []), total=_total(order), currency=currency)
    return list(found.values())


def _listed(pages, page_size: int) -> Iterator[dict]:
    for state in STATES:
        for page in pages(state, page_size):
            yield from page
