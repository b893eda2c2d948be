"""Letzshop's price adapter: the price goes out in the product file, not the inventory file.

Which file carries prices, and why: Letzshop's published GraphQL schema has mutations for orders only,
so prices, like stock, reach Letzshop as a file. Of its two files, the product file is the one with a
price: Letzshop ingests products in Google Shopping's feed format (tab-separated), whose `price`
attribute is the amount and its currency ("19.99 EUR"); the inventory file is id, quantity and
availability, with no price column. So a price push writes a product file in that format with the two
columns a price update needs, `id` (the store's SKU, as in the inventory and catalog files) and `price`,
and delivers it the way the inventory file is delivered (resources/stock_delivery: a folder, FTP(S),
SFTP or an HTTP PUT with the push's Idempotency-Key; the same credentials).

Where: the price rule's `delivery.location` (`marketsync prices rules STORE letzshop --location URL`),
else the account's product file location (`catalog_export.location`). The default name
`{store}-prices.tsv` is fixed, so each file replaces the one before it, perhaps before Letzshop read
it: every file therefore carries every listing the channel holds (the changed ones at their new price,
the others at the price acknowledged before). A file drop gives no per-row answer: every row counts as
delivered once the file is in place.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.accounts import get_account_by_id
from marketsync.assets.letzshop.catalog_export import SETTING as CATALOG_EXPORT
from marketsync.assets.letzshop.feed_cells import escape_cell
from marketsync.assets.prices.channels import PriceAnswer, PriceChannel, PriceOutcome, PricePushError, PriceUpdate
from marketsync.assets.prices.settings import PriceSettings
from marketsync.assets.stock.channels import NoSecrets, delivery_target
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.stock_delivery import DeliveryError, DeliveryTarget, deliver_file
from marketsync.resources.vault import CredentialVault, VaultError

DEFAULT_FILENAME = "{store}-prices.tsv"
HEADER = ("id", "price")


def price_file(updates: Iterable[PriceUpdate]) -> bytes:
    """The product file of a price update: Google Shopping's `id` and `price` ("19.99 EUR"), tab-separated,
    UTF-8; ids a spreadsheet would run as a formula get a leading apostrophe (feed_cells.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows((escape_cell(u.sku), f"{u.price:f} {u.currency}") for u in updates)
    return buffer.getvalue().encode("utf-8")


class LetzshopPriceFile(PriceChannel):
    """Writes the price file and delivers it."""

    snapshot = True  # a fixed name: each file replaces the last, so it carries every listing

    def __init__(self, target: DeliveryTarget, *, store: str, filename: str = DEFAULT_FILENAME):
        self.target = target
        self.store = store
        self.filename = filename

    def push(self, updates: Sequence[PriceUpdate], *, idempotency_key: str, sync_id: int = 0) -> PriceOutcome:
        try:
            delivery = deliver_file(self.target, self.filename.format(store=self.store, sync_id=sync_id),
                                    price_file(updates), idempotency_key=idempotency_key,
                                    content_type="text/tab-separated-values; charset=utf-8")
        except DeliveryError as exc:
            raise PricePushError(f"price file not delivered: {exc}", retryable=exc.retryable) from None
        return PriceOutcome([PriceAnswer(u.sku, "delivered") for u in updates], delivered_to=delivery.location)


def adapter(conn: Connection, settings: PriceSettings, vault: CredentialVault, clients) -> LetzshopPriceFile:
    """The price file adapter of a store's Letzshop account: where from the rule, else the product file's
    place; secrets from the account's credentials, as for the inventory file."""
    account = get_account_by_id(conn, settings.account_id)
    catalog_export = (account.settings or {}).get(CATALOG_EXPORT) or {}
    delivery: dict[str, Any] = dict(settings.delivery) if settings.delivery.get("location") else {
        k: v for k, v in catalog_export.items() if k in ("location", "username", "host_key", "known_hosts", "timeout")}
    if not delivery.get("location"):
        raise MarketsyncError(f"no place to deliver {settings.store}'s Letzshop price file: "
                              f"`marketsync prices rules {settings.store} letzshop --location URL`, or set the "
                              f"product file's `{CATALOG_EXPORT}.location`")
    try:
        secrets: Any = vault.load(conn, settings.account_id) or NoSecrets()
    except VaultError:
        secrets = NoSecrets()
    stock_like = StockSettings(account_id=settings.account_id, store_id=settings.store_id, store=settings.store,
                               channel=settings.channel, delivery=delivery)
    return LetzshopPriceFile(delivery_target(stock_like, secrets), store=settings.store,
                             filename=delivery.get("filename", DEFAULT_FILENAME))
