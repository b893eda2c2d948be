"""Store accounts: one row per store and channel, with its endpoint and sync settings (ops.accounts)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from marketsync.assets.channel_registry import channels, declared
from marketsync.assets.declared_channels import record_channel
from marketsync.assets.stores import ensure_store
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.url_policy import UrlRefused, check_url, scheme_of


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
    store_id = ensure_store(conn, store)
    record_channel(conn, channel)  # the database's list of channels an account may be of
    existing = conn.execute(
        text("SELECT settings FROM ops.accounts WHERE store_id = :s AND channel = :ch"), {"s": store_id, "ch": channel}
    ).first()
    defaults = channel_defaults(channel)
    if endpoint:
        check_endpoint(endpoint, defaults.get("endpoint"))
    merged = _merge(existing.settings if existing else defaults.get("settings", {}), settings)
    conn.execute(
        query_beside(__file__, "account_upsert.sql"),
        {"s": store_id, "ch": channel, "e": endpoint or (None if existing else defaults.get("endpoint")),
         "i": interval, "st": json.dumps(merged)},
    )
    return get_account(conn, store, channel)


def check_endpoint(endpoint: str, default: str | None) -> None:
    """An account's endpoint passes the outbound URL policy, with the schemes of its channel's own (a mail
    server's smtp:// or smtps://, else http(s)://)."""
    mail = scheme_of(default or "") in ("smtp", "smtps")
    try:
        check_url(endpoint, ("smtp", "smtps") if mail else ("http", "https"), "the account's endpoint")
    except UrlRefused as exc:
        raise MarketsyncError(str(exc)) from None


def get_account(conn: Connection, store: str, channel: str) -> Account:
    row = conn.execute(query_beside(__file__, "account_by_store_channel.sql"), {"s": store, "ch": channel}).first()
    if row is None:
        raise MarketsyncError(f"no {channel} account for store '{store}': "
                              f"add one with `marketsync account add {store} {channel}`")
    return Account(**row._mapping)


def get_account_by_id(conn: Connection, account_id: int) -> Account:
    row = conn.execute(query_beside(__file__, "account_by_id.sql"), {"a": account_id}).one()
    return Account(**row._mapping)


def list_accounts(conn: Connection, channel: str | None = None, store: str | None = None) -> list[Account]:
    rows = conn.execute(query_beside(__file__, "accounts_list.sql"), {"ch": channel, "s": store}).all()
    return [Account(**row._mapping) for row in rows]


def list_due_accounts(conn: Connection, channels: list[str], now: datetime, *, pushed: list[str],
                      pushed_minutes: int, named: list[tuple[str, str]]) -> list[Account]:
    """The enabled accounts of `channels` whose sync interval has elapsed at `now` (`pushed` channels:
    `pushed_minutes`), plus the `named` (channel, store) accounts whatever their last sync."""
    rows = conn.execute(query_beside(__file__, "accounts_due.sql"), {
        "channels": channels, "now": now, "pushed": pushed, "pushed_minutes": pushed_minutes,
        "named": [f"{channel}:{store}" for channel, store in named]}).all()
    return [Account(**row._mapping) for row in rows]


def mark_synced(conn: Connection, account_id: int) -> None:
    conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() WHERE account_id = :a"), {"a": account_id})
