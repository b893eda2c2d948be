"""The one interface every channel's price adapter implements, and the dispatch to the adapter a channel
declares (`Prices.adapter` in assets/<channel>/channel.py); the adapters live in the channel packages.

An adapter is told absolute prices per SKU and answers per SKU: accepted (the channel confirmed it),
delivered (a file reached the channel, which gives no per-row answer), or rejected (with the channel's
reason). A SKU the answer does not mention is unanswered: its price stays unacknowledged and the next
delta push sends it again.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from marketsync.assets.channel_clients import required_client as channel_client

# The answers every pushing channel gives (assets/channel_push.py), under the names the price code knows.
from marketsync.assets.channel_push import ChannelPushError as PricePushError
from marketsync.assets.channel_push import ListingAnswer as PriceAnswer
from marketsync.assets.channel_push import PushOutcome as PriceOutcome
from marketsync.assets.channel_registry import declared, load
from marketsync.assets.prices.settings import PriceSettings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault

__all__ = ["PriceAnswer", "PriceChannel", "PriceOutcome", "PricePushError", "PriceUpdate", "build_adapter",
           "required_client"]



@dataclass(frozen=True, slots=True)  # a full push holds a million of these
class PriceUpdate:
    sku: str
    price: Decimal  # two decimals, never below the rule's floor
    currency: str



class PriceChannel(ABC):
    """A channel's price interface."""

    #: True when a delivery replaces the one before it (a file under a fixed name): then every push hands
    #: over every listing the channel holds, the unchanged ones at their acknowledged price.
    snapshot: bool = False

    @abstractmethod
    def push(self, updates: Sequence[PriceUpdate], *, idempotency_key: str, sync_id: int = 0) -> PriceOutcome:
        """Send absolute prices; the same key with the same updates must not apply twice."""


def build_adapter(conn: Connection, settings: PriceSettings, vault: CredentialVault,
                  clients: Mapping[str, object] | None = None) -> PriceChannel:
    """The price adapter the store channel's channel declares."""
    declaration = declared(settings.channel)
    if declaration is None or declaration.prices is None:
        raise MarketsyncError(f"{settings.channel} takes no prices from marketsync")
    adapter: PriceChannel = load(declaration.prices.adapter)(conn, settings, vault, clients or {})
    return adapter


def required_client(clients: Mapping[str, object], settings: PriceSettings, label: str) -> object:
    """The channel's API resource among `clients`, or a worded error naming the variables to set."""
    return channel_client(clients, settings.channel, label, f"the {label} price adapter")
