"""Price rules per store channel (ops.price_rules): the rule itself (markup, fixed add, rounding, floor,
ceiling, currency), whether pushes are on, and where a file-based adapter delivers (never secrets: those
are the account's encrypted credentials, as for the inventory file)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.accounts import get_account
from marketsync.assets.channel_registry import Prices, channels, declared
from marketsync.assets.prices.rules import PriceRule
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

DELIVERY_KEYS = {"location", "filename", "username", "host_key", "known_hosts", "timeout"}


def declared_prices(channel: str) -> Prices | None:
    """What the channel declares about prices (assets/<channel>/channel.py), or None: it takes none."""
    declaration = declared(channel)
    return declaration.prices if declaration else None


@dataclass
class PriceSettings:
    account_id: int
    store_id: int
    store: str
    channel: str
    enabled: bool = True
    rule: PriceRule = field(default_factory=PriceRule)
    delivery: dict[str, Any] = field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        return f"{self.store}.{self.channel}"

    @property
    def listings(self) -> str:
        prices = declared_prices(self.channel)
        return prices.listings if prices else "catalog"


def _settings(row: Any) -> PriceSettings:
    rule = PriceRule(markup_percent=row.markup_percent, fixed_add=row.fixed_add, rounding=row.rounding,
                     floor=row.floor_price, ceiling=row.ceiling_price, currency=row.currency.strip())
    return PriceSettings(row.account_id, row.store_id, row.store, row.channel, row.enabled, rule, dict(row.delivery))


def load_settings(conn: Connection, store: str, channel: str) -> PriceSettings:
    row = conn.execute(query_beside(__file__, "rule_select.sql"), {"store": store, "channel": channel}).first()
    if row is None:
        raise MarketsyncError(f"no price rule for {store} on {channel}: set one with "
                              f"`marketsync prices rules {store} {channel} --floor 1.00`")
    return _settings(row)


def all_settings(conn: Connection, store: str | None = None, enabled_only: bool = True) -> list[PriceSettings]:
    rows = conn.execute(query_beside(__file__, "rule_select.sql"), {"store": store, "channel": None})
    return [s for s in map(_settings, rows) if s.enabled or not enabled_only]


def save_settings(conn: Connection, store: str, channel: str, *, enabled: bool | None = None,
                  markup_percent: Decimal | None = None, fixed_add: Decimal | None = None,
                  rounding: str | None = None, floor: Decimal | None = None, ceiling: Decimal | None = None,
                  clear_ceiling: bool = False, currency: str | None = None,
                  delivery: dict[str, Any] | None = None) -> PriceSettings:
    """Create or change a store channel's price rule; only the given values change (the rule as a whole is
    checked before it is stored, and the database checks floor >= 0 and ceiling >= floor again)."""
    account = get_account(conn, store, channel)
    if declared_prices(channel) is None:
        priced = [name for name, c in channels().items() if c.prices is not None]
        raise MarketsyncError(f"prices cannot be pushed to {channel} (price adapters: {', '.join(priced)})")
    for key in delivery or {}:
        if key not in DELIVERY_KEYS:
            raise MarketsyncError(f"unknown delivery setting '{key}' (secrets belong in `marketsync credentials "
                                  f"set`); known: {', '.join(sorted(DELIVERY_KEYS))}")
    try:
        current = load_settings(conn, store, channel)
    except MarketsyncError:
        current = PriceSettings(account.account_id, account.store_id, store, channel)
    given = {"markup_percent": markup_percent, "fixed_add": fixed_add, "rounding": rounding, "floor": floor,
             "ceiling": ceiling, "currency": currency}
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if clear_ceiling:
        changes["ceiling"] = None
    rule = replace(current.rule, **changes)  # PriceRule checks itself: a ceiling below the floor is refused
    merged = {k: v for k, v in {**current.delivery, **(delivery or {})}.items() if v is not None}
    conn.execute(query_beside(__file__, "rule_upsert.sql"), {
        "a": account.account_id, "enabled": current.enabled if enabled is None else enabled,
        "markup": rule.markup_percent, "fixed": rule.fixed_add, "rounding": rule.rounding, "floor": rule.floor,
        "ceiling": rule.ceiling, "currency": rule.currency, "delivery": json.dumps(merged, sort_keys=True)})
    return load_settings(conn, store, channel)
