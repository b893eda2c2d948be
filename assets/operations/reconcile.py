"""Reconciliation: per store account, channel and UTC day, the orders the channel reports against the
orders the warehouse holds.

The channel's side is read back with its cheapest listing call, which each channel declares
(`Orders.reconcile` in assets/<channel>/channel.py, a "module:function" this module loads: it sits
below the channel packages and imports none of them). The warehouse's side is the account's
core.orders whose channel-side creation time (`ordered_at`) falls in the day. Compared per order,
keyed by the id both sides share (core.orders.channel_shipment_id: the Letzshop shipment id, the
Amazon or eBay order id):

- missing: at the channel, not in the warehouse (an import missed it);
- extra: in the warehouse, not at the channel (deleted there, or never existed);
- differing: in both, with other units (pieces) or another total (or currency).

A difference opens the account's one `reconciliation` alert (or counts on the open one, its message
replaced by the newest); a later reconciliation of the account that finds none closes it. Messages name
orders by their numbers only, never a buyer.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.accounts import get_account
from marketsync.assets.alerts import close_alert_streak, raise_alert
from marketsync.assets.channel_registry import channel, channels, load
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

SOURCE = "reconciliation"  # ops.alerts.source of the alerts it opens
SHOWN = 5  # order numbers an alert names per kind of difference


@dataclass(frozen=True)
class ChannelOrder:
    """One order as one side holds it: `key` the id both sides share, `number` how people name it (what
    `marketsync orders show` takes), `units` its pieces, `total` and `currency` (None where the side
    has none: the order is then compared by units only)."""

    key: str
    number: str
    units: int
    total: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Difference:
    """An order both sides hold, with other units or another total."""

    key: str
    number: str
    channel_units: int
    warehouse_units: int
    channel_total: Decimal | None
    warehouse_total: Decimal | None
    channel_currency: str | None
    warehouse_currency: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "channel_units": self.channel_units, "warehouse_units": self.warehouse_units,
                "channel_total": _money(self.channel_total), "warehouse_total": _money(self.warehouse_total),
                "channel_currency": self.channel_currency, "warehouse_currency": self.warehouse_currency}


@dataclass
class Reconciliation:
    """One account's day compared: the figures of each side and every difference."""

    store: str
    channel: str
    label: str
    day: date
    account_id: int
    channel_orders: int = 0
    warehouse_orders: int = 0
    channel_units: int = 0
    warehouse_units: int = 0
    channel_totals: dict[str, Decimal] = field(default_factory=dict)  # by currency
    warehouse_totals: dict[str, Decimal] = field(default_factory=dict)
    matched: int = 0
    missing: list[ChannelOrder] = field(default_factory=list)
    extra: list[ChannelOrder] = field(default_factory=list)
    differing: list[Difference] = field(default_factory=list)
    without_total: int = 0  # channel orders whose listing entry carries no total (compared by units only)
    alert_opened: bool = False  # this reconciliation opened the account's alert
    alert_closed: bool = False  # it found no difference and closed the account's open alert

    @property
    def differences(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.differing)

    @property
    def clean(self) -> bool:
        return self.differences == 0

    def summary(self) -> str:
        """One line: the day's figures on both sides and what differs."""
        head = (f"{self.label} orders of store '{self.store}' on {self.day.isoformat()} (UTC): channel "
                f"{self.channel_orders} orders, {self.channel_units} units{_totals(self.channel_totals)}; warehouse "
                f"{self.warehouse_orders} orders, {self.warehouse_units} units{_totals(self.warehouse_totals)}; "
                f"{self.matched} matched")
        if self.clean:
            return head + "; no difference"
        return head + "; " + "; ".join(self._parts())

    def _parts(self) -> list[str]:
        parts = []
        for orders, words in ((self.missing, "missing in the warehouse"),
                              (self.extra, f"in the warehouse but not at {self.label}"),
                              (self.differing, "with other units or total")):
            if orders:
                shown = ", ".join(o.number for o in orders[:SHOWN]) + (", ..." if len(orders) > SHOWN else "")
                parts.append(f"{len(orders)} {words} ({shown})")
        return parts

    def message(self) -> str:
        """The alert's text: channel, day, counts and the first few order numbers of each difference."""
        return (f"reconciliation: {self.summary()}. `marketsync reconcile {self.store} {self.channel} --day "
                f"{self.day.isoformat()}` lists them.")

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        """The comparison as plain values (order numbers, never a buyer); `limit` caps each list."""
        return {
            "store": self.store, "channel": self.channel, "day": self.day.isoformat(),
            "channel_orders": self.channel_orders, "warehouse_orders": self.warehouse_orders,
            "channel_units": self.channel_units, "warehouse_units": self.warehouse_units,
            "channel_totals": {c: _money(t) for c, t in sorted(self.channel_totals.items())},
            "warehouse_totals": {c: _money(t) for c, t in sorted(self.warehouse_totals.items())},
            "matched": self.matched, "differences": self.differences,
            "missing": [o.number for o in self.missing[:limit]],
            "extra": [o.number for o in self.extra[:limit]],
            "differing": [d.as_dict() for d in self.differing[:limit]],
            "without_total": self.without_total,
        }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def _totals(totals: dict[str, Decimal]) -> str:
    return "".join(f", {_money(t)} {c}" for c, t in sorted(totals.items()))


def reconcile_channels() -> tuple[str, ...]:
    """The channels that declare a reconciliation listing."""
    return tuple(name for name, c in channels().items() if c.orders and c.orders.reconcile)


def yesterday(now: datetime | None = None) -> date:
    """The UTC day before `now` (default: now)."""
    return ((now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=1)).date()


def parse_day(text: str) -> date:
    """A day given as YYYY-MM-DD, not in the future (UTC)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MarketsyncError(f"day '{text}' is not a date of the form YYYY-MM-DD") from None
    if day > datetime.now(UTC).date():
        raise MarketsyncError(f"day {day.isoformat()} is in the future (days are UTC)")
    return day


# How far behind now a window of today ends: channels list recent orders only after a delay (Amazon's
# searchOrders refuses a window ending in the last two minutes, eBay one ending in the future), and both
# sides must stop at the same moment or a minute-old order would read as extra.
SETTLING = timedelta(minutes=5)


def instant(stamp: object) -> datetime | None:
    """An ISO 8601 time a channel's listing gives ("2026-12-05T10:00:00Z"); None when it is not one."""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else None
    except ValueError:
        return None


def amount(value: object) -> Decimal | None:
    """A money amount a channel's listing gives (a string or a number); None when absent or not a number."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def day_window(day: date, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day; for today, up to a few minutes before now."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, max(start, min(start + timedelta(days=1), (now or datetime.now(UTC)) - SETTLING))


def warehouse_orders(conn: Connection, account_id: int, start: datetime, end: datetime) -> list[ChannelOrder]:
    """The account's orders in core.orders whose channel-side creation time falls in [start, end)."""
    rows = conn.execute(query_beside(__file__, "reconcile_warehouse_orders.sql"),
                        {"account_id": account_id, "start": start, "end": end}).all()
    return [ChannelOrder(r.key, r.number, int(r.units), r.total, r.currency) for r in rows]


def compare(result: Reconciliation, at_channel: Iterable[ChannelOrder], held: Iterable[ChannelOrder]) -> Reconciliation:
    """Fill `result` with both sides' figures and every difference (each list in number order)."""
    listed = {o.key: o for o in at_channel}  # a listing that shows an order twice counts it once
    stored = {o.key: o for o in held}
    result.channel_orders, result.warehouse_orders = len(listed), len(stored)
    result.channel_units = sum(o.units for o in listed.values())
    result.warehouse_units = sum(o.units for o in stored.values())
    result.channel_totals, result.warehouse_totals = _sums(listed.values()), _sums(stored.values())
    result.without_total = sum(1 for o in listed.values() if o.total is None)
    result.missing = sorted((o for k, o in listed.items() if k not in stored), key=lambda o: o.number)
    result.extra = sorted((o for k, o in stored.items() if k not in listed), key=lambda o: o.number)
    differing = []
    for key, ours in stored.items():
        theirs = listed.get(key)
        if theirs is None:
            continue
        other_total = theirs.total is not None and (
            ours.total is None or theirs.total != ours.total
            or (theirs.currency is not None and ours.currency is not None and theirs.currency != ours.currency))
        if theirs.units != ours.units or other_total:
            differing.append(Difference(key, ours.number, theirs.units, ours.units, theirs.total, ours.total,
                                        theirs.currency, ours.currency))
    result.differing = sorted(differing, key=lambda d: d.number)
    result.matched = len(stored) - len(result.extra) - len(result.differing)
    return result


def _sums(orders: Iterable[ChannelOrder]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order.total is not None:
            totals[order.currency or "?"] += order.total
    return dict(totals)


def reconcile_account(warehouse: Any, vault: Any, client: Any, store: str, channel_name: str, day: date, *,
                      run_id: str | None = None, job_name: str | None = None) -> Reconciliation:
    """Compare STORE's orders of `channel_name` created on `day` (UTC) at the channel with the warehouse's,
    then open (or count on) the account's reconciliation alert when anything differs, or close it when
    nothing does. `client` is the channel's API resource. The channel is read first, the warehouse
    after: an order an import lands meanwhile is found on both sides."""
    declaration = channel(channel_name)
    if not (declaration.orders and declaration.orders.reconcile):
        raise MarketsyncError(f"reconcile does not support '{channel_name}': it supports "
                              f"{', '.join(reconcile_channels())}")
    with warehouse.begin() as conn:
        account = get_account(conn, store, channel_name)
    start, end = day_window(day)
    at_channel = list(load(declaration.orders.reconcile)(warehouse, vault, client, account, start, end))
    result = Reconciliation(store, channel_name, declaration.label, day, account.account_id)
    with warehouse.begin() as conn:
        compare(result, at_channel, warehouse_orders(conn, account.account_id, start, end))
        if result.clean:
            result.alert_closed = close_alert_streak(conn, account.account_id, SOURCE) > 0
        else:
            result.alert_opened = raise_alert(conn, result.message(), source=SOURCE, run_id=run_id,
                                              job_name=job_name, account_id=account.account_id)
    return result
