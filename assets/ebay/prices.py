"""eBay's price adapter. eBay prices offers, not inventory items: a push sets each SKU's published offers'
price with bulkUpdatePriceQuantity (price only, quantities untouched; the offers read with getOffers),
25 SKUs a call. A listing counts as acknowledged only when every one of its offers took the price; a SKU
with no published offer is rejected saying so; a per-SKU failure eBay calls transient stays unanswered,
so the next delta push sends it again. Prices are absolute: a retried call cannot apply twice."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.prices.channels import (
    PriceAnswer,
    PriceChannel,
    PriceOutcome,
    PricePushError,
    PriceUpdate,
    required_client,
)
from marketsync.assets.prices.settings import PriceSettings
from marketsync.resources.ebay import EbayApi, EbayError
from marketsync.resources.vault import CredentialVault

PUBLISHED = "PUBLISHED"  # bulkUpdatePriceQuantity updates published offers only


class EbayOfferPrices(PriceChannel):
    def __init__(self, session: Callable[[], EbayApi], where: str):
        self.session = session
        self.where = where

    def push(self, updates: Sequence[PriceUpdate], *, idempotency_key: str, sync_id: int = 0) -> PriceOutcome:
        try:
            with self.session() as api:
                offers = {u.sku: [str(o["offerId"]) for o in api.offers(u.sku)
                                  if o.get("status") == PUBLISHED and o.get("offerId")] for u in updates}
                results = api.bulk_update_prices((u.sku, offers[u.sku], u.price, u.currency) for u in updates)
        except EbayError as exc:
            raise PricePushError(f"eBay refused the price update: {exc}", retryable=exc.retryable) from None
        answers = [PriceAnswer(r.sku, "accepted") if r.ok else PriceAnswer(r.sku, "rejected", r.message)
                   for r in results if r.ok or not r.retryable]
        return PriceOutcome(answers, delivered_to=self.where)


def adapter(conn: Connection, settings: PriceSettings, vault: CredentialVault, clients) -> EbayOfferPrices:
    """The price adapter of a store's eBay account, through the installation's eBay application."""
    client = required_client(clients, settings, "eBay")
    engine = conn.engine
    return EbayOfferPrices(lambda: ebay_session(client, engine, vault, settings.account_id),
                           where=f"eBay offers of {settings.store}")
