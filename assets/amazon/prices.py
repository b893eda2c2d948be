"""Amazon's price adapter: a few listings by patchListingsItem of `purchasable_offer`, many by one
JSON_LISTINGS_FEED of the same patches (the client splits feeds at 25,000 messages and reads each
processing report into per-SKU results), like the stock adapter. A listing the report does not account
for stays unanswered and goes again with the next delta push. Each patch sets an absolute price, so a
retry cannot apply anything twice; a patch whose outcome stays unknown after the client's retries is
looked up (getListingsItem) before the next push sends it again."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.prices.channels import (
    PriceAnswer,
    PriceChannel,
    PriceOutcome,
    PricePushError,
    PriceUpdate,
    required_client,
)
from marketsync.assets.prices.settings import PriceSettings
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApi
from marketsync.resources.vault import CredentialVault

PATCH_AT_MOST = 20  # above this many listings, one feed costs fewer calls than a patch per listing


class AmazonListingsPrices(PriceChannel):
    def __init__(self, session: Callable[[], AmazonSpApi], where: str, patch_at_most: int = PATCH_AT_MOST):
        self.session = session
        self.where = where
        self.patch_at_most = patch_at_most

    def push(self, updates: Sequence[PriceUpdate], *, idempotency_key: str, sync_id: int = 0) -> PriceOutcome:
        try:
            with self.session() as api:
                if len(updates) <= self.patch_at_most:
                    answers = []
                    for update in updates:
                        answer = self._patch(api, update)
                        if answer is not None:
                            answers.append(answer)
                    return PriceOutcome(answers, delivered_to=f"{self.where} (listings API)")
                results = api.submit_prices_feed((u.sku, u.price, u.currency) for u in updates)
        except AmazonError as exc:
            raise PricePushError(f"Amazon refused the price update: {exc}", retryable=exc.retryable) from None
        answers = [PriceAnswer(r.sku, "accepted") if r.status == "accepted" else
                   PriceAnswer(r.sku, "rejected", "; ".join(r.messages) or "rejected")
                   for r in results if r.status in ("accepted", "rejected")]
        feeds = sorted({r.feed_id for r in results})
        return PriceOutcome(answers, delivered_to=f"{self.where} (feed {', '.join(feeds)})")


    @staticmethod
    def _patch(api: AmazonSpApi, update: PriceUpdate) -> PriceAnswer | None:
        """One listing's patch; when its outcome is unknown (no answer after the client's retries), the
        listing is read back first: the price is there (accepted) or not (None: unanswered, sent again by
        the next push). A refusal a retry cannot fix fails the push."""
        try:
            result = api.patch_listing_price(update.sku, update.price, update.currency)
        except AmazonError as exc:
            if not exc.retryable:
                raise
            try:
                shown = api.listing_price(update.sku)
            except AmazonError:
                return None
            return PriceAnswer(update.sku, "accepted", "read back after an unanswered patch") \
                if shown == update.price else None
        if result.accepted:
            return PriceAnswer(update.sku, "accepted")
        return PriceAnswer(update.sku, "rejected", "; ".join(result.issues) or result.status)


def adapter(conn: Connection, settings: PriceSettings, vault: CredentialVault, clients) -> AmazonListingsPrices:
    """The price adapter of a store's Amazon account, through the installation's Amazon application."""
    client = required_client(clients, settings, "Amazon")
    engine = conn.engine
    return AmazonListingsPrices(lambda: amazon_session(client, engine, vault, settings.account_id),
                                where=f"Amazon listings of {settings.store}")
