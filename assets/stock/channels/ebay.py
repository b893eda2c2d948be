"""eBay's stock adapter: absolute ship-to-home quantities through bulkUpdatePriceQuantity (25 SKUs a
call, per-SKU results in a 207 answer) and the channel's own quantities for the drift check
(bulkGetInventoryItem). A per-SKU failure eBay calls transient stays unanswered, so the next delta push
sends it again; a refusal is the listing's answer, with eBay's errorId and message."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from resources.ebay import EbayApi, EbayError


class EbayInventoryStock(StockChannel):
    name = "ebay_inventory"

    def __init__(self, session: Callable[[], EbayApi], where: str):
        self.session = session
        self.where = where

    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        try:
            with self.session() as api:
                results = api.bulk_update_quantities((u.sku, None, u.quantity) for u in updates)
        except EbayError as exc:
            raise ChannelPushError(f"eBay refused the quantity update: {exc}", retryable=exc.retryable) from None
        answers = [StockAnswer(r.sku, "accepted") if r.ok else StockAnswer(r.sku, "rejected", r.message)
                   for r in results if r.ok or not r.retryable]
        return PushOutcome(answers, delivered_to=self.where)

    def read_stock(self, skus: Sequence[str]) -> dict[str, int]:
        try:
            with self.session() as api:
                return api.inventory_quantities(skus)
        except EbayError as exc:
            raise ChannelPushError(f"could not read eBay's quantities: {exc}", retryable=exc.retryable) from None
