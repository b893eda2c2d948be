"""The channels marketsync knows, each declared once in its own package.

A channel (a marketplace, a supplier, the fulfilment network, a sheet, a feed) declares itself in
`assets/<package>/channel.py` with `register(Channel(...))`: its name (the `ops.accounts.channel`
value), what a new account starts with, its API resource (or the application OAuth client it needs),
its Dagster definitions, the partitions of its accounts, its order import, its stock and price adapters, how its
outbound writes are sent, and how the CLI tests its connection. Every registry is built from these
declarations (the account kinds and defaults and the database's list of them, the application
clients, the code location's assets and resources, the order jobs and partitions, the stock adapters,
the outbound runner's handlers and the drain job's pools, `test-connection` and `sync orders`), so a
new channel is a new package, not an edit of each registry.

Declarations are discovered on first use by importing every `assets.<package>.channel` module, and
every module a distribution names under the entry-point group `marketsync.channels` (a channel package
of its own, installed beside marketsync: `[project.entry-points."marketsync.channels"]
myshop = "myshop_channel.channel"`). This module imports no channel itself, so any layer of the domain
may ask it (the layers stay one way). A declaration is plain data: what would load Dagster or an HTTP
client (the resource, the definitions, the outbound handlers) is named as "module:attribute" and
imported only when used, so a read-only command that only asks which channels exist stays fast.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketsync.resources.errors import MarketsyncError

# (warehouse, vault, the channel's client: its application resource, or the LetzshopResource; account)
# -> a context manager yielding the channel's outbound handlers by operation name (assets/outbound_queue.py).
OutboundOpener = Callable[[Any, Any, Any, Any], AbstractContextManager[dict]]


def load(reference: str) -> Any:
    """The object a "module:attribute" reference names."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ApplicationClient:
    """The OAuth application registered once per installation with the channel (never per store): the
    environment variables holding its id and secret, and the Dagster resource that talks to the channel
    given them: `resource` names a callable, `resource(client_id=..., client_secret=...)`."""

    id_variable: str
    secret_variable: str
    resource: str

    @property
    def variables(self) -> tuple[str, str]:
        return self.id_variable, self.secret_variable


@dataclass(frozen=True)
class Outbound:
    """How the channel's queued writes go out: `open` names an OutboundOpener; `pool` is the Dagster pool
    its drain step takes (the channel's API concurrency); `client` is the resource key the opener is
    given (the channel's own name by default)."""

    open: str
    pool: str
    client: str | None = None

    def opener(self) -> OutboundOpener:
        return load(self.open)


@dataclass(frozen=True)
class Orders:
    """The channel's order import, one partition per store account. `asset`: the key path of its
    canonical orders asset; `assets`: "module:attribute" of the list of its order assets (the import and
    its follow-ups, what `sync orders` runs); `imported`: what an import brings, as job descriptions
    word it; `confirms`:
    its orders wait for the merchant's confirmation (the auto-confirm rule applies); `import_asset`:
    "module:attribute" of the asset the import job selects when the orders asset comes with others (a
    multi-asset); `states`: "module:attribute" of a function turning the shipment states a person asks
    for (`sync orders --state`) into the import's run config, for a channel that imports by state.
    `digital_delivered`: "module:function" `(conn, order_id) -> str` telling the channel that a fully
    digital order reached its buyer (queuing what the channel documents for it, or saying that it
    documents nothing), in the caller's transaction; returns what it did. `reconcile`: "module:function"
    `(warehouse, vault, client, account, start, end) -> Iterable[ChannelOrder]` listing, with the
    channel's cheapest listing call, the orders of the account created in [start, end) (UTC datetimes)
    as the channel reports them now: each its id as core.orders.channel_shipment_id holds it, its number,
    units and total (None where the listing carries none); `client` is the channel's API resource
    (assets/operations/reconcile.py compares them with the warehouse). `pushed`: the channel pushes its
    orders to us (the storefront's order API) rather than being polled, so the import is not run on the
    account's sync interval but once a day, as a catch-up of what the API received. `import_store`:
    "module:function" `(warehouse, vault, client, store, run_id, triggered_by) -> {AssetKey: metadata}`,
    the store's whole import as its import asset runs it (sync log, cursor, the account marked synced);
    a channel that declares it is polled in fleets, many stores per run (sensors/fleet.py)."""

    asset: tuple[str, ...]
    assets: str
    imported: str
    confirms: bool = False
    import_asset: str | None = None
    states: str | None = None
    digital_delivered: str | None = None
    reconcile: str | None = None
    pushed: bool = False
    import_store: str | None = None


@dataclass(frozen=True)
class Stock:
    """How stock goes out to the channel: `adapters` maps an adapter's name (what `ops.stock_settings`
    holds) to "module:function" building it, `(conn, settings, vault, clients) -> StockChannel`; the
    first is a new store channel's default. `listings`: which products a new store channel lists,
    "catalog" (the store's catalog) or "known" (what the merchant listed there, known from sales,
    acknowledgements and rules)."""

    adapters: Mapping[str, str]
    listings: str = "catalog"

    @property
    def default_adapter(self) -> str:
        return next(iter(self.adapters))


@dataclass(frozen=True)
class Prices:
    """How prices go out to the channel: `adapter` is "module:function" building its price adapter,
    `(conn, settings, vault, clients) -> PriceChannel` (assets/prices/channels.py). `listings`: which
    products get a price, "catalog" (the store's catalog) or "known" (the listings the channel already
    has: an acknowledged stock number or price there)."""

    adapter: str
    listings: str = "catalog"


@dataclass(frozen=True)
class Channel:
    """One channel as marketsync sees it. `name` is what `ops.accounts.channel` holds and what commands
    take; `label` is how messages name it."""

    name: str
    label: str
    account_defaults: Mapping[str, Any] = field(default_factory=dict)  # {"endpoint": ..., "settings": {...}}
    # Its API resource: `application_client` for a channel reached through an OAuth application
    # registered once per installation; else `resource`, "module:attribute" of a callable taking no
    # arguments. Either is the code location's resource under `resource_key` (the name by default).
    application_client: ApplicationClient | None = None
    resource: str | None = None
    resource_key: str | None = None
    # "module:attribute" of a dagster.Definitions with its assets, checks, jobs and schedules.
    definitions: str | None = None
    # "module:attribute" of the DynamicPartitionsDefinition with one partition per enabled, configured
    # account (kept by the partitions sensor).
    partitions: str | None = None
    orders: Orders | None = None
    # Key paths of the assets the channel adds to a store's stock and catalog, which matching and the
    # stock computation read: its catalog (products it supplies or lists), its stock levels (a fulfiller's).
    catalog: tuple[str, ...] | None = None
    stock_levels: tuple[str, ...] | None = None
    stock: Stock | None = None
    # How the daily price push reaches the channel (`marketsync prices push`); None: no prices go out.
    prices: Prices | None = None
    outbound: Outbound | None = None
    # "module:function" `(conn, order_id) -> None`: queues the delivery of an order's digital keys to its
    # buyer (the e-mail channel declares it); queuing an order twice is a no-op.
    key_delivery: str | None = None
    # "module:function" `(warehouse, vault, client, store) -> str`: one cheap authorised call with the
    # store's stored credentials; returns what `test-connection` prints after the time (the endpoint).
    connection_test: str | None = None

    @property
    def key(self) -> str:
        """The code location's resource key of the channel's API resource."""
        return self.resource_key or self.name


# Installed channel packages name their declaration module under this entry-point group.
ENTRY_POINT_GROUP = "marketsync.channels"
_REGISTERED: dict[str, Channel] = {}
_DISCOVERED = False
_LOCK = threading.RLock()


def register(channel: Channel) -> Channel:
    """Declare a channel (once per name; declaring the same name again replaces it, as a reload does)."""
    with _LOCK:
        _REGISTERED[channel.name] = channel
    return channel


def unregister(name: str) -> None:
    """Forget a channel (a test's fake channel, when the test ends)."""
    with _LOCK:
        _REGISTERED.pop(name, None)


def channels() -> dict[str, Channel]:
    """Every declared channel by name, in name order (whatever order the packages were imported in)."""
    _discover()
    return dict(sorted(_REGISTERED.items()))


def declared(name: str) -> Channel | None:
    """The channel `name`, or None when no package declares it."""
    _discover()
    return _REGISTERED.get(name)


def channel(name: str) -> Channel:
    """The channel `name`, or a worded error listing the known ones."""
    found = channels().get(name)
    if found is None:
        raise MarketsyncError(f"unknown channel '{name}' (known: {', '.join(channels())})")
    return found


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    with _LOCK:
        if _DISCOVERED:
            return
        for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
            if not module.ispkg:
                continue
            name = f"{__package__}.{module.name}.channel"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # the declaration exists but something it needs is missing
                    raise
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            entry.load()  # the module registers its channel when imported
        _DISCOVERED = True
