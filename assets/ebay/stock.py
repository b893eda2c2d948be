"""eBay's stock adapter. eBay sells the lower of two numbers: the inventory item's ship-to-home quantity
and the published offer's availableQuantity. So a push sets both in one bulkUpdatePriceQuantity request
per SKU (shipToLocationAvailability plus an `offers` entry per published offer, read with getOffers),
25 SKUs a call, and a listing counts as acknowledged only when every part of it succeeded: what the
ledger records is what buyers can buy. A per-SKU failure eBay calls transient stays unanswered, so the
next delta push sends it again; a refusal (of the item or of one of its offers) is the listing's answer,
with eBay's errorId and message. The drift check reads the number buyers see: the ship-to-home quantity
(bulkGetInventoryItem, which does not carry offers) capped by each published offer's availableQuantity
(getOffers)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.stock.channels import required_client
from marketsync.assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.ebay import EbayApi, EbayError
from marketsync.resources.vault import CredentialVault

PUBLISHED = "PUBLISHED"  # bulkUpdatePriceQuantity updates published offers only (updateOffer the others)


def _published(offers: list[dict]) -> list[dict]:
    return [o for o in offers if o.get("status") == PUBLISHED and o.get("offerId")]


def buyers_see(ship_to_home: int, offers: list[dict]) -> int:
    """The quantity buyers can buy: the ship-to-home quantity, capped by every published offer's
    availableQuantity (an offer without one sells the ship-to-home quantity)."""
    caps = [o["availableQuantity"] for o in _published(offers) if isinstance(o.get("availableQuantity"), int)]
    return min([ship_to_home, *caps])


class EbayInventoryStock(StockChannel):
    name = "ebay_inventory"

    def __init__(self, session: Callable[[], EbayApi], where: str):
        self.session = session
        self.where = where

    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        try:
            with self.session() as api:
                offers = {u.sku: [str(o["offerId"]) for o in _published(api.offers(u.sku))] for u in updates}
                results = api.bulk_update_quantities((u.sku, offers[u.sku], u.quantity) for u in updates)
        except EbayError as exc:
            raise ChannelPushError(f"eBay refused the quantity update: {exc}", retryable=exc.retryable) from None
        answers = [StockAnswer(r.sku, "accepted") if r.ok else StockAnswer(r.sku, "rejected", r.message)
                   for r in results if r.ok or not r.retryable]
        return PushOutcome(answers, delivered_to=self.where)

    def read_stock(self, skus: Sequence[str]) -> dict[str, int]:
        try:
            with self.session() as api:
                ship = api.inventory_quantities(skus)
                return {sku: buyers_see(quantity, api.offers(sku)) for sku, quantity in ship.items()}
        except EbayError as exc:
            raise ChannelPushError(f"could not read eBay's quantities: {exc}", retryable=exc.retryable) from None


def adapter(conn: Connection, settings: StockSettings, vault: CredentialVault, clients) -> EbayInventoryStock:
    """The stock adapter of a store's eBay account, through the installation's eBay application."""
    client = required_client(clients, settings, "eBay")
    engine = conn.engine
    return EbayInventoryStock(lambda: ebay_session(client, engine, vault, settings.account_id),
                 where=f"eBay inventory of {settings.store}")
