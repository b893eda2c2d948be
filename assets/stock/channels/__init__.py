"""Stock adapters, built from a store channel's settings and its encrypted credentials by the builder its
channel declares (`Stock.adapters` in assets/<channel>/channel.py); the adapters themselves live in the
channel packages (assets/letzshop/stock.py, ...). Here: what every adapter shares (the StockChannel
contract in `base`, the delivery target of a file-based adapter) and the dispatch."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from marketsync.assets.channel_clients import required_client as channel_client
from marketsync.assets.channel_registry import declared, load
from marketsync.assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.stock_delivery import DeliveryTarget
from marketsync.resources.vault import CredentialVault, VaultError

__all__ = ["ChannelPushError", "NoSecrets", "PushOutcome", "StockAnswer", "StockChannel", "StockUpdate",
           "build_channel", "delivery_target", "load_secrets", "read_on_receipt", "required_client"]


def _optional(secrets, name: str) -> str | None:
    try:
        return secrets.reveal(name)
    except VaultError:
        return None


def delivery_target(settings: StockSettings, secrets) -> DeliveryTarget:
    """Where the stock file goes: the location and public options from the settings, secrets from the
    account's credentials (an HTTP location defaults to the account's API key as bearer token)."""
    delivery = settings.delivery
    location = delivery.get("location")
    if not location:
        raise MarketsyncError(f"no delivery location for {settings.store} on {settings.channel}: set one with "
                              f"`marketsync stock settings {settings.store} {settings.channel} --location URL`")
    token = _optional(secrets, "inventory_token")
    if token is None and str(location).lower().startswith(("http://", "https://")):
        token = _optional(secrets, "api_key")
    return DeliveryTarget(
        location=location, username=delivery.get("username"), password=_optional(secrets, "inventory_password"),
        token=token, private_key=_optional(secrets, "inventory_private_key"),
        passphrase=_optional(secrets, "inventory_passphrase"), host_key=delivery.get("host_key"),
        known_hosts=delivery.get("known_hosts"), timeout=float(delivery.get("timeout", 60)),
        plain_ftp_login=delivery.get("plain_ftp_login") is True)


def build_channel(conn: Connection, settings: StockSettings, vault: CredentialVault,
                  clients: Mapping[str, object] | None = None) -> StockChannel:
    """The adapter of a store channel, built by the builder its channel declares for `settings.adapter`.
    `clients`: the API resources of channels that need one (the application's OAuth client), by
    channel name: {"ebay": EbayResource}."""
    declaration = declared(settings.channel)
    builder = declaration.stock.adapters.get(settings.adapter) if declaration and declaration.stock else None
    if builder is None:
        raise MarketsyncError(f"unknown stock adapter '{settings.adapter}' for {settings.store} on {settings.channel}")
    return load(builder)(conn, settings, vault, clients or {})


def load_secrets(conn: Connection, settings: StockSettings, vault: CredentialVault):
    """The store channel's decrypted credentials, or None when none are stored."""
    try:
        return vault.load(conn, settings.account_id)
    except VaultError:
        return None


def required_client(clients: Mapping[str, object], settings: StockSettings, label: str):
    """The channel's API resource among `clients`, or a worded error naming the variables to set."""
    return channel_client(clients, settings.channel, label, f"the {label} stock adapter")


_LAST_ANSWER = query_beside(__file__, "last_delivering_answer.sql")


def read_on_receipt(conn: Connection, settings: StockSettings) -> bool:
    """Whether the location read the last file on receipt: an HTTP intake that answered it row by row.
    A folder, FTP or SFTP drop keeps files until the channel fetches them: never."""
    location = str(settings.delivery.get("location") or "").lower()
    if not location.startswith(("http://", "https://")):
        return False
    return conn.execute(_LAST_ANSWER, {"a": settings.account_id}).scalar() in ("accepted", "rejected")


class NoSecrets:
    """Credentials of a store channel that has none stored: every field is missing."""

    def reveal(self, name: str) -> str:
        raise VaultError(f"credential field '{name}' is not set")
