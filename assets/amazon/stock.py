"""Amazon's stock adapter: a few listings by patchListingsItem, many by one JSON_LISTINGS_FEED (the
client splits feeds at 25,000 messages and parses each processing report into per-SKU results). A
listing the report does not account for stays unanswered and goes again with the next delta push. The
drift check reads each listing's quantity back (getListingsItem)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.stock.channels import required_client
from marketsync.assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApi
from marketsync.resources.vault import CredentialVault

PATCH_AT_MOST = 20  # above this many listings, one feed costs fewer calls than a patch per listing


class AmazonListingsStock(StockChannel):
    name = "amazon_listings"

    def __init__(self, session: Callable[[], AmazonSpApi], where: str, patch_at_most: int = PATCH_AT_MOST):
        self.session = session
        self.where = where
        self.patch_at_most = patch_at_most

    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        try:
            with self.session() as api:
                if len(updates) <= self.patch_at_most:
                    answers = []
                    for update in updates:
                        result = api.patch_listing_quantity(update.sku, update.quantity)
                        answers.append(StockAnswer(update.sku, "accepted") if result.accepted else
                                       StockAnswer(update.sku, "rejected", "; ".join(result.issues) or result.status))
                    return PushOutcome(answers, delivered_to=f"{self.where} (listings API)")
                results = api.submit_quantities_feed([(u.sku, u.quantity) for u in updates])
        except AmazonError as exc:
            raise ChannelPushError(f"Amazon refused the quantity update: {exc}", retryable=exc.retryable) from None
        answers = [StockAnswer(r.sku, "accepted") if r.status == "accepted" else
                   StockAnswer(r.sku, "rejected", "; ".join(r.messages) or "rejected")
                   for r in results if r.status in ("accepted", "rejected")]
        feeds = sorted({r.feed_id for r in results})
        return PushOutcome(answers, delivered_to=f"{self.where} (feed {', '.join(feeds)})")

    def read_stock(self, skus: Sequence[str]) -> dict[str, int]:
        try:
            with self.session() as api:
                found = {sku: api.listing_quantity(sku) for sku in skus}
        except AmazonError as exc:
            raise ChannelPushError(f"could not read Amazon's quantities: {exc}", retryable=exc.retryable) from None
        return {sku: quantity for sku, quantity in found.items() if quantity is not None}


def adapter(conn: Connection, settings: StockSettings, vault: CredentialVault, clients) -> AmazonListingsStock:
    """The stock adapter of a store's Amazon account, through the installation's Amazon application."""
    client = required_client(clients, settings, "Amazon")
    engine = conn.engine
    return AmazonListingsStock(lambda: amazon_session(client, engine, vault, settings.account_id),
                 where=f"Amazon listings of {settings.store}")
