"""eBay's price adapter. eBay prices offers, not inventory items: a push sets each SKU's published offers'
price with bulkUpdatePriceQuantity (price only, quantities untouched; the offers read with getOffers),
25 SKUs a call. A listing counts as acknowledged only when every one of its offers took the price; a SKU
with no published offer is rejected saying so; a per-SKU failure eBay calls transient stays unanswered,
so the next delta push sends it again. Prices are absolute: a retried call cannot apply twice; a call
whose outcome stays unknown after the client's retries is looked up (getOffers) before anything is
sent again."""
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
                try:
                    results = api.bulk_update_prices((u.sku, offers[u.sku], u.price, u.currency) for u in updates)
                except EbayError as exc:
                    if not exc.retryable:
                        raise
                    # The outcome is unknown (no answer after the client's retries): look before sending
                    # again. What carries the price already is acknowledged; the rest stays unanswered.
                    return PriceOutcome(self._read_back(api, updates), delivered_to=self.where)
        except EbayError as exc:
            raise PricePushError(f"eBay refused the price update: {exc}", retryable=exc.retryable) from None
        answers = [PriceAnswer(r.sku, "accepted") if r.ok else PriceAnswer(r.sku, "rejected", r.message)
                   for r in results if r.ok or not r.retryable]
        return PriceOutcome(answers, delivered_to=self.where)


    @staticmethod
    def _read_back(api: EbayApi, updates: Sequence[PriceUpdate]) -> list[PriceAnswer]:
        answers = []
        for update in updates:
            try:
                published = [o for o in api.offers(update.sku) if o.get("status") == PUBLISHED]
            except EbayError:
                continue
            prices = {str(((o.get("pricingSummary") or {}).get("price") or {}).get("value")) for o in published}
            if published and prices == {f"{update.price:f}"}:
                answers.append(PriceAnswer(update.sku, "accepted", "read back after an unanswered update"))
        return answers


def adapter(conn: Connection, settings: PriceSettings, vault: CredentialVault, clients) -> EbayOfferPrices:
    """The price adapter of a store's eBay account, through the installation's eBay application."""
    client = required_client(clients, settings, "eBay")
    engine = conn.engine
    return EbayOfferPrices(lambda: ebay_session(client, engine, vault, settings.account_id),
                           where=f"eBay offers of {settings.store}")
