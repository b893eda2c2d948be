"""Stock settings per store and channel (ops.stock_settings): strategy, safety stock, the out-of-stock
rule, the lag threshold, and the adapter with its delivery settings (never secrets: those are fields of
the account's encrypted credentials, see `delivery_target`)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from marketsync.assets.accounts import get_account
from marketsync.assets.channel_registry import Stock, channels, declared
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.stock_delivery import classify_location

STRATEGIES = ("realtime", "batch", "manual")
LISTINGS = ("catalog", "known")
DELIVERY_KEYS = {"location", "filename", "delimiter", "host_key", "known_hosts", "username", "graphql_mutation",
                 "timeout", "plain_ftp_login"}
_SECRET_KEY = re.compile(r"pass|secret|token|private|api_?key|credential", re.I)
# Credential fields (marketsync credentials set STORE CHANNEL) the delivery may use.
SECRET_FIELDS = ("inventory_password", "inventory_token", "inventory_private_key", "inventory_passphrase")


def _stock(channel: str) -> Stock | None:
    declaration = declared(channel)
    return declaration.stock if declaration else None


def adapters(channel: str) -> tuple[str, ...]:
    """The stock adapters the channel declares (assets/<channel>/channel.py); the first is the default."""
    stock = _stock(channel)
    return tuple(stock.adapters) if stock else ()


@dataclass
class StockSettings:
    account_id: int
    store_id: int
    store: str
    channel: str
    enabled: bool = True
    strategy: str = "batch"
    batch_interval_minutes: int = 60
    safety_stock: int = 0
    out_of_stock_threshold: int = 0
    sync_zero_stock: bool = True
    max_lag_minutes: int = 120
    listings: str = "catalog"
    adapter: str = ""
    delivery: dict[str, Any] = field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        return partition_key(self.store, self.channel)


def partition_key(store: str, channel: str) -> str:
    return f"{store}.{channel}"


def split_partition_key(key: str) -> tuple[str, str]:
    store, _, channel = key.rpartition(".")
    if not store or not channel:
        raise MarketsyncError(f"stock channel partition '{key}' is not STORE.CHANNEL")
    return store, channel


_SELECT = """
SELECT st.account_id, a.store_id, s.code AS store, a.channel, st.enabled, st.strategy, st.batch_interval_minutes,
       st.safety_stock, st.out_of_stock_threshold, st.sync_zero_stock, st.max_lag_minutes, st.listings, st.adapter,
       st.delivery
FROM ops.stock_settings st JOIN ops.accounts a USING (account_id) JOIN ops.stores s ON s.store_id = a.store_id
"""


def load_settings(conn: Connection, store: str, channel: str) -> StockSettings:
    row = conn.execute(text(_SELECT + "WHERE s.code = :store AND a.channel = :channel"),
                       {"store": store, "channel": channel}).mappings().first()
    if row is None:
        raise MarketsyncError(f"no stock settings for {store} on {channel}: set them with "
                              f"`marketsync stock settings {store} {channel} --location URL`")
    return StockSettings(**row)


def all_settings(conn: Connection, enabled_only: bool = True) -> list[StockSettings]:
    where = "WHERE st.enabled " if enabled_only else ""
    return [StockSettings(**r) for r in conn.execute(text(_SELECT + where + "ORDER BY s.code, a.channel")).mappings()]


# The ops.stock_settings columns save_settings may write (its keyword names become column names).
SETTING_COLUMNS = frozenset({"enabled", "strategy", "batch_interval_minutes", "safety_stock", "out_of_stock_threshold",
                             "sync_zero_stock", "max_lag_minutes", "listings", "adapter", "delivery"})


def _validated(values: dict[str, Any], channel: str) -> dict[str, Any]:
    unknown = sorted(set(values) - SETTING_COLUMNS)
    if unknown:
        raise MarketsyncError(f"unknown stock setting(s): {', '.join(unknown)}")
    if values.get("strategy") is not None and values["strategy"] not in STRATEGIES:
        raise MarketsyncError(f"strategy must be one of {', '.join(STRATEGIES)}, not '{values['strategy']}'")
    for name in ("safety_stock", "out_of_stock_threshold"):
        if values.get(name) is not None and values[name] < 0:
            raise MarketsyncError(f"{name} cannot be negative")
    if values.get("batch_interval_minutes") is not None and not 1 <= values["batch_interval_minutes"] <= 10080:
        raise MarketsyncError("batch interval must be between 1 minute and 7 days")
    if values.get("max_lag_minutes") is not None and values["max_lag_minutes"] <= 0:
        raise MarketsyncError("max lag must be at least one minute")
    if values.get("listings") is not None and values["listings"] not in LISTINGS:
        raise MarketsyncError(f"listings must be one of {', '.join(LISTINGS)}, not '{values['listings']}'")
    if values.get("adapter") is not None and values["adapter"] not in adapters(channel):
        known = ", ".join(adapters(channel)) or "none yet"
        raise MarketsyncError(f"no stock adapter '{values['adapter']}' for {channel} (available: {known})")
    for key in values.get("delivery") or {}:
        if key not in DELIVERY_KEYS:
            hint = (" (secrets belong in `marketsync credentials set`, as " + ", ".join(SECRET_FIELDS) + ")"
                    if _SECRET_KEY.search(key) else "")
            raise MarketsyncError(f"unknown delivery setting '{key}'{hint}; known: {', '.join(sorted(DELIVERY_KEYS))}")
    location = (values.get("delivery") or {}).get("location")
    if location:
        classify_location(str(location).strip())  # the outbound URL policy, when it is configured
    return values


def save_settings(conn: Connection, store: str, channel: str, **changes: Any) -> StockSettings:
    """Create or change the stock settings of a store's channel; only the given values change, and
    delivery settings merge into the existing ones (a None value removes a key)."""
    account = get_account(conn, store, channel)
    stock = _stock(channel)
    if stock is None:
        stocked = [name for name, c in channels().items() if c.stock is not None]
        raise MarketsyncError(f"stock cannot be pushed to {channel} yet (stock adapters: {', '.join(stocked)})")
    changes = _validated({k: v for k, v in changes.items() if v is not None or k == "delivery"}, channel)
    delivery_changes = changes.pop("delivery", None) or {}
    current = conn.execute(text("SELECT delivery, adapter FROM ops.stock_settings WHERE account_id = :a"),
                           {"a": account.account_id}).first()
    delivery = {**(current.delivery if current else {}), **delivery_changes}
    delivery = {k: v for k, v in delivery.items() if v is not None}
    columns = {"adapter": stock.default_adapter, "listings": stock.listings, **changes}
    adapter = changes.get("adapter") or (current.adapter if current else columns["adapter"])
    if adapter.endswith("_csv") and not delivery.get("location"):
        raise MarketsyncError(f"the {adapter} adapter needs a delivery location: "
                              f"`marketsync stock settings {store} {channel} --location URL`")
    assignments = ", ".join(f"{name} = excluded.{name}" for name in changes)
    conn.execute(text(f"""
        INSERT INTO ops.stock_settings (account_id, {', '.join(columns)}, delivery)
        VALUES (:account_id, {', '.join(':' + c for c in columns)}, CAST(:delivery AS jsonb))
        ON CONFLICT (account_id) DO UPDATE SET {assignments + ', ' if assignments else ''}
            delivery = excluded.delivery, updated_at = now()"""),  # noqa: S608 - names checked against SETTING_COLUMNS
        {"account_id": account.account_id, **columns, "delivery": json.dumps(delivery, sort_keys=True)})
    return load_settings(conn, store, channel)
