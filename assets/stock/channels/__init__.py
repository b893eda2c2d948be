"""Stock adapters by name, built from a store channel's settings and its encrypted credentials."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

from assets.accounts import channel_defaults, get_account_by_id
from assets.stock.channels.amazon import AmazonListingsStock
from assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from assets.stock.channels.ebay import EbayInventoryStock
from assets.stock.channels.letzshop import DEFAULT_FILENAME, LetzshopCsvStock, LetzshopGraphqlStock
from assets.stock.settings import StockSettings
from resources.errors import MarketsyncError
from resources.stock_delivery import DeliveryTarget
from resources.vault import CredentialVault, VaultError

__all__ = ["ChannelPushError", "PushOutcome", "StockAnswer", "StockChannel", "StockUpdate", "build_channel",
           "delivery_target"]


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
        known_hosts=delivery.get("known_hosts"), timeout=float(delivery.get("timeout", 60)))


def build_channel(conn: Connection, settings: StockSettings, vault: CredentialVault,
                  clients: Mapping[str, object] | None = None) -> StockChannel:
    """The adapter of a store channel. `clients`: the API resources of channels that need one (the
    application's OAuth client), by channel name: {"ebay": EbayResource}."""
    try:
        secrets = vault.load(conn, settings.account_id)
    except VaultError:
        secrets = None
    if settings.adapter == "letzshop_csv":
        return LetzshopCsvStock(delivery_target(settings, secrets or _NoSecrets()), store=settings.store,
                                filename=settings.delivery.get("filename", DEFAULT_FILENAME),
                                delimiter=settings.delivery.get("delimiter", ","),
                                read_on_receipt=_read_on_receipt(conn, settings))
    if settings.adapter == "letzshop_graphql":
        account = get_account_by_id(conn, settings.account_id)
        if secrets is None:
            raise MarketsyncError(f"no credentials for {settings.store} on letzshop: "
                                  f"`marketsync credentials set {settings.store} letzshop`")
        return LetzshopGraphqlStock(account.endpoint or channel_defaults("letzshop")["endpoint"],
                                    secrets.reveal("api_key"), settings.delivery.get("graphql_mutation"))
    if settings.adapter == "ebay_inventory":
        ebay = (clients or {}).get("ebay")
        if ebay is None:
            raise MarketsyncError("the eBay stock adapter needs the eBay resource (EBAY_CLIENT_ID, EBAY_CLIENT_SECRET)")
        engine = conn.engine
        return EbayInventoryStock(lambda: ebay.session(engine, vault, settings.account_id),
                                  where=f"eBay inventory of {settings.store}")
    if settings.adapter == "amazon_listings":
        amazon = (clients or {}).get("amazon")
        if amazon is None:
            raise MarketsyncError("the Amazon stock adapter needs the Amazon resource "
                                  "(AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET)")
        engine = conn.engine
        return AmazonListingsStock(lambda: amazon.session(engine, vault, settings.account_id),
                                   where=f"Amazon listings of {settings.store}")
    raise MarketsyncError(f"unknown stock adapter '{settings.adapter}' for {settings.store} on {settings.channel}")


# The answers to the last push that delivered something: per row (accepted, rejected) or not (delivered).
_LAST_ANSWER = """
SELECT l.answer FROM core.stock_ledger l
WHERE l.inventory_sync_id = (SELECT max(y.inventory_sync_id) FROM ops.inventory_syncs y
                             WHERE y.account_id = :a AND y.status IN ('succeeded', 'partially_succeeded')
                               AND y.processed > 0)
  AND l.answer IN ('accepted', 'rejected', 'delivered')
LIMIT 1
"""


def _read_on_receipt(conn: Connection, settings: StockSettings) -> bool:
    """Whether the location read the last file on receipt: an HTTP intake that answered it row by row.
    A folder, FTP or SFTP drop keeps files until the channel fetches them: never."""
    location = str(settings.delivery.get("location") or "").lower()
    if not location.startswith(("http://", "https://")):
        return False
    return conn.execute(text(_LAST_ANSWER), {"a": settings.account_id}).scalar() in ("accepted", "rejected")


class _NoSecrets:
    def reveal(self, name: str) -> str:
        raise VaultError(f"credential field '{name}' is not set")
