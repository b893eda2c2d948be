"""The application clients (OAuth apps registered once per integration) a channel needs before any of
its accounts can work, read from the environment. Which channels need one, and the variables holding it,
each channel declares (assets/<channel>/channel.py: Amazon, eBay and JTL-FFN; Letzshop needs none, an
account's own API key is enough).

Used by the partitions sensor (an account is automated only once its channel's client is configured),
by the code location's resources, and by the outbound runner when a caller (the CLI, the demo) passes
no client of its own.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import NoResultFound

from marketsync.assets.accounts import Account, get_account, get_account_by_id
from marketsync.assets.channel_registry import ApplicationClient, Channel, channels, declared, load
from marketsync.resources.credentials import VaultError
from marketsync.resources.errors import MarketsyncError


def client_variables() -> dict[str, tuple[str, str]]:
    """channel -> the environment variables holding its application client's id and secret."""
    return {name: c.application_client.variables for name, c in channels().items() if c.application_client}


def _declared(channel: str) -> ApplicationClient | None:
    declaration = declared(channel)
    return declaration.application_client if declaration else None


def client_configured(channel: str) -> bool:
    """Whether the channel's application client is set (always true for a channel that needs none)."""
    app = _declared(channel)
    return app is None or all(os.environ.get(name) for name in app.variables)


def missing_client(channel: str) -> str | None:
    """A worded reason when the channel's client is not configured, else None."""
    return None if client_configured(channel) else not_configured(channel)


def not_configured(channel: str) -> str:
    """What to set for the channel's application client, worded for the person who must set it."""
    app = _declared(channel)
    if app is None:
        return f"{channel} needs no application client"
    return f"no {channel} application client configured: set {app.id_variable} and {app.secret_variable}"


def required_client(clients: Any, channel: str, label: str, what: str) -> Any:
    """The channel's API resource among `clients` (by channel name), or a worded error saying that `what`
    needs it and which variables hold its application client."""
    client = clients.get(channel)
    if client is None:
        app = _declared(channel)
        needs = f" ({', '.join(app.variables)})" if app else ""
        raise MarketsyncError(f"{what} needs the {label} resource{needs}")
    return client


def application_client(channel: str, *, deferred: bool = True):
    """The channel's API resource with its application client. `deferred` (the code location): the id and
    secret are EnvVars, read by Dagster at run time and never shown in the UI; otherwise their values
    now (a process outside Dagster, the CLI or the demo). Not configured: an empty client whose sessions
    fail at once, naming the variables to set."""
    # Dagster is loaded only here: a read-only command that never builds a resource does not pay for it.
    from dagster import EnvVar

    app = _declared(channel)
    if app is None:
        raise ValueError(f"{channel} declares no application client")
    if not client_configured(channel):
        credentials = {"client_id": "", "client_secret": ""}
    elif deferred:
        credentials = {"client_id": EnvVar(app.id_variable), "client_secret": EnvVar(app.secret_variable)}
    else:
        credentials = {"client_id": os.environ[app.id_variable], "client_secret": os.environ[app.secret_variable]}
    return load(app.resource)(**credentials)


def client_from_env(channel: str):
    """The channel's API resource with its client's values from the environment, or None when its
    client is not configured (or the channel needs none)."""
    if _declared(channel) is None or not client_configured(channel):
        return None
    return application_client(channel, deferred=False)


def channel_resources() -> dict:
    """The code location's API resource of every channel that declares one, by its resource key: an
    application client's id and secret as EnvVars (read at run time), else the declared resource."""
    return {c.key: resource for c in channels().values() if (resource := channel_resource(c)) is not None}


def channel_resource(channel: Channel):
    """The channel's API resource for the code location, or None when it declares none."""
    if channel.application_client is not None:
        return application_client(channel.name)
    return load(channel.resource)() if channel.resource else None


# ------------------------------------------------------------------ sellers' accounts on such channels
def seller_credentials(conn_or_engine: Connection | Engine, vault, account: Account | int, channel: str,
                       error: Callable[[str, str], Exception], token: str, authorise: str) -> tuple[Account, str]:
    """The `channel` account (an Account, or its id) and the seller's refresh token from the vault, for a
    channel reached through the installation's application client. `error(message, kind)` is the channel
    client's own error; `token` names the token ("LWA"), `authorise` where a seller authorises marketsync
    ("in Seller Central")."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return seller_credentials(conn, vault, account, channel, error, token, authorise)
    declaration = declared(channel)
    label = declaration.label if declaration else channel
    if isinstance(account, int):
        try:
            account = get_account_by_id(conn_or_engine, account)
        except NoResultFound:
            raise error(f"account {account} is not an {label} account", "rejected") from None
    if account.channel != channel:
        raise error(f"account {account.account_id} is not an {label} account", "rejected")
    try:
        return account, vault.load(conn_or_engine, account.account_id).reveal("refresh_token")
    except VaultError:
        raise error(f"no {token} refresh token is stored for account {account.account_id}: authorise marketsync "
                    f"{authorise} and store it (`marketsync credentials set STORE {channel}`)", "reauthorize") from None


def check_seller_connection(channel: str, warehouse, vault, client, store: str,
                            open_session: Callable[..., AbstractContextManager[Any]],
                            first_page: Callable[[Any], Iterable[Any]]) -> str:
    """`marketsync test-connection` for a channel reached through the installation's application client:
    the token exchange and one authorised read (`first_page(api)`, of which one item is taken) with the
    store's seller token; returns where it answered from."""
    if not getattr(client, "client_id", None) or not getattr(client, "client_secret", None):
        raise MarketsyncError(not_configured(channel))
    with warehouse.begin() as conn:
        account = get_account(conn, store, channel)
    with open_session(client, warehouse.engine, vault, account) as api:
        next(iter(first_page(api)), None)
    return f" ({account.endpoint or 'production endpoint'})"
