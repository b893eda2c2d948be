"""The one interface every channel's stock adapter implements (Letzshop, Amazon, eBay).

An adapter is told absolute quantities per SKU and answers per SKU: accepted (the channel confirmed it),
delivered (the file reached the channel, which gives no per-row answer), or rejected (with the
channel's reason). A SKU the answer does not mention is unanswered: it stays unacknowledged and the next
delta push sends it again. An adapter that can read the channel's stock enables the drift check.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

# The answers every pushing channel gives (assets/channel_push.py), under the names the stock code knows.
from marketsync.assets.channel_push import ANSWERS, ChannelPushError, PushOutcome
from marketsync.assets.channel_push import ListingAnswer as StockAnswer


@dataclass(frozen=True, slots=True)  # a full resync holds a million of these
class StockUpdate:
    sku: str
    quantity: int


__all__ = ["ANSWERS", "ChannelPushError", "PushOutcome", "StockAnswer", "StockChannel", "StockUpdate"]


class StockChannel(ABC):
    """A channel's stock interface."""

    #: the adapter's name in ops.stock_settings.adapter
    name: str = ""
    #: True when a delivery replaces the one before it before the channel has surely read that one (a
    #: file under a fixed name): then every push hands over every listing the channel holds.
    snapshot: bool = False

    @abstractmethod
    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        """Send absolute quantities; the same key with the same updates must not apply twice. `sync_id`
        is the inventory sync this push belongs to (for file names and references)."""

    def read_stock(self, skus: Sequence[str]) -> dict[str, int] | None:
        """The channel's current quantities for `skus` (missing SKUs omitted), or None when the channel
        offers no way to read stock (then there is no drift check)."""
        return None
