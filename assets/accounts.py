"""Store accounts: one row per store and channel, with its endpoint and sync settings (ops.accounts)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from assets.channel_registry import channels, declared
from resources.errors import MarketsyncError


def channel_defaults(channel: str) -> dict[str, Any]:
    """What a new account of `channel` starts with (its declaration, assets/<channel>/channel.py);
    `account add --set key=value` overrides any of it."""
    declaration = declared(channel)
    return dict(declaration.account_defaults) if declaration else {}


@dataclass(frozen=True)
class Account:
    account_id: int
    store_id: int
    store: str
    channel: str
    endpoint: str | None
    sync_interval_minutes: int
    settings: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    last_synced_at: datetime | None = None

    @property
    def key(self) -> str:
        """The account's Dagster partition key within its channel: the store code."""
        return self.store

    def setting(self, name: str) -> Any:
        if name in self.settings:
            return self.settings[name]
        declaration = declared(self.channel)
        return declaration.account_defaults.get("settings", {}).get(name) if declaration else None


_SELECT = """SELECT a.account_id, a.store_id, s.code AS store, a.channel, a.endpoint,
                    a.sync_interval_minutes, a.settings, a.enabled, a.last_synced_at
             FROM ops.accounts a JOIN ops.stores s USING (store_id)"""


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are JSON where they parse (numbers, true, lists), text otherwise.
    A dotted key (`carrier_label_prefixes.dhl=https://...`) sets one entry of a nested setting."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise MarketsyncError(f"setting '{pair}' is not of the form key=value")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        target = settings
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return settings


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = (_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict)
                       else value)
    return merged


def upsert_account(
    conn: Connection, store: str, channel: str, endpoint: str | None = None, settings: dict | None = None
) -> Account:
    """Create the store and account if new, else update the endpoint and merge the settings."""
    if channel not in channels():
        raise MarketsyncError(f"unknown channel '{channel}' (known: {', '.join(channels())})")
    settings = dict(settings or {})
    interval = settings.pop("sync_interval_minutes", None)
    if interval is not None and not (isinstance(interval, int) and 5 <= interval <= 1440):
        raise MarketsyncError("sync_interval_minutes must be a whole number from 5 to 1440")
    validate_store_code(store)
    store_id = conn.execute(
        text("""INSERT INTO ops.stores (code) VALUES (:c)
                ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING store_id"""),
        {"c": store},
    ).scalar_one()
    existing = conn.execute(
        text("SELECT settings FROM ops.accounts WHERE store_id = :s AND channel = :ch"), {"s": store_id, "ch": channel}
    ).first()
    defaults = channel_defaults(channel)
    merged = _merge(existing.settings if existing else defaults.get("settings", {}), settings)
    conn.execute(
        text(
            """INSERT INTO ops.accounts (store_id, channel, endpoint, sync_interval_minutes, settings)
               VALUES (:s, :ch, :e, coalesce(:i, 15), CAST(:st AS jsonb))
               ON CONFLICT (store_id, channel) DO UPDATE SET
                 endpoint = coalesce(:e, ops.accounts.endpoint),
                 sync_interval_minutes = coalesce(:i, ops.accounts.sync_interval_minutes),
                 settings = excluded.settings, updated_at = now()"""
        ),
        {"s": store_id, "ch": channel, "e": endpoint or (None if existing else defaults.get("endpoint")),
         "i": interval, "st": json.dumps(merged)},
    )
    return get_account(conn, store, channel)


_STORE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def validate_store_code(code: str) -> None:
    """Store codes name partitions and appear in URLs: lower-case letters, digits, '-' and '_'."""
    if not _STORE_CODE.fullmatch(code or ""):
        raise MarketsyncError(f"store code '{code}' must be lower-case letters, digits, '-' or '_'")


def get_account(conn: Connection, store: str, channel: str) -> Account:
    row = conn.execute(text(_SELECT + " WHERE s.code = :s AND a.channel = :ch"), {"s": store, "ch": channel}).first()
    if row is None:
        raise MarketsyncError(f"no {channel} account for store '{store}': "
                              f"add one with `marketsync account add {store} {channel}`")
    return Account(**row._mapping)


def get_account_by_id(conn: Connection, account_id: int) -> Account:
    row = conn.execute(text(_SELECT + " WHERE a.account_id = :a"), {"a": account_id}).one()
    return Account(**row._mapping)


def list_accounts(conn: Connection, channel: str | None = None, store: str | None = None) -> list[Account]:
    rows = conn.execute(
        text(_SELECT + """ WHERE (CAST(:ch AS text) IS NULL OR a.channel = :ch)
                           AND (CAST(:s AS text) IS NULL OR s.code = :s) ORDER BY s.code, a.channel"""),
        {"ch": channel, "s": store},
    ).all()
    return [Account(**row._mapping) for row in rows]


def store_id_for(conn: Connection, store: str) -> int:
    store_id = conn.execute(text("SELECT store_id FROM ops.stores WHERE code = :c"), {"c": store}).scalar()
    if store_id is None:
        raise MarketsyncError(f"unknown store '{store}'")
    return store_id


def mark_synced(conn: Connection, account_id: int) -> None:
    conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() WHERE account_id = :a"), {"a": account_id})
