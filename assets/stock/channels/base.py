"""The one interface every channel's stock adapter implements (Letzshop, Amazon, eBay).

An adapter is told absolute quantities per SKU and answers per SKU: accepted (the channel confirmed it),
delivered (the file reached the channel, which gives no per-row answer), or rejected (with the
channel's reason). A SKU the answer does not mention is unanswered: it stays unacknowledged and the next
delta push sends it again. An adapter that can read the channel's stock enables the drift check.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from marketsync.resources.errors import MarketsyncError

ANSWERS = ("accepted", "delivered", "rejected")


@dataclass(frozen=True, slots=True)  # a full resync holds a million of these
class StockUpdate:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockAnswer:
    sku: str
    answer: str
    message: str | None = None

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"stock answer must be one of {ANSWERS}, not {self.answer!r}")


@dataclass
class PushOutcome:
    answers: list[StockAnswer] = field(default_factory=list)
    delivered_to: str | None = None


class ChannelPushError(MarketsyncError):
    """The push as a whole did not reach the channel (nothing is acknowledged). `retryable` says whether
    trying again later can help (network, 5xx) or a person must act (credentials, configuration)."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


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
