"""The channels marketsync knows, each declared once in its own package.

A channel (a marketplace, a supplier, the fulfilment network, a sheet, a feed) declares itself in
`assets/<package>/channel.py` with `register(Channel(...))`: its name (the `ops.accounts.channel`
value), what a new account starts with, the application OAuth client it needs, and how its outbound
writes are sent. The registries built from these declarations (the account kinds and defaults, the
application clients, the outbound runner's handlers, the drain job's pools) find every channel here,
so a new channel is a new package, not an edit of each registry.

Declarations are discovered on first use by importing every `assets.<package>.channel` module. This
module imports no channel itself, so any layer of the domain may ask it (the layers stay one way). A
declaration is plain data: what would load Dagster or an HTTP client (the resource, the outbound
handlers) is named as "module:attribute" and imported only when used, so a read-only command that only
asks which channels exist stays fast.
"""
from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resources.errors import MarketsyncError

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
class Channel:
    """One channel as marketsync sees it. `name` is what `ops.accounts.channel` holds and what commands
    take; `label` is how messages name it."""

    name: str
    label: str
    account_defaults: Mapping[str, Any] = field(default_factory=dict)  # {"endpoint": ..., "settings": {...}}
    application_client: ApplicationClient | None = None
    outbound: Outbound | None = None


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
            name = f"assets.{module.name}.channel"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # the declaration exists but something it needs is missing
                    raise
        _DISCOVERED = True
