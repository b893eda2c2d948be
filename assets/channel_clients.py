"""The application clients (OAuth apps registered once per integration) a channel needs before any of
its accounts can work, read from the environment. Amazon, eBay and JTL-FFN need one; Letzshop does not
(an account's own API key is enough).

Used by the partitions sensor (an account is automated only once its channel's client is configured)
and by the outbound runner when a caller (the CLI, the demo) passes no client of its own.
"""
from __future__ import annotations

import os

# channel -> the environment variables holding its application client's id and secret
CLIENT_ENV: dict[str, tuple[str, str]] = {
    "amazon": ("AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET"),
    "ebay": ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"),
    "jtl_ffn": ("JTL_FFN_CLIENT_ID", "JTL_FFN_CLIENT_SECRET"),
}


def client_configured(channel: str) -> bool:
    """Whether the channel's application client is set (always true for a channel that needs none)."""
    names = CLIENT_ENV.get(channel)
    return names is None or all(os.environ.get(name) for name in names)


def missing_client(channel: str) -> str | None:
    """A worded reason when the channel's client is not configured, else None."""
    if client_configured(channel):
        return None
    client_id, secret = CLIENT_ENV[channel]
    return f"no {channel} application client configured: set {client_id} and {secret}"


def application_client(channel: str, *, deferred: bool = True):
    """The channel's API resource with its application client. `deferred` (the code location): the id and
    secret are EnvVars, read by Dagster at run time and never shown in the UI; otherwise their values
    now (a process outside Dagster, the CLI or the demo). Not configured: an empty client whose sessions
    fail at once, naming the variables to set."""
    from dagster import EnvVar

    client_id_var, secret_var = CLIENT_ENV[channel]
    if not client_configured(channel):
        credentials = {"client_id": "", "client_secret": ""}
    elif deferred:
        credentials = {"client_id": EnvVar(client_id_var), "client_secret": EnvVar(secret_var)}
    else:
        credentials = {"client_id": os.environ[client_id_var], "client_secret": os.environ[secret_var]}
    if channel == "ebay":
        from resources.ebay import EbayResource

        return EbayResource(**credentials)
    if channel == "amazon":
        from resources.amazon_sp_api import AmazonSpApiResource

        return AmazonSpApiResource(**credentials)
    from resources.jtl_ffn import TOKEN_URL, JtlFfnResource

    return JtlFfnResource(**credentials, token_url=os.environ.get("MARKETSYNC_FFN_TOKEN_URL") or TOKEN_URL)


def client_from_env(channel: str):
    """The channel's API resource with its client's values from the environment, or None when its
    client is not configured (or the channel needs none)."""
    if channel not in CLIENT_ENV or not client_configured(channel):
        return None
    return application_client(channel, deferred=False)
